"""Savings: what prompt caching saved, and what-if estimates (batch, flex, a cheaper model of the family).

Cache savings = cached tokens x (the full input rate - the cached rate) of the price in force at the
bucket's start, for text, audio and image input; exact integer picodollars, with the account's
discount applied as the pricer applies it. Prices only change at 00:00 UTC, so usage is summed in
SQL per (account, model, tier, context window, UTC day) and each group priced once: the work grows
with days and models, not with usage rows. The cache-write premium is not subtracted (see
docs/reconciliation.md). What-if figures are estimates: the same tokens at another price.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from monitor.pricing import PriceEntry, PriceTable, apply_discount, discount_factor, normalise_tier
from monitor.records import TOKEN_INDEX
from monitor.store import Ledger

DAY = 86_400
CACHED_PAIRS: tuple[tuple[str, str], ...] = (
    ("cached_input", "input"),
    ("cached_input_audio", "input_audio"),
    ("cached_input_image", "input_image"),
)
"""(cached kind, the full-price kind it would otherwise have been)."""
GROUP_DIMS: tuple[str, ...] = ("provider", "account", "project", "api_key", "user", "model")
"""Dimensions savings may be grouped by."""
_PRICE_KEY = ("service_tier", "batch", "context_window")


@dataclass(frozen=True, slots=True)
class SavingsRow:
    """Picodollars that cached tokens saved against the full input price, per (provider, account, model)."""

    provider: str
    account: str
    model: str
    saved_pico: int


@dataclass(frozen=True, slots=True)
class WhatIfRow:
    """One (account, project, model)'s cost and the same tokens at other prices (estimates, picodollars).

    An alternative is None where some of the tokens have no price there (the model has no flex tier,
    or no cheaper sibling). `unpriced_tokens` > 0 means the actual cost itself is incomplete.
    """

    provider: str
    account: str
    project: str
    model: str
    actual_pico: int
    batch_pico: int | None
    flex_pico: int | None
    cheaper_model: str | None
    cheaper_pico: int | None
    unpriced_tokens: int = 0


def _factors(discounts: Mapping[str, Decimal] | None) -> dict[str, Fraction]:
    return {account: discount_factor(p) for account, p in (discounts or {}).items() if p}


def _groups(
    ledger: Ledger, dims: Sequence[str], start: int | None, end: int | None, *, cached_only: bool
) -> Iterator[tuple[dict[str, Any], int, tuple[int, ...], int, int, int]]:
    """(dims and price key by name, UTC day start, tokens, cost_total, unit_cost, unpriced) per group."""
    unknown = [d for d in dims if d not in GROUP_DIMS]
    if unknown:
        raise ValueError(
            f"unknown dimension(s) {', '.join(unknown)}: expected some of {', '.join(GROUP_DIMS)}"
        )
    keys = list(dict.fromkeys(["provider", "account", "model", *dims, *_PRICE_KEY]))
    cached = [c for c, _ in CACHED_PAIRS] if cached_only else []
    return ledger.usage_per_utc_day(keys, start, end, with_tokens=cached)


def _entry(
    table: PriceTable, g: Mapping[str, Any], tier: str, day: int, model: str = ""
) -> PriceEntry | None:
    return table.price_for(g["provider"], model or g["model"], tier, g["context_window"], day)


def _tier(g: Mapping[str, Any]) -> str:
    return normalise_tier(g["provider"], g["service_tier"], bool(g["batch"]))


def _cost(tokens: tuple[int, ...], entry: PriceEntry | None, factor: Fraction | None) -> int | None:
    """The tokens at the entry's rates (discounted per token kind), None if some used kind has no price."""
    if entry is None:
        return None if any(tokens) else 0
    total = 0
    for count, rate in zip(tokens, entry.rates, strict=True):
        if count:
            if rate is None:
                return None
            cost = count * rate
            total += apply_discount(cost, factor) if factor is not None else cost
    return total


