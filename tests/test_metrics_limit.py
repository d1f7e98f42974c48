"""The series limit: detail is folded in a documented, deterministic order; drops are counted."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from monitor.metrics import (
    BudgetRow,
    BuildInfo,
    Exposition,
    LedgerView,
    MetricsOptions,
    PollView,
    PriceRow,
    Snapshot,
    SnapshotCollector,
    TotalRow,
)
from monitor.metrics.collector import ledger_families
from monitor.metrics.series import OTHER, count, limit
from monitor.records import TOKEN_TYPES, tokens_of

PICO = 10**12


def snapshot(ledger: LedgerView, series_limit: int, *, include_api_key: bool = False) -> Snapshot:
    return Snapshot(ledger, PollView(), BuildInfo("1"), 0.0, MetricsOptions(include_api_key, series_limit))


def fixed_series() -> int:
    """Series that are never dropped (self-metrics) in these tests' snapshots."""
    return SnapshotCollector(snapshot(LedgerView(), 10**6)).series


def collect(ledger: LedgerView, series_limit: int, **kw: bool) -> tuple[CollectorRegistry, SnapshotCollector]:
    collector = SnapshotCollector(snapshot(ledger, series_limit, **kw))
    registry = CollectorRegistry()
    registry.register(collector)
    return registry, collector


def label_values(registry: CollectorRegistry, sample: str, label: str) -> set[str]:
    return {s.labels[label] for f in registry.collect() for s in f.samples if s.name == sample}


def usage(project: str, model: str, api_key: str, cost_usd: int) -> TotalRow:
    return TotalRow(
        "openai",
        "prod",
        project,
        model,
        "standard",
        api_key,
        tokens_of(input=cost_usd * 1000),
        tokens_of(input=cost_usd * PICO),
        1,
    )


def test_under_the_limit_nothing_is_folded() -> None:
    ledger = LedgerView(totals=[usage(f"p{i}", "m", "", i + 1) for i in range(10)])
    registry, collector = collect(ledger, fixed_series() + 30)
    assert collector.dropped == 0
    assert label_values(registry, "llm_requests_total", "project") == {f"p{i}" for i in range(10)}


def test_api_keys_are_folded_first_keeping_the_most_expensive() -> None:
    # 40 keys alternating between two projects; each key is one series in each of 3 families.
    ledger = LedgerView(totals=[usage("p1" if i % 2 else "p2", "m", f"key_{i:02}", i + 1) for i in range(40)])
    registry, collector = collect(ledger, fixed_series() + 30, include_api_key=True)
    # k kept keys * 3 series + one OTHER key per project * 3 series <= 30  ->  k = 8
    assert label_values(registry, "llm_requests_total", "api_key") == {f"key_{i}" for i in range(32, 40)} | {
        OTHER
    }
    assert label_values(registry, "llm_requests_total", "project") == {"p1", "p2"}
    other_p2 = {
        "provider": "openai",
        "account": "prod",
        "project": "p2",
        "model": "m",
        "service_tier": "standard",
    }
    cost = registry.get_sample_value(
        "llm_cost_usd_total", {**other_p2, "api_key": OTHER, "token_type": "input"}
    )
    assert cost == sum(i + 1 for i in range(0, 32, 2))
    assert collector.dropped == 120 - 30


def test_projects_are_folded_keeping_the_most_expensive() -> None:
    ledger = LedgerView(totals=[usage(f"proj_{i:02}", "m", "", i + 1) for i in range(20)])
    registry, collector = collect(ledger, fixed_series() + 18)
    # k projects * 3 series + OTHER * 3 <= 18  ->  k = 5
    assert label_values(registry, "llm_requests_total", "project") == {f"proj_{i}" for i in range(15, 20)} | {
        OTHER
    }
    other = {
        "provider": "openai",
        "account": "prod",
        "project": OTHER,
        "model": "m",
        "service_tier": "standard",
    }
    assert registry.get_sample_value("llm_requests_total", other) == 15
    assert registry.get_sample_value("llm_cost_usd_total", {**other, "token_type": "input"}) == sum(
        range(1, 16)
    )
    assert collector.series <= fixed_series() + 18


