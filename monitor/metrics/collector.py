"""The Prometheus collector: fresh metric families built once from one frozen `Snapshot`.

Names, types and labels follow the metric catalog in design.md (docs/metrics.md). Money is kept
as integer picodollars until the exposition boundary, where it becomes a float via Decimal
(correctly rounded: 123456789 picodollars renders as 0.000123456789).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from monitor.metrics.series import OTHER, Family, Number, count, limit
from monitor.metrics.snapshot import BudgetRow, LedgerView, MetricsOptions, Snapshot
from monitor.metrics.stats import POLL_DURATION_BUCKETS, PollView
from monitor.records import TOKEN_TYPES

USAGE = ("provider", "account", "project", "model", "service_tier")
PICO = 12


def usd(pico: int) -> float:
    """Picodollars to a float USD value for the exposition, rounded once from the exact value."""
    return float(Decimal(pico).scaleb(-PICO))


def ledger_families(ledger: LedgerView, include_api_key: bool, include_user: bool = False) -> list[Family]:
    """The ledger's series, exact and summed over equal labels (and over api keys and users unless included)."""
    usage = (*USAGE, *(("api_key",) if include_api_key else ()), *(("user",) if include_user else ()))
    tokens = Family(
        "llm_tokens_total",
        "counter",
        "Tokens used, cumulative from the ledger.",
        (*usage, "token_type"),
        0,
        "tokens",
    )
    requests = Family("llm_requests_total", "counter", "Requests made, cumulative from the ledger.", usage)
    cost = Family(
        "llm_cost_usd_total",
        "counter",
        "Computed cost in USD, cumulative from the ledger.",
        tokens.labels,
        PICO,
        "cost",
    )
    non_token = Family(
        "llm_non_token_cost_usd_total",
        "counter",
        "Computed cost in USD of billable non-token units (web search requests, tool calls), "
        "cumulative from the ledger.",
        usage,
        PICO,
    )
    for row in ledger.totals:
        base: tuple[str, ...] = (row.provider, row.account, row.project, row.model, row.service_tier)
        if include_api_key:
            base = (*base, row.api_key)
        if include_user:
            base = (*base, row.user)
        requests.add(base, row.requests)
        if row.unit_cost:
            non_token.add(base, row.unit_cost)
        for index, token_type in enumerate(TOKEN_TYPES):
            if row.tokens[index] or row.costs[index]:
                tokens.add((*base, token_type), row.tokens[index])
                if row.costs[index] or not row.unpriced_tokens:
                    cost.add((*base, token_type), row.costs[index])
                # else: tokens with no cost in a row with unpriced tokens have an unknown cost, not $0;
                # llm_unpriced_tokens_total counts them. A priced part keeps its (exact) series.
    spend = Family(
        "llm_spend_usd",
        "gauge",
        "Computed spend in USD in the current calendar period, by the team the attribution rules give it.",
        ("provider", "account", "project", "model", "period", "team"),
        PICO,
    )
    for s in ledger.spend:
        spend.add((s.provider, s.account, s.project, s.model, s.period, s.team), s.cost_pico)
    billed = Family(
        "llm_billed_cost_usd",
        "gauge",
        "Provider-reported cost in USD in the current calendar period.",
        ("provider", "account", "project", "period"),
        PICO,
    )
    for b in ledger.billed:
        billed.add((b.provider, b.account, b.project, b.period), b.amount_pico)
    claude_code = Family(
        "llm_claude_code_cost_usd",
        "gauge",
        "Claude Code's estimated cost in USD in the current calendar period, per developer with "
        "include_user (Anthropic's Claude Code report; not added to llm_spend_usd).",
        ("provider", "account", "model", "period", *(("user",) if include_user else ())),
        PICO,
    )
    for code in ledger.claude_code:
        key = (code.provider, code.account, code.model, code.period, *((code.user,) if include_user else ()))
        claude_code.add(key, code.cost_pico)
    model_labels = ("provider", "account", "model")
    unpriced = Family(
        "llm_unpriced_tokens_total", "counter", "Tokens that could not be priced.", model_labels
    )
    for u in ledger.unpriced:
        unpriced.add((u.provider, u.account, u.model), u.tokens)
    savings = Family(
        "llm_cache_savings_usd_total",
        "counter",
        "USD that cached tokens saved against the full input price.",
        model_labels,
        PICO,
    )
    for c in ledger.cache_savings:
        savings.add((c.provider, c.account, c.model), c.saved_pico)
    prices = Family(
        "llm_price_usd_per_million_tokens",
        "gauge",
        "The list price in force now, USD per 1M tokens.",
        ("provider", "model", "service_tier", "token_type"),
    )
    for p in ledger.prices:
        prices.values[(p.provider, p.model, p.service_tier, p.token_type)] = p.usd_per_million
    return [tokens, requests, cost, non_token, spend, billed, claude_code, unpriced, savings, prices]


