"""The exporter's own metrics (polls, alert deliveries, scheduler, ledger size, build info), and the
helper that builds a small metric family from label rows.

Built from the snapshot's in-memory `PollView` each refresh; the ledger's families are in
collector.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.utils import floatToGoString

from monitor.metrics.snapshot import Snapshot
from monitor.metrics.stats import POLL_DURATION_BUCKETS, PollView

Rows = Iterable[tuple[Sequence[str], float]]


def family(kind: str, name: str, doc: str, labels: Sequence[str], rows: Rows) -> Metric:
    metric: CounterMetricFamily | GaugeMetricFamily
    if kind == "counter":
        metric = CounterMetricFamily(name.removesuffix("_total"), doc, labels=labels)
    else:
        metric = GaugeMetricFamily(name, doc, labels=labels)
    for key, value in rows:
        metric.add_metric(key, value)
    return metric


def _histogram(polls: PollView) -> Metric:
    metric = HistogramMetricFamily(
        "spend_monitor_poll_duration_seconds",
        "Duration of one poll of an account.",
        labels=("provider", "account"),
    )
    for key in sorted(polls.durations):
        hist = polls.durations[key]
        cumulative, buckets = 0, []
        for bound, n in zip((*map(floatToGoString, POLL_DURATION_BUCKETS), "+Inf"), hist.counts, strict=True):
            cumulative += n
            buckets.append((bound, float(cumulative)))
        metric.add_metric(key, buckets, hist.total)
    return metric


def _rows(values: Mapping[Any, float]) -> list[tuple[Sequence[str], float]]:
    """Sorted (labels, value) rows of a PollView mapping keyed by a label tuple or a single label."""
    return [(key if isinstance(key, tuple) else (key,), float(values[key])) for key in sorted(values)]


def self_metrics(snapshot: Snapshot) -> list[Metric]:
    """The exporter's own health: polls, alerts, scheduler, ledger size and build info."""
    p, ledger, build = snapshot.polls, snapshot.ledger, snapshot.build
    acct, endp = ("provider", "account"), ("provider", "account", "endpoint")
    table: list[tuple[str, str, str, Sequence[str], Mapping[Any, float]]] = [
        (
            "gauge",
            "spend_monitor_poll_last_success_timestamp_seconds",
            "Last complete fetch of an endpoint, unix time (0: never).",
            endp,
            p.last_success,
        ),
        (
            "counter",
            "spend_monitor_poll_errors_total",
            "Failed fetches by reason.",
            (*endp, "reason"),
            p.errors,
        ),
        (
            "counter",
            "spend_monitor_poll_requests_total",
            "HTTP requests made to the provider.",
            endp,
            p.requests,
        ),
        (
            "gauge",
            "spend_monitor_data_lag_seconds",
            "Now minus the end of the newest complete bucket, at the last poll.",
            acct,
            p.data_lag,
        ),
        (
            "gauge",
            "spend_monitor_account_healthy",
            "1 while the account polls fine, 0 after auth errors or repeated failure.",
            acct,
            p.healthy,
        ),
        (
            "counter",
            "spend_monitor_alerts_sent_total",
            "Alert delivery attempts by outcome.",
            ("channel", "outcome"),
            p.alerts,
        ),
        (
            "counter",
            "spend_monitor_scheduler_job_errors_total",
            "Scheduler jobs that raised.",
            ("job_id",),
            p.job_errors,
        ),
        (
            "counter",
            "spend_monitor_scheduler_job_missed_total",
            "Scheduler runs missed.",
            ("job_id",),
            p.job_missed,
        ),
    ]
    metrics = [family(kind, name, doc, labels, _rows(values)) for kind, name, doc, labels, values in table]
    metrics.append(_histogram(p))
    for name, doc, value in (
        ("spend_monitor_alert_outbox_pending", "Notifications waiting in the outbox.", ledger.outbox_pending),
        ("spend_monitor_ledger_rows", "Usage rows in the ledger.", ledger.ledger_rows),
        (
            "spend_monitor_snapshot_timestamp_seconds",
            "When this snapshot was built, unix time.",
            snapshot.built_at,
        ),
    ):
        metrics.append(family("gauge", name, doc, (), [((), float(value))]))
    info = [((build.version, build.pricing_version), 1.0)]
    doc = "Version of the daemon and of its price table."
    metrics.append(family("gauge", "spend_monitor_build_info", doc, ("version", "pricing_version"), info))
    return metrics