def test_models_are_folded_when_folding_projects_does_not_help() -> None:
    ledger = LedgerView(totals=[usage("only", f"m_{i:02}", "", i + 1) for i in range(30)])
    registry, _ = collect(ledger, fixed_series() + 12)
    assert label_values(registry, "llm_requests_total", "project") == {"only"}
    assert label_values(registry, "llm_requests_total", "model") == {"m_29", "m_28", "m_27", OTHER}


def test_ties_in_cost_are_broken_by_name() -> None:
    ledger = LedgerView(totals=[usage(f"proj_{i}", "m", "", 5) for i in range(4)])
    registry, _ = collect(ledger, fixed_series() + 9)
    assert label_values(registry, "llm_requests_total", "project") == {"proj_0", "proj_1", OTHER}


def test_truncation_keeps_the_largest_series_when_folding_cannot_help() -> None:
    prices = [
        PriceRow("openai", f"model-{i:03}", "standard", "input", Decimal(i + 1) / 100) for i in range(100)
    ]
    registry, collector = collect(LedgerView(prices=prices), fixed_series() + 10)
    kept = label_values(registry, "llm_price_usd_per_million_tokens", "model")
    assert kept == {f"model-{i:03}" for i in range(90, 100)}
    assert collector.dropped == 90


def test_budgets_and_self_metrics_are_never_dropped() -> None:
    budget = BudgetRow("b", limit_pico=PICO, spend_pico=0, forecast_pico=0, period_end=0)
    ledger = LedgerView(totals=[usage("p", "m", "", 1)], budgets=[budget])
    registry, _ = collect(ledger, 1)
    assert registry.get_sample_value("llm_budget_limit_usd", {"budget": "b"}) == 1
    assert registry.get_sample_value("spend_monitor_build_info", {"version": "1", "pricing_version": ""}) == 1
    assert label_values(registry, "llm_requests_total", "project") == set()


def test_dropped_series_are_counted_across_updates_and_warned_about_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ledger = LedgerView(totals=[usage(f"proj_{i:02}", "m", "", i + 1) for i in range(20)])
    exposition = Exposition()
    caplog.set_level(logging.DEBUG, logger="monitor.metrics")
    for now in (1.0, 2.0):
        exposition.update(ledger, PollView(), version="1", series_limit=fixed_series() + 18, now=now)
    body = exposition.render()[0].decode()
    dropped = next(
        f for f in text_string_to_metric_families(body) if f.name == "spend_monitor_series_dropped"
    )
    assert dropped.samples[0].value == 2 * (60 - 18)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "series limit" in warnings[0].getMessage()


rows = st.lists(
    st.builds(
        TotalRow,
        provider=st.sampled_from(["openai", "anthropic"]),
        account=st.sampled_from(["a", "b"]),
        project=st.sampled_from(["", "p1", "p2", "p3"]),
        model=st.sampled_from(["m1", "m2", "m3"]),
        service_tier=st.just("standard"),
        api_key=st.sampled_from(["", "k1", "k2"]),
        tokens=st.tuples(*[st.integers(0, 5) for _ in TOKEN_TYPES]),
        costs=st.tuples(*[st.integers(0, 10**15) for _ in TOKEN_TYPES]),
        requests=st.integers(0, 3),
    ),
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(rows=rows, budget=st.integers(0, 150), include_api_key=st.booleans())
def test_limit_always_fits_and_folding_keeps_totals_exact(
    rows: list[TotalRow], budget: int, include_api_key: bool
) -> None:
    families = ledger_families(LedgerView(totals=rows), include_api_key)
    before = {f.name: sum(f.values.values()) for f in families}
    steps = limit(families, budget)
    assert count(families) <= budget
    if not any(step.startswith("llm_") for step in steps):  # no truncation: nothing lost, only folded
        assert {f.name: sum(f.values.values()) for f in families} == before
    again = ledger_families(LedgerView(totals=rows), include_api_key)
    limit(again, budget)
    assert [f.values for f in again] == [f.values for f in families]
