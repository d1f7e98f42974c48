"""The Prometheus collector: fresh metric families built once from one frozen `Snapshot`.

Names, types and labels follow the metric catalog in design.md (docs/metrics.md). Money is kept
as integer picodollars until the exposition boundary, where it becomes a float via Decimal
(correctly rounded: 123456789 picodollars renders as 0.000123456789).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from monitor.metrics.account_metrics import PICO, balance_metrics, usd
from monitor.metrics.names import info_metrics
from monitor.metrics.self_metrics import family as _family
from monitor.metrics.self_metrics import self_metrics
from monitor.metrics.series import Family, Number, count, limit
from monitor.metrics.snapshot import BudgetRow, LedgerView, Snapshot
from monitor.records import TOKEN_TYPES

USAGE = ("provider", "account", "project", "model", "service_tier")


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
    repriced = Family(
        "llm_cost_repriced_usd_total",
        "counter",
        "Computed cost that re-pricing took back (a lower price found later), USD; the cost counters "
        "keep it, so the net computed cost is their sum minus this.",
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
        if row.unit_cost or row.repriced_unit_cost:
            non_token.add(base, row.unit_cost + row.repriced_unit_cost)
        taken = sum(row.repriced_costs) + row.repriced_unit_cost
        if taken:
            repriced.add(base, taken)
        for index, token_type in enumerate(TOKEN_TYPES):
            # A counter never goes down when rows are priced again: what re-pricing took back is added.
            counted = row.costs[index] + row.repriced_costs[index]
            if row.tokens[index] or counted:
                tokens.add((*base, token_type), row.tokens[index])
                if counted or not row.unpriced_tokens:
                    cost.add((*base, token_type), counted)
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
        "llm_unpriced_tokens_total",
        "counter",
        "Tokens that could not be priced when they were stored (priced later or not).",
        model_labels,
    )
    unpriced_now = Family(
        "llm_unpriced_tokens_now", "gauge", "Tokens that no price source prices now.", model_labels
    )
    for u in ledger.unpriced:
        unpriced.add((u.provider, u.account, u.model), u.tokens + u.priced_later)
        if u.tokens:
            unpriced_now.add((u.provider, u.account, u.model), u.tokens)
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
    observed = Family(
        "llm_price_observed_usd_per_million_tokens",
        "gauge",
        "The rate the account's latest bill shows, USD per 1M tokens (beside the list price).",
        ("provider", "account", "model", "service_tier", "token_type"),
        foldable=False,
    )
    for o in ledger.observed_prices:
        observed.values[(o.provider, o.account, o.model, o.service_tier, o.token_type)] = o.usd_per_million
    return [
        tokens, requests, cost, non_token, repriced, spend, billed, claude_code,
        unpriced, unpriced_now, savings, prices, observed,
    ]  # fmt: skip


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
    (
        "llm_budget_unpriced_tokens",
        "Tokens of the budget's period and scope that no price source priced (cost unknown, not zero).",
        lambda r: r.unpriced_tokens,
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
    unused = sorted(((r.provider, r.account, r.reason), float(r.lines)) for r in ledger.bill_lines)
    doc = "Billed lines of the last 31 days that gave no rate (docs/reconciliation.md), by reason."
    metrics.append(
        _family("gauge", "spend_monitor_bill_lines_unused", doc, ("provider", "account", "reason"), unused)
    )
    return metrics + balance_metrics(ledger)


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
