"""What a given number of tokens costs on a model: the calculator behind `spend-monitor estimate`.

Unlike the ingest path, which counts what it cannot price, the calculator refuses: an unknown model,
a tier without a price or a token type without a price is a PricingError naming the gap.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from monitor.errors import PricingError, UnknownModelError
from monitor.pricing.cost import apply_discount, discount_factor
from monitor.pricing.entry import PriceEntry
from monitor.pricing.resolve import ResolvedModel
from monitor.pricing.table import PriceTable
from monitor.pricing.tiers import normalise_tier
from monitor.records import SERVICE_TIERS, TOKEN_INDEX, TOKEN_TYPES, pico_to_usd


@dataclass(frozen=True, slots=True)
class EstimateLine:
    """One token type of an estimate: count, list price (USD per 1M) and cost after discount (USD)."""

    token_type: str
    tokens: int
    usd_per_million: Decimal
    cost: Decimal


@dataclass(frozen=True, slots=True)
class Estimate:
    resolved: ResolvedModel
    entry: PriceEntry
    discount: Decimal
    lines: tuple[EstimateLine, ...]
    total: Decimal
    """USD, exact (sum of the lines' picodollars)."""


def estimate(
    table: PriceTable,
    model: str,
    tokens: Mapping[str, int],
    tier: str = "standard",
    *,
    at: int,
    discount: Decimal | int = 0,
    provider: str = "",
    context_window: str = "",
    inference_geo: str = "",
) -> Estimate:
    """The cost of `tokens` (billed count per token type) on `model` at unix second `at`.

    `tokens` maps token types (records.TOKEN_TYPES) to the count billed at that type's price, e.g.
    {"input": 100_000, "output": 2_000}; `discount` is percent off list, as for an account;
    `inference_geo` applies the entry's multiplier for that geo (e.g. "us").
    """
    if tier not in SERVICE_TIERS:
        raise PricingError(f"unknown tier {tier!r}; expected one of: {', '.join(SERVICE_TIERS)}")
    for token_type, count in tokens.items():
        if token_type not in TOKEN_INDEX:
            raise PricingError(
                f"unknown token type {token_type!r}; expected one of: {', '.join(TOKEN_TYPES)}"
            )
        if count < 0:
            raise PricingError(f"{token_type} tokens must be 0 or more, got {count}")
    resolved = table.resolve(provider, model)
    if resolved is None:
        raise unknown_model_error(table, model, provider)
    tier = normalise_tier(resolved.provider, tier, batch=False)  # OpenAI's "priority" is its Fast tier
    entry = table.price_for(resolved.provider, resolved.model, tier, context_window, at)
    if entry is None:
        day = datetime.fromtimestamp(at, UTC).date()
        tiers = [
            t
            for t in SERVICE_TIERS
            if table.price_for(resolved.provider, resolved.model, t, context_window, at)
        ]
        offered = f"priced tiers then: {', '.join(tiers)}" if tiers else "no prices in force then"
        raise PricingError(f"{resolved.provider}/{resolved.model} has no {tier} price on {day} ({offered})")
    geo = entry.geo_factor(inference_geo)
    if geo is None:
        raise PricingError(
            f"{entry.id} (from {entry.origin}) has no price for inference geo {inference_geo!r}"
        )
    factor = discount_factor(discount) * geo
    lines: list[EstimateLine] = []
    total = 0
    for token_type in TOKEN_TYPES:
        count = tokens.get(token_type, 0)
        if not count:
            continue
        rate = entry.rates[TOKEN_INDEX[token_type]]
        if rate is None:
            raise PricingError(f"{entry.id} has no price for {token_type} tokens")
        cost = apply_discount(count * rate, factor)
        total += cost
        price = Decimal(rate).scaleb(-6) * geo.numerator / geo.denominator  # the geo's price, e.g. 1.1x
        lines.append(EstimateLine(token_type, count, price, pico_to_usd(cost)))
    return Estimate(resolved, entry, Decimal(discount), tuple(lines), pico_to_usd(total))


def unknown_model_error(table: PriceTable, model: str, provider: str = "") -> UnknownModelError:
    """An UnknownModelError naming `model`, close names from the table, and how to add a price."""
    where = f" for provider {provider!r}" if provider else ""
    close = difflib.get_close_matches(model, table.names(), n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    return UnknownModelError(
        f"unknown model {model!r}{where}: {hint}See `spend-monitor prices`, or add a price in config "
        "pricing.overrides (or an alias in pricing.aliases)"
    )
