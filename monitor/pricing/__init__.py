"""The pricing engine: a dated price table, model name resolution, tiers, and exact cost arithmetic.

`PriceTable` holds the prices (bundled `prices.yaml` + extra files + config overrides), `Pricer`
turns UsageRows into PricedRows in integer picodollars, `estimate` is the calculator. See
docs/pricing.md for the table format and the rules.
"""

from monitor.pricing.cost import Pricer, apply_discount, discount_factor
from monitor.pricing.estimate import Estimate, EstimateLine, estimate, unknown_model_error
from monitor.pricing.resolve import ResolvedModel
from monitor.pricing.schema import check_price_entries
from monitor.pricing.table import PriceEntry, PriceTable
from monitor.pricing.tiers import context_floor, normalise_tier

__all__ = [
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
    "unknown_model_error",
]
