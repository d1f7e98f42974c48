"""Reconciliation: the ledger's computed cost against the providers' billed cost, and what caching saved.

`drift_rows` / `model_drift` / `last_complete_day_drift` compare computed and billed cost per UTC
day; `evaluate_drift` turns drift above the threshold into `drift` alerts in the durable outbox;
`cache_savings` and `what_if` price the same tokens at other rates; `billed_in_periods` feeds the
billed-cost gauge. See docs/reconciliation.md.
"""

from monitor.reconciliation.alerts import DriftStatus, evaluate_drift, threshold_label
from monitor.reconciliation.drift import (
    DayDrift,
    ModelDrift,
    drift_ratio,
    drift_rows,
    exceeds,
    last_complete_day,
    last_complete_day_drift,
    model_drift,
    off_models,
)
from monitor.reconciliation.lines import Attribution, attribute, parse_openai_line_item
from monitor.reconciliation.savings import (
    CumulativeSavings,
    SavingsRow,
    WhatIfRow,
    cache_savings,
    savings_by,
    what_if,
)
from monitor.reconciliation.views import BilledPeriod, billed_in_periods

__all__ = [
    "Attribution",
    "BilledPeriod",
    "CumulativeSavings",
    "DayDrift",
    "DriftStatus",
    "ModelDrift",
    "SavingsRow",
    "WhatIfRow",
    "attribute",
    "billed_in_periods",
    "cache_savings",
    "drift_ratio",
    "drift_rows",
    "evaluate_drift",
    "exceeds",
    "last_complete_day",
    "last_complete_day_drift",
    "model_drift",
    "off_models",
    "parse_openai_line_item",
    "savings_by",
    "threshold_label",
    "what_if",
]