def _saved_groups(
    ledger: Ledger,
    table: PriceTable,
    dims: Sequence[str],
    start: int | None,
    end: int | None,
    *,
    factors: Mapping[str, Fraction],
) -> Iterator[tuple[tuple[Any, ...], int, int, tuple[int, ...]]]:
    """(dims values, UTC day start, picodollars saved, cached token counts per CACHED_PAIRS) per group
    with cached tokens. Tokens whose full or cached rate is unknown save nothing (they are unpriced
    in the ledger too), but are still counted."""
    for g, day, tokens, _, _, _ in _groups(ledger, dims, start, end, cached_only=True):
        counts = tuple(tokens[TOKEN_INDEX[cached]] for cached, _ in CACHED_PAIRS)
        entry = _entry(table, g, _tier(g), day)
        saved = 0
        if entry is not None:
            factor = factors.get(g["account"])
            for count, (cached, full) in zip(counts, CACHED_PAIRS, strict=True):
                full_rate, cached_rate = entry.rates[TOKEN_INDEX[full]], entry.rates[TOKEN_INDEX[cached]]
                if count and full_rate is not None and cached_rate is not None:
                    whole, part = count * full_rate, count * cached_rate
                    if factor is not None:
                        whole, part = apply_discount(whole, factor), apply_discount(part, factor)
                    saved += whole - part
        yield tuple(g[d] for d in dims), day, saved, counts


def savings_by(
    ledger: Ledger,
    table: PriceTable,
    dims: Sequence[str] = ("provider", "account", "model"),
    *,
    start: int | None = None,
    end: int | None = None,
    discounts: Mapping[str, Decimal] | None = None,
) -> dict[tuple[Any, ...], int]:
    """Cache savings in picodollars grouped by `dims` (GROUP_DIMS), over buckets starting in [start, end).

    Tokens whose full or cached rate is unknown save nothing (they are unpriced in the ledger too).
    """
    result: dict[tuple[Any, ...], int] = {}
    for key, _, saved, _ in _saved_groups(ledger, table, dims, start, end, factors=_factors(discounts)):
        result[key] = result.get(key, 0) + saved
    return result


def cache_savings(
    ledger: Ledger,
    table: PriceTable,
    *,
    start: int | None = None,
    end: int | None = None,
    discounts: Mapping[str, Decimal] | None = None,
) -> list[SavingsRow]:
    """Cumulative (or [start, end)) cache savings per (provider, account, model), for
    `llm_cache_savings_usd_total`; only models that saved something."""
    sums = savings_by(ledger, table, start=start, end=end, discounts=discounts)
    return [SavingsRow(p, a, m, saved) for (p, a, m), saved in sorted(sums.items()) if saved]


