"""Budgets: spend per budget over its calendar period, forecasts, threshold alerts and anomaly alerts.

`BudgetEngine.evaluate(ledger, alert_store, now)` is the daemon's entry point: it returns each
budget's `BudgetStatus` and records alert transitions (with their outbox rows) in one transaction.
The method is described in docs/budgets.md.
"""

from __future__ import annotations

from monitor.budgets.evaluate import HISTORY_DAYS, BudgetEngine
from monitor.budgets.forecast import DailySeries, Forecast, RunRate, forecast, run_rate
from monitor.budgets.payload import AlertChange
from monitor.budgets.status import BudgetStatus

__all__ = [
    "HISTORY_DAYS",
    "AlertChange",
    "BudgetEngine",
    "BudgetStatus",
    "DailySeries",
    "Forecast",
    "RunRate",
    "forecast",
    "run_rate",
]
