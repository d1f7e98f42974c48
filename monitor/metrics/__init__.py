"""Prometheus metrics: snapshots of the ledger, rendered once per poll and served over HTTP.

The daemon fills a `LedgerView` and a `PollStats`, calls `Exposition.update()` after each poll,
and runs a `MetricsServer` (monitor.web, in a process of its own) that serves the cached bytes.
Only this package imports prometheus_client. The catalog is in docs/metrics.md.
"""

from monitor.metrics.collector import SnapshotCollector
from monitor.metrics.exposition import Exposition
from monitor.metrics.snapshot import (
    AccountRef,
    BalanceRow,
    BilledRow,
    BillLinesRow,
    BudgetRow,
    BuildInfo,
    ClaudeCodeRow,
    DriftRow,
    LedgerView,
    MetricsOptions,
    NameRow,
    ObservedPriceRow,
    PollStats,
    PollView,
    PriceRow,
    SavingsRow,
    Snapshot,
    SpendRow,
    TotalRow,
    UnpricedRow,
)
from monitor.web.server import MetricsServer

__all__ = [
    "AccountRef",
    "BalanceRow",
    "BillLinesRow",
    "BilledRow",
    "BudgetRow",
    "BuildInfo",
    "ClaudeCodeRow",
    "DriftRow",
    "Exposition",
    "LedgerView",
    "MetricsOptions",
    "MetricsServer",
    "NameRow",
    "ObservedPriceRow",
    "PollStats",
    "PollView",
    "PriceRow",
    "SavingsRow",
    "Snapshot",
    "SnapshotCollector",
    "SpendRow",
    "TotalRow",
    "UnpricedRow",
]
