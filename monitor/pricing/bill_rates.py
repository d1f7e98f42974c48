"""Rates from the bill as the pricer uses them: per (account, model, tier, context window, UTC day), the
exact picodollars per token of each token kind, and per (account, model, day) of web searches.

Built from the `ObservedRate`s of pricing/bill.py; read-only once built, swapped whole by the daemon
(`Pricer.use_bill`) when new bills come in.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction

from monitor.pricing.bill import DAY, WEB_SEARCH, ObservedRate, RateKey, utc_day
from monitor.records import TOKEN_TYPES


@dataclass(frozen=True, slots=True)
class BillEntry:
    """The rates of one RateKey as the pricer uses them: picodollars per token per TOKEN_TYPES kind
    (None: the bill has no rate for it) and per unit; `origin` is the price source "billed YYYY-MM-DD"."""

    id: str
    origin: str
    rates: tuple[Fraction | None, ...]
    unit_rates: Mapping[str, Fraction]


class BillRates:
    """The rates from the bills of many days, looked up per row: (account, model, tier, context
    window, UTC day). Read-only once built."""

    def __init__(self, rates: Iterable[ObservedRate]) -> None:
        kinds: dict[RateKey, dict[str, Fraction]] = {}
        units: dict[tuple[str, str, int], dict[str, Fraction]] = {}
        for r in rates:
            if r.token_type == WEB_SEARCH:  # per model and day, whatever the tier and window
                units.setdefault((r.account, r.model, r.day_start), {})[WEB_SEARCH] = r.rate
            else:
                key = (r.account, r.model, r.tier, r.context_window, r.day_start)
                kinds.setdefault(key, {})[r.token_type] = r.rate
        self._entries = {
            key: _entry(key, by_kind, units.get((key[0], key[1], key[4]), {}))
            for key, by_kind in kinds.items()
        }

    def entry(self, account: str, model: str, tier: str, context_window: str, at: int) -> BillEntry | None:
        """The rates for a row of `account` at unix second `at`, or None when that day's bill has none."""
        return self._entries.get((account, model, tier, context_window, at - at % DAY))

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[RateKey]:
        return iter(self._entries)


def _entry(key: RateKey, by_kind: Mapping[str, Fraction], units: Mapping[str, Fraction]) -> BillEntry:
    account, model, tier, window, day = key
    parts = ["bill", account, model, tier, *([window] if window else []), utc_day(day)]
    rates = tuple(by_kind.get(kind) for kind in TOKEN_TYPES)
    return BillEntry("/".join(parts), f"billed {utc_day(day)}", rates, dict(units))