class CumulativeSavings:
    """All-time cache savings per (provider, account, model), as `cache_savings`, kept up to date
    without re-reading the whole ledger on every refresh.

    A day's savings depend only on its usage rows and the price table, which is fixed for the life
    of this object. So the savings are kept per UTC day, and each call re-reads only the days from
    the oldest bucket observed since the last call on (every page write records its buckets'
    observation, in the same transaction). As a check, the cached tokens kept must equal those of
    the store's exact `totals` per (provider, account, model); a write that recorded no
    observation makes them differ, and the whole history is read again.
    """

    _DIMS = ("provider", "account", "model")

    def __init__(self, table: PriceTable, discounts: Mapping[str, Decimal] | None = None) -> None:
        self.table = table
        self.factors = _factors(discounts)
        self.observed_at = -1
        self.full_reads = 0
        self.partial_reads = 0
        self._days: dict[int, dict[tuple[str, str, str], tuple[int, tuple[int, ...]]]] | None = None

    def rows(self, ledger: Ledger) -> list[SavingsRow]:
        """The savings now, equal to `cache_savings(ledger, table, discounts=...)`."""
        observed_at, oldest = ledger.observed_since(self.observed_at)
        if self._days is None:
            self._read(ledger, None)
        elif oldest is not None:
            self._read(ledger, oldest // DAY * DAY)
        self.observed_at = observed_at
        if self._cached_tokens() != _cached_tokens_in_totals(ledger):
            self._read(ledger, None)
        sums: dict[tuple[str, str, str], int] = {}
        for groups in (self._days or {}).values():
            for key, (saved, _) in groups.items():
                sums[key] = sums.get(key, 0) + saved
        return [SavingsRow(p, a, m, saved) for (p, a, m), saved in sorted(sums.items()) if saved]

    def _read(self, ledger: Ledger, since: int | None) -> None:
        """Re-read the days starting at or after `since` (all days when None)."""
        if since is None or self._days is None:
            self._days = {}
            self.full_reads += 1
        else:
            for day in [d for d in self._days if d >= since]:
                del self._days[day]
            self.partial_reads += 1
        days = self._days
        for key, day, saved, counts in _saved_groups(
            ledger, self.table, self._DIMS, since, None, factors=self.factors
        ):
            model = (str(key[0]), str(key[1]), str(key[2]))
            groups = days.setdefault(day, {})
            # One group per (model, day) unless a model's rows differ in tier or context window.
            before_saved, before_counts = groups.get(model, (0, (0,) * len(counts)))
            groups[model] = (before_saved + saved, tuple(map(sum, zip(before_counts, counts, strict=True))))

    def _cached_tokens(self) -> dict[tuple[str, str, str], tuple[int, ...]]:
        sums: dict[tuple[str, str, str], tuple[int, ...]] = {}
        for groups in (self._days or {}).values():
            for model, (_, counts) in groups.items():
                before = sums.get(model, (0,) * len(counts))
                sums[model] = tuple(map(sum, zip(before, counts, strict=True)))
        return {k: v for k, v in sums.items() if any(v)}


def _cached_tokens_in_totals(ledger: Ledger) -> dict[tuple[str, str, str], tuple[int, ...]]:
    """Cached token counts (CACHED_PAIRS order) per (provider, account, model) from the exact totals."""
    result = {}
    for key, tokens in ledger.tokens_by_model().items():
        counts = tuple(int(tokens[TOKEN_INDEX[cached]]) for cached, _ in CACHED_PAIRS)
        if any(counts):
            result[key] = counts
    return result


def what_if(
    ledger: Ledger,
    table: PriceTable,
    start: int,
    end: int,
    *,
    discounts: Mapping[str, Decimal] | None = None,
) -> list[WhatIfRow]:
    """Per (provider, account, project, model) in [start, end): the actual computed cost, and the same
    tokens at the batch price, at the flex price and at the next-cheaper model of the family (at the
    same tier), each at the prices in force on the usage's day. Non-token costs (web searches) are
    carried over unchanged. Estimates: batch and flex change latency, a cheaper model changes quality.
    """
    factors = _factors(discounts)
    acc: dict[tuple[str, str, str, str], list[Any]] = {}
    for g, day, tokens, cost_total, unit_cost, unpriced in _groups(
        ledger, ("project",), start, end, cached_only=False
    ):
        key = (g["provider"], g["account"], g["project"], g["model"])
        cheaper = table.family_cheaper(g["model"]) if g["model"] else None
        factor = factors.get(g["account"])
        tier = _tier(g)
        options = (
            _cost(tokens, _entry(table, g, "batch", day), factor),
            _cost(tokens, _entry(table, g, "flex", day), factor),
            _cost(tokens, _entry(table, g, tier, day, cheaper), factor) if cheaper else None,
        )
        row = acc.setdefault(key, [0, 0, 0, 0, cheaper, 0])
        row[0] += cost_total
        for i, option in enumerate(options, start=1):
            row[i] = None if option is None or row[i] is None else row[i] + option + unit_cost
        row[5] += unpriced
    return [
        WhatIfRow(*key, actual, batch, flex, cheaper, cheap, unpriced)
        for key, (actual, batch, flex, cheap, cheaper, unpriced) in sorted(acc.items())
    ]