def sample_value(family: Family, value: Number) -> float:
    """A stored exact value as exported: divided by 10**scale once, correctly rounded."""
    return float(Decimal(value).scaleb(-family.scale)) if family.scale else float(value)


def _render(family: Family) -> Metric:
    metric: CounterMetricFamily | GaugeMetricFamily
    if family.kind == "counter":
        metric = CounterMetricFamily(family.name.removesuffix("_total"), family.doc, labels=family.labels)
    else:
        metric = GaugeMetricFamily(family.name, family.doc, labels=family.labels)
    for key in sorted(family.values):
        metric.add_metric(key, sample_value(family, family.values[key]))
    return metric


Rows = Iterable[tuple[Sequence[str], float]]


def _family(kind: str, name: str, doc: str, labels: Sequence[str], rows: Rows) -> Metric:
    metric: CounterMetricFamily | GaugeMetricFamily
    if kind == "counter":
        metric = CounterMetricFamily(name.removesuffix("_total"), doc, labels=labels)
    else:
        metric = GaugeMetricFamily(name, doc, labels=labels)
    for key, value in rows:
        metric.add_metric(key, value)
    return metric


def _ratio(spend: int, limit_: int) -> float:
    if limit_ > 0:
        return spend / limit_  # exact ints, one correctly rounded division
    return float("inf") if spend > 0 else 0.0


BUDGET_GAUGES: tuple[tuple[str, str, Callable[[BudgetRow], float]], ...] = (
    ("llm_budget_limit_usd", "Budget amount in USD.", lambda r: usd(r.limit_pico)),
    ("llm_budget_spend_usd", "Spend counted by the budget this period, USD.", lambda r: usd(r.spend_pico)),
    ("llm_budget_utilization_ratio", "Budget spend / limit.", lambda r: _ratio(r.spend_pico, r.limit_pico)),
    (
        "llm_budget_forecast_usd",
        "Projected spend at the end of the period, USD.",
        lambda r: usd(r.forecast_pico),
    ),
    (
        "llm_budget_period_end_timestamp_seconds",
        "End of the budget's current period, unix time.",
        lambda r: r.period_end,
    ),
    (
        "llm_budget_runout_timestamp_seconds",
        "When spend reaches the limit at the current run rate (+Inf: never).",
        lambda r: r.runout,
    ),
)


def budget_metrics(ledger: LedgerView) -> list[Metric]:
    """Budget gauges and the drift ratio: bounded by configuration, never dropped by the series limit."""
    budgets = sorted(ledger.budgets, key=lambda row: row.budget)
    drift = sorted(((d.provider, d.account), float(d.ratio)) for d in ledger.drift)
    metrics = [
        _family(
            "gauge",
            "llm_cost_drift_ratio",
            "(computed - billed) / billed, last complete day.",
            ("provider", "account"),
            drift,
        )
    ]
    for name, doc, value in BUDGET_GAUGES:
        metrics.append(
            _family("gauge", name, doc, ("budget",), [((r.budget,), float(value(r))) for r in budgets])
        )
    states = [((r.budget, t, k), float(s)) for r in budgets for t, k, s in sorted(r.alert_states)]
    doc = "1 while the budget alert is in ALARM, 0 in OK."
    metrics.append(_family("gauge", "llm_budget_alert_state", doc, ("budget", "threshold", "kind"), states))
    return metrics


