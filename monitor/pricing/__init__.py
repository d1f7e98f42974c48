"""The pricing engine: a chain of dated price sources, model name resolution, tiers, and exact cost arithmetic.

`PriceTable` holds the prices of the source chain (bundled `prices.yaml` + extra files + config
overrides, then the community source), `Pricer` turns UsageRows into PricedRows in integer
picodollars, `estimate` is the calculator. See docs/pricing.md for the table format and the rules.
"""

from monitor.pricing.cost import Pricer, apply_discount, discount_factor
from monitor.pricing.entry import PriceEntry
from monitor.pricing.estimate import Estimate, EstimateLine, estimate, unknown_model_error
from monitor.pricing.resolve import ResolvedModel
from monitor.pricing.schema import check_price_entries
from monitor.pricing.sources import DEFAULT_SOURCES, SOURCE_NAMES, source_problems
from monitor.pricing.table import CommunityPrices, PriceTable
from monitor.pricing.tiers import context_floor, normalise_tier

__all__ = [
    "DEFAULT_SOURCES",
    "SOURCE_NAMES",
    "CommunityPrices",
    "Estimate",
    "EstimateLine",
    "PriceEntry",
    "PriceTable",
    "Pricer",
    "ResolvedModel",
    "apply_discount",
    "check_price_entries",
    "context_floor",
    "discount_factor",
    "estimate",
    "normalise_tier",
    "source_problems",
    "unknown_model_error",
]
