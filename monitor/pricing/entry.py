"""A price entry: the prices of one (provider, model, tier, context) from a date on, and where they come from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction

from monitor.pricing.rules import Rates
from monitor.records import TOKEN_INDEX

NEUTRAL_GEOS = frozenset({"", "global", "not_available"})
"""Inference geos that never change a price: not reported, the default ("global"), or unknown."""
_ONE = Fraction(1)


@dataclass(frozen=True, slots=True)
class PriceEntry:
    """The prices of one (provider, model, tier, context) from `effective_from` on.

    `rates` are picodollars per token (= micro-dollars per 1M tokens) in TOKEN_TYPES order, None where
    there is no price. `unit_rates` are picodollars per unit of non-token usage (e.g. web searches).
    `context` is "" or a long-context label such as ">200k". `id` is stable and stored in the ledger,
    with `origin`: the price source that gave the entry ("bundled", "files", "genai-prices").
    `geo_factors` multiply every price for a reported inference geo (the block's `inference_geo`); a
    geo it does not list costs the same, and None means the source cannot tell (see `geo_factor`).
    """

    id: str
    provider: str
    model: str
    tier: str
    context: str
    effective_from: date
    source: str
    rates: Rates
    unit_rates: Mapping[str, int] = field(default_factory=dict, hash=False)
    note: str = ""
    origin: str = ""
    geo_factors: Mapping[str, Fraction] | None = field(default_factory=dict, hash=False)

    def geo_factor(self, inference_geo: str) -> Fraction | None:
        """What a row's inference geo multiplies this entry's prices by; None if the source cannot say.

        "", "global" and "not_available" never change a price. A geo the entry's block lists takes its
        multiplier (Anthropic's "us" 1.1x); one it does not list costs the same, since the table writes
        multipliers wherever the provider documents one. A source that knows nothing about geos
        (`geo_factors` None, e.g. the community source) prices only the neutral geos.
        """
        if inference_geo in NEUTRAL_GEOS:
            return _ONE
        if self.geo_factors is None:
            return None
        return self.geo_factors.get(inference_geo, _ONE)

    def usd_per_million(self, token_type: str) -> Decimal | None:
        """The list price of `token_type` in USD per 1M tokens, exactly; None if it has no price."""
        rate = self.rates[TOKEN_INDEX[token_type]]
        return None if rate is None else Decimal(rate).scaleb(-6)

    def usd_per_unit(self, unit: str) -> Decimal | None:
        """The price of one `unit` (e.g. "web_search_requests") in USD; None if it has no price."""
        rate = self.unit_rates.get(unit)
        return None if rate is None else Decimal(rate).scaleb(-12)