INFO_FAMILIES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (
        "project",
        "llm_project_info",
        "The name of a project (OpenAI) or workspace (Anthropic).",
        ("project_name",),
    ),
    (
        "api_key",
        "llm_api_key_info",
        "The name and owner of an API key (never its secret).",
        ("api_key_name", "owner"),
    ),
    ("user", "llm_user_info", "The email of a user.", ("user_email",)),
)
"""(kind, metric, help, name labels): info metrics with labels (account, <kind>, *name labels), value 1."""


def info_metrics(ledger: LedgerView, options: MetricsOptions) -> list[Metric]:
    """Names for ids, joined by dashboards with `group_left`: projects always, API keys with
    `include_api_key` and users with `include_user` (the usage series carry those labels only then)."""
    wanted = {"project": True, "api_key": options.include_api_key, "user": options.include_user}
    accounts = {r.account for r in ledger.names}
    metrics = []
    for kind, name, doc, extra in INFO_FAMILIES:
        if not wanted[kind]:
            continue
        # Detail folded by the series limit is named too, so a join keeps its spend.
        folded = [(a, OTHER, f"(other {kind.replace('_', ' ')}s)", "") for a in accounts]
        named = [(r.account, r.id, r.name, r.owner) for r in ledger.names if r.kind == kind]
        rows = sorted({(row if kind == "api_key" else row[:3], 1.0) for row in (*named, *folded)})
        metrics.append(_family("gauge", name, doc, ("account", kind, *extra), rows))
    return metrics


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
    metrics = [_family(kind, name, doc, labels, _rows(values)) for kind, name, doc, labels, values in table]
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
        metrics.append(_family("gauge", name, doc, (), [((), float(value))]))
    info = [((build.version, build.pricing_version), 1.0)]
    doc = "Version of the daemon and of its price table."
    metrics.append(_family("gauge", "spend_monitor_build_info", doc, ("version", "pricing_version"), info))
    return metrics


@dataclass
class Prepared:
    """One snapshot's metrics before encoding: the ledger families (after the series limit) and the
    small fixed metrics that follow them, already as prometheus_client metric families.

    `dropped` is this snapshot's series-limit drop count, `series` the number of samples exposed
    and `steps` the limit steps taken.
    """

    ledger: list[Family]
    fixed: list[Metric]
    series: int
    dropped: int
    steps: list[str]


def prepare(snapshot: Snapshot, *, dropped_before: int = 0) -> Prepared:
    """Build the families of `snapshot` and apply the series limit. `dropped_before` is the drop
    count of earlier snapshots, so `spend_monitor_series_dropped_total` stays cumulative."""
    ledger = ledger_families(snapshot.ledger, snapshot.options.include_api_key, snapshot.options.include_user)
    fixed = (
        budget_metrics(snapshot.ledger)
        + info_metrics(snapshot.ledger, snapshot.options)
        + self_metrics(snapshot)
    )
    fixed_count = sum(len(m.samples) for m in fixed) + 2  # + series gauge + dropped counter
    before = count(ledger)
    steps = limit(ledger, max(0, snapshot.options.series_limit - fixed_count))
    dropped = before - count(ledger)
    series = count(ledger) + fixed_count
    doc = "Series in this snapshot, after the series limit."
    fixed.append(_family("gauge", "spend_monitor_snapshot_series", doc, (), [((), float(series))]))
    doc = "Series folded or dropped by metrics.series_limit, summed over snapshot builds."
    total_dropped = [((), float(dropped_before + dropped))]
    fixed.append(_family("counter", "spend_monitor_series_dropped_total", doc, (), total_dropped))
    return Prepared(ledger, fixed, series, dropped, steps)


class SnapshotCollector(Collector):
    """Every metric of one snapshot, built once in the constructor; `collect()` only hands them out.

    The reference for what is exported: the daemon encodes the same `prepare()` result directly
    (text.py), and the tests check that the bytes are the same as prometheus_client's from this.
    `dropped_before`, `dropped`, `series` and `steps` are as in `prepare()`.
    """

    def __init__(self, snapshot: Snapshot, *, dropped_before: int = 0) -> None:
        prepared = prepare(snapshot, dropped_before=dropped_before)
        self.steps, self.dropped, self.series = prepared.steps, prepared.dropped, prepared.series
        self._metrics: list[Metric] = [_render(f) for f in prepared.ledger] + prepared.fixed

    def collect(self) -> Iterable[Metric]:
        return iter(self._metrics)
