"""The collector against the metric catalog (design.md): names, types, labels and exact values."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest

from monitor.metrics import (
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
    SnapshotCollector,
    SpendRow,
    TotalRow,
    UnpricedRow,
)
from monitor.metrics.collector import ledger_families
from monitor.metrics.series import limit
from monitor.records import TOKEN_TYPES, tokens_of

P, A, E = ("provider", "account", "endpoint")
USAGE = {"provider", "account", "project", "model", "service_tier"}

# The contract: design.md's metric catalog plus the agreed extras. Never rename.
CATALOG: dict[str, tuple[str, set[str]]] = {
    "llm_tokens_total": ("counter", USAGE | {"token_type"}),
    "llm_requests_total": ("counter", USAGE),
    "llm_cost_usd_total": ("counter", USAGE | {"token_type"}),
    "llm_non_token_cost_usd_total": ("counter", USAGE),
    "llm_spend_usd": ("gauge", {P, A, "project", "model", "period", "team"}),
    "llm_billed_cost_usd": ("gauge", {P, A, "project", "period"}),
    "llm_cost_drift_ratio": ("gauge", {P, A}),
    "llm_unpriced_tokens_total": ("counter", {P, A, "model"}),
    "llm_unpriced_tokens_now": ("gauge", {P, A, "model"}),
    "llm_cost_repriced_usd_total": ("counter", USAGE),
    "spend_monitor_bill_lines_unused": ("gauge", {P, A, "reason"}),
    "llm_cache_savings_usd_total": ("counter", {P, A, "model"}),
    "llm_price_usd_per_million_tokens": ("gauge", {P, "model", "service_tier", "token_type"}),
    "llm_price_observed_usd_per_million_tokens": ("gauge", {P, A, "model", "service_tier", "token_type"}),
    "llm_account_balance_usd": ("gauge", {P, A, "key"}),
    "llm_account_credit_limit_usd": ("gauge", {P, A, "key"}),
    "llm_budget_limit_usd": ("gauge", {"budget"}),
    "llm_budget_spend_usd": ("gauge", {"budget"}),
    "llm_budget_utilization_ratio": ("gauge", {"budget"}),
    "llm_budget_forecast_usd": ("gauge", {"budget"}),
    "llm_budget_period_end_timestamp_seconds": ("gauge", {"budget"}),
    "llm_budget_runout_timestamp_seconds": ("gauge", {"budget"}),
    "llm_budget_unpriced_tokens": ("gauge", {"budget"}),
    "llm_budget_alert_state": ("gauge", {"budget", "threshold", "kind"}),
    "spend_monitor_poll_last_success_timestamp_seconds": ("gauge", {P, A, E}),
    "spend_monitor_poll_errors_total": ("counter", {P, A, E, "reason"}),
    "spend_monitor_poll_requests_total": ("counter", {P, A, E}),
    "spend_monitor_poll_duration_seconds": ("histogram", {P, A}),
    "spend_monitor_data_lag_seconds": ("gauge", {P, A}),
    "spend_monitor_account_healthy": ("gauge", {P, A}),
    "spend_monitor_alerts_sent_total": ("counter", {"channel", "outcome"}),
    "spend_monitor_alert_outbox_pending": ("gauge", set()),
    "spend_monitor_scheduler_job_errors_total": ("counter", {"job_id"}),
    "spend_monitor_scheduler_job_missed_total": ("counter", {"job_id"}),
    "spend_monitor_snapshot_series": ("gauge", set()),
    "spend_monitor_series_dropped_total": ("counter", set()),
    "spend_monitor_ledger_rows": ("gauge", set()),
    "spend_monitor_snapshot_timestamp_seconds": ("gauge", set()),
    "spend_monitor_build_info": ("gauge", {"version", "pricing_version"}),
    "llm_claude_code_cost_usd": ("gauge", {P, A, "model", "period"}),
    "llm_project_info": ("gauge", {A, "project", "project_name"}),
    "llm_api_key_info": ("gauge", {A, "api_key", "api_key_name", "owner"}),
    "llm_user_info": ("gauge", {A, "user", "user_email"}),
}
OPTIONAL: dict[str, str] = {"llm_api_key_info": "include_api_key", "llm_user_info": "include_user"}
"""Catalog metrics exported only with a metrics option (the usage series carry their label only then)."""


def rich_ledger() -> LedgerView:
    return LedgerView(
        totals=[
            TotalRow(
                "openai",
                "prod",
                "proj_a",
                "gpt-4.1",
                "standard",
                "key_1",
                tokens_of(input=100),
                tokens_of(input=123456789),
                2,
            ),
            TotalRow(
                "openai",
                "prod",
                "proj_a",
                "gpt-4.1",
                "standard",
                "key_2",
                tokens_of(input=250),
                tokens_of(input=1),
                5,
            ),
            TotalRow(
                "anthropic",
                "main",
                "",
                "claude-x",
                "",
                "",
                tokens_of(output=7),
                tokens_of(output=10**21 + 1),
                1,
                unit_cost=30_000_000_000,
            ),
            TotalRow(
                "openai",
                "prod",
                "proj_a",
                "gpt-7-preview",
                "standard",
                "key_1",
                tokens_of(input=1000),
                tokens_of(input=2_700),
                1,
                repriced_costs=tokens_of(input=300),
            ),
        ],
        spend=[
            SpendRow("openai", "prod", "proj_a", "gpt-4.1", "day", 1_500_000_000_000),
            SpendRow("openai", "prod", "proj_a", "gpt-4.1", "month", 12_345_678_901_234),
        ],
        billed=[BilledRow("openai", "prod", "proj_a", "month", 12_000_000_000_000)],
        drift=[DriftRow("openai", "prod", Decimal("0.0288"))],
        unpriced=[
            UnpricedRow("openai", "prod", "mystery-model", 4242),
            UnpricedRow("openai", "prod", "gpt-7-preview", 0, priced_later=1000),
        ],
        bill_lines=[BillLinesRow("anthropic", "main", "unmatched", 2)],
        cache_savings=[SavingsRow("anthropic", "main", "claude-x", 2_500_000)],
        prices=[PriceRow("openai", "gpt-4.1", "standard", "cached_input", Decimal("0.075"))],
        observed_prices=[
            ObservedPriceRow("openai", "prod", "gpt-4.1-2025-04-14", "standard", "input", Decimal("2.2"))
        ],
        budgets=[
            BudgetRow(
                "monthly",
                limit_pico=500 * 10**12,
                spend_pico=123_450_000_000_000,
                forecast_pico=610 * 10**12,
                period_end=1_735_689_600,
                runout=1_735_000_000.0,
                alert_states=[("50", "actual", 0), ("100", "forecast", 1)],
            ),
            BudgetRow("idle", limit_pico=10**12, spend_pico=0, forecast_pico=0, period_end=1_735_689_600),
        ],
        balances=[
            BalanceRow("newapi", "relay", "", 38_200_000_000_000, 500 * 10**12),
            BalanceRow("openrouter", "router", "prod-app", 120 * 10**12, None),
        ],
        outbox_pending=3,
        ledger_rows=12345,
        claude_code=[
            ClaudeCodeRow("anthropic", "main", "alice@acme.example", "claude-x", "month", 1_860_000_000_000)
        ],
        names=[
            NameRow("project", "prod", "proj_a", "search-backend"),
            NameRow("api_key", "prod", "key_1", "ci", "alice@acme.example"),
            NameRow("user", "prod", "user-1", "alice@acme.example"),
        ],
    )


def stats() -> PollStats:
    return PollStats(
        [
            AccountRef("openai", "prod", ("completions", "costs")),
            AccountRef("anthropic", "main", ("messages",)),
        ],
        channels=["webhook"],
        jobs=["outbox"],
    )


def registry_for(
    ledger: LedgerView,
    polls: PollView | None = None,
    *,
    include_api_key: bool = False,
    include_user: bool = False,
    built_at: float = 1_700_000_000.0,
) -> CollectorRegistry:
    snapshot = Snapshot(
        ledger,
        polls if polls is not None else stats().view(),
        BuildInfo("1.2.3", "2025-06-01"),
        built_at,
        MetricsOptions(include_api_key=include_api_key, series_limit=10_000, include_user=include_user),
    )
    registry = CollectorRegistry()
    registry.register(SnapshotCollector(snapshot))
    return registry


def exported(registry: CollectorRegistry) -> dict[str, tuple[str, set[str]]]:
    out = {}
    for family in registry.collect():
        name = family.name + "_total" if family.type == "counter" else family.name
        labels = {k for s in family.samples for k in s.labels if k != "le"}
        out[name] = (family.type, labels)
    return out


def test_every_catalog_metric_is_exported_with_its_type_and_labels() -> None:
    got = exported(registry_for(rich_ledger()))
    for name, (kind, labels) in CATALOG.items():
        if name in OPTIONAL:
            assert name not in got, f"{name} is exported only with metrics.{OPTIONAL[name]}"
            continue
        assert name in got, f"{name} missing"
        assert got[name] == (kind, labels), name


def test_no_metric_outside_the_catalog_is_exported() -> None:
    assert set(exported(registry_for(rich_ledger()))) <= set(CATALOG)


def test_cost_is_rendered_exactly_from_picodollars() -> None:
    registry = registry_for(rich_ledger())
    labels = {P: "openai", A: "prod", "project": "proj_a", "model": "gpt-4.1", "service_tier": "standard"}
    # 123456789 + 1 picodollars over the two api keys
    assert registry.get_sample_value("llm_cost_usd_total", {**labels, "token_type": "input"}) == 0.00012345679
    big = {
        P: "anthropic",
        A: "main",
        "project": "",
        "model": "claude-x",
        "service_tier": "",
        "token_type": "output",
    }
    assert registry.get_sample_value("llm_cost_usd_total", big) == 1_000_000_000.000000001


def test_single_row_of_123456789_picodollars_is_0_000123456789_usd() -> None:
    ledger = LedgerView(
        totals=[TotalRow("openai", "a", tokens=tokens_of(input=1), costs=tokens_of(input=123456789))]
    )
    labels = {P: "openai", A: "a", "project": "", "model": "", "service_tier": "", "token_type": "input"}
    assert registry_for(ledger).get_sample_value("llm_cost_usd_total", labels) == 0.000123456789


def test_usage_is_summed_over_api_keys_by_default() -> None:
    registry = registry_for(rich_ledger())
    labels = {P: "openai", A: "prod", "project": "proj_a", "model": "gpt-4.1", "service_tier": "standard"}
    assert registry.get_sample_value("llm_tokens_total", {**labels, "token_type": "input"}) == 350
    assert registry.get_sample_value("llm_requests_total", labels) == 7


def test_include_api_key_adds_the_label_to_usage_metrics() -> None:
    registry = registry_for(rich_ledger(), include_api_key=True)
    labels = {P: "openai", A: "prod", "project": "proj_a", "model": "gpt-4.1", "service_tier": "standard"}
    assert (
        registry.get_sample_value("llm_tokens_total", {**labels, "api_key": "key_2", "token_type": "input"})
        == 250
    )
    assert registry.get_sample_value("llm_requests_total", {**labels, "api_key": "key_1"}) == 2
    assert registry.get_sample_value(
        "llm_cost_usd_total", {**labels, "api_key": "key_1", "token_type": "input"}
    ) == (0.000123456789)
    got = exported(registry)
    for name in ("llm_tokens_total", "llm_requests_total", "llm_cost_usd_total"):
        assert got[name][1] == CATALOG[name][1] | {"api_key"}
    assert "api_key" not in got["llm_spend_usd"][1]


def test_unknown_label_values_are_empty_strings_not_omitted() -> None:
    registry = registry_for(rich_ledger())
    labels = {P: "anthropic", A: "main", "project": "", "model": "claude-x", "service_tier": ""}
    assert registry.get_sample_value("llm_requests_total", labels) == 1


def test_token_types_without_usage_have_no_series() -> None:
    registry = registry_for(rich_ledger())
    labels = {P: "openai", A: "prod", "project": "proj_a", "model": "gpt-4.1", "service_tier": "standard"}
    unused = [t for t in TOKEN_TYPES if t != "input"]
    assert all(
        registry.get_sample_value("llm_tokens_total", {**labels, "token_type": t}) is None for t in unused
    )


def test_non_token_costs_are_exported_apart_from_token_costs() -> None:
    registry = registry_for(rich_ledger())
    labels = {P: "anthropic", A: "main", "project": "", "model": "claude-x", "service_tier": ""}
    assert registry.get_sample_value("llm_non_token_cost_usd_total", labels) == 0.03
    series = next(f for f in registry.collect() if f.name == "llm_non_token_cost_usd").samples
    assert [s.labels[P] for s in series if s.name.endswith("_total")] == ["anthropic"]  # none at $0


def test_period_gauges_carry_spend_and_billed_cost() -> None:
    registry = registry_for(rich_ledger())
    base = {P: "openai", A: "prod", "project": "proj_a"}
    spend = {**base, "model": "gpt-4.1", "team": "unassigned"}
    assert registry.get_sample_value("llm_spend_usd", {**spend, "period": "day"}) == 1.5
    assert registry.get_sample_value("llm_spend_usd", {**spend, "period": "month"}) == 12.345678901234
    assert registry.get_sample_value("llm_billed_cost_usd", {**base, "period": "month"}) == 12.0
    assert registry.get_sample_value("llm_cost_drift_ratio", {P: "openai", A: "prod"}) == 0.0288


def test_unpriced_tokens_cache_savings_and_prices_are_exported() -> None:
    registry = registry_for(rich_ledger())
    assert (
        registry.get_sample_value(
            "llm_unpriced_tokens_total", {P: "openai", A: "prod", "model": "mystery-model"}
        )
        == 4242
    )
    assert registry.get_sample_value(
        "llm_cache_savings_usd_total", {P: "anthropic", A: "main", "model": "claude-x"}
    ) == (0.0000025)
    price = {P: "openai", "model": "gpt-4.1", "service_tier": "standard", "token_type": "cached_input"}
    assert registry.get_sample_value("llm_price_usd_per_million_tokens", price) == 0.075


def test_budget_gauges() -> None:
    registry = registry_for(rich_ledger())
    b = {"budget": "monthly"}
    assert registry.get_sample_value("llm_budget_limit_usd", b) == 500
    assert registry.get_sample_value("llm_budget_spend_usd", b) == 123.45
    assert registry.get_sample_value("llm_budget_utilization_ratio", b) == 0.2469
    assert registry.get_sample_value("llm_budget_forecast_usd", b) == 610
    assert registry.get_sample_value("llm_budget_period_end_timestamp_seconds", b) == 1_735_689_600
    assert registry.get_sample_value("llm_budget_runout_timestamp_seconds", b) == 1_735_000_000
    assert (
        registry.get_sample_value("llm_budget_alert_state", {**b, "threshold": "100", "kind": "forecast"})
        == 1
    )
    assert (
        registry.get_sample_value("llm_budget_alert_state", {**b, "threshold": "50", "kind": "actual"}) == 0
    )


def test_budget_runout_is_infinite_when_nothing_is_spent() -> None:
    registry = registry_for(rich_ledger())
    assert registry.get_sample_value("llm_budget_runout_timestamp_seconds", {"budget": "idle"}) == float(
        "inf"
    )


def test_self_metrics_exist_at_zero_for_every_configured_account_before_any_poll() -> None:
    registry = registry_for(LedgerView())
    for provider, account, endpoint in (
        ("openai", "prod", "completions"),
        ("openai", "prod", "costs"),
        ("anthropic", "main", "messages"),
    ):
        where = {P: provider, A: account, E: endpoint}
        for reason in (
            "rate_limited",
            "server_error",
            "timeout",
            "connection",
            "auth",
            "bad_response",
            "client_error",
            "internal",
        ):
            assert (
                registry.get_sample_value("spend_monitor_poll_errors_total", {**where, "reason": reason}) == 0
            )
        assert registry.get_sample_value("spend_monitor_poll_requests_total", where) == 0
        assert registry.get_sample_value("spend_monitor_poll_last_success_timestamp_seconds", where) == 0
    for provider, account in (("openai", "prod"), ("anthropic", "main")):
        who = {P: provider, A: account}
        assert registry.get_sample_value("spend_monitor_poll_duration_seconds_count", who) == 0
        assert registry.get_sample_value("spend_monitor_data_lag_seconds", who) == 0
        assert registry.get_sample_value("spend_monitor_account_healthy", who) == 1
    for outcome in ("sent", "failed", "retried"):
        assert (
            registry.get_sample_value(
                "spend_monitor_alerts_sent_total", {"channel": "webhook", "outcome": outcome}
            )
            == 0
        )
    assert registry.get_sample_value("spend_monitor_scheduler_job_errors_total", {"job_id": "outbox"}) == 0


def test_poll_duration_histogram_buckets_are_cumulative() -> None:
    polls = stats()
    for duration in (0.3, 4.0, 1000.0):
        polls.record_poll("openai", "prod", duration=duration, ok=True, finished_at=1.0)
    registry = registry_for(LedgerView(), polls.view())
    who = {P: "openai", A: "prod"}
    assert registry.get_sample_value("spend_monitor_poll_duration_seconds_bucket", {**who, "le": "0.5"}) == 1
    assert registry.get_sample_value("spend_monitor_poll_duration_seconds_bucket", {**who, "le": "5.0"}) == 2
    assert (
        registry.get_sample_value("spend_monitor_poll_duration_seconds_bucket", {**who, "le": "600.0"}) == 2
    )
    assert registry.get_sample_value("spend_monitor_poll_duration_seconds_bucket", {**who, "le": "+Inf"}) == 3
    assert registry.get_sample_value("spend_monitor_poll_duration_seconds_sum", who) == 1004.3


def test_build_info_ledger_rows_outbox_and_snapshot_time() -> None:
    registry = registry_for(rich_ledger(), built_at=1_700_000_123.5)
    assert (
        registry.get_sample_value(
            "spend_monitor_build_info", {"version": "1.2.3", "pricing_version": "2025-06-01"}
        )
        == 1
    )
    assert registry.get_sample_value("spend_monitor_ledger_rows") == 12345
    assert registry.get_sample_value("spend_monitor_alert_outbox_pending") == 3
    assert registry.get_sample_value("spend_monitor_snapshot_timestamp_seconds") == 1_700_000_123.5


def test_snapshot_series_counts_every_exported_sample() -> None:
    registry = registry_for(rich_ledger())
    samples = sum(len(family.samples) for family in registry.collect())
    assert registry.get_sample_value("spend_monitor_snapshot_series") == samples


def test_collect_can_be_called_repeatedly_with_the_same_result() -> None:
    registry = registry_for(rich_ledger())
    first = [(f.name, f.samples) for f in registry.collect()]
    assert [(f.name, f.samples) for f in registry.collect()] == first


def documented_catalog() -> dict[str, tuple[str, set[str]]]:
    """The catalog table of docs/metrics.md: | `name` | type | labels | meaning |."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "metrics.md").read_text()
    section = text.split("## Catalog", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for match in re.finditer(r"^\| `([a-z_]+)`(?: \*)? \| (\w+) \|([a-z_, ]*)\|", section, re.MULTILINE):
        name, kind, labels = match.groups()
        rows[name] = (kind, {label.strip() for label in labels.split(",") if label.strip()})
    return rows


def test_docs_catalog_is_the_contract() -> None:
    assert documented_catalog() == CATALOG


def test_docs_catalog_matches_what_is_exported() -> None:
    default = {k: v for k, v in documented_catalog().items() if k not in OPTIONAL}
    assert exported(registry_for(rich_ledger())) == default


def test_balances_are_exported_exactly_and_a_limit_only_where_one_is_known() -> None:
    registry = registry_for(rich_ledger())
    relay = {P: "newapi", A: "relay", "key": ""}
    assert registry.get_sample_value("llm_account_balance_usd", relay) == 38.2
    assert registry.get_sample_value("llm_account_credit_limit_usd", relay) == 500
    key = {P: "openrouter", A: "router", "key": "prod-app"}
    assert registry.get_sample_value("llm_account_balance_usd", key) == 120
    assert registry.get_sample_value("llm_account_credit_limit_usd", key) is None


def test_observed_rates_are_exported_beside_the_list_price_and_never_folded() -> None:
    registry = registry_for(rich_ledger())
    labels = {P: "openai", A: "prod", "model": "gpt-4.1-2025-04-14", "service_tier": "standard"}
    observed = registry.get_sample_value(
        "llm_price_observed_usd_per_million_tokens", {**labels, "token_type": "input"}
    )
    assert observed == 2.2
    families = ledger_families(
        LedgerView(
            totals=[
                TotalRow("openai", "prod", "", f"m{i}", "", "", tokens_of(input=i), tokens_of(input=i))
                for i in range(1, 9)
            ],
            observed_prices=[
                ObservedPriceRow("openai", "prod", f"m{i}", "standard", "input", Decimal(i))
                for i in range(1, 9)
            ],
        ),
        include_api_key=False,
    )
    steps = limit(families, 25)
    [rates] = [f for f in families if f.name == "llm_price_observed_usd_per_million_tokens"]
    assert any(step.startswith("model:") for step in steps)  # the usage series were folded...
    assert sorted(rates.values.values()) == list(range(1, 9))  # ...the rates were not added together


def test_a_cost_re_pricing_lowered_is_still_counted_and_named_apart() -> None:
    registry = registry_for(rich_ledger())
    labels = {
        P: "openai",
        A: "prod",
        "project": "proj_a",
        "model": "gpt-7-preview",
        "service_tier": "standard",
    }
    assert (
        registry.get_sample_value("llm_cost_usd_total", {**labels, "token_type": "input"}) == 3e-9
    )  # 2700 + 300
    assert registry.get_sample_value("llm_cost_repriced_usd_total", labels) == 3e-10


def test_the_repriced_counter_carries_the_key_and_user_labels_like_the_cost_it_belongs_to() -> None:
    plain = exported(registry_for(rich_ledger()))["llm_cost_repriced_usd_total"]
    both = exported(registry_for(rich_ledger(), include_api_key=True, include_user=True))
    assert both["llm_cost_repriced_usd_total"][1] == plain[1] | {"api_key", "user"}


def test_unpriced_tokens_priced_later_stay_in_the_counter_and_leave_the_gauge() -> None:
    registry = registry_for(rich_ledger())
    later = {P: "openai", A: "prod", "model": "gpt-7-preview"}
    assert registry.get_sample_value("llm_unpriced_tokens_total", later) == 1000
    assert registry.get_sample_value("llm_unpriced_tokens_now", later) is None
    mystery = {**later, "model": "mystery-model"}
    assert registry.get_sample_value("llm_unpriced_tokens_now", mystery) == 4242


def test_unused_bill_lines_are_counted_per_account_and_reason() -> None:
    registry = registry_for(rich_ledger())
    found = {P: "anthropic", A: "main", "reason": "unmatched"}
    assert registry.get_sample_value("spend_monitor_bill_lines_unused", found) == 2


def test_key_and_user_names_are_exported_with_their_options() -> None:
    got = exported(registry_for(rich_ledger(), include_api_key=True, include_user=True))
    for name in OPTIONAL:
        assert got[name] == CATALOG[name]
    text = generate_latest(registry_for(rich_ledger(), include_api_key=True, include_user=True)).decode()
    assert (
        'llm_api_key_info{account="prod",api_key="key_1",api_key_name="ci",owner="alice@acme.example"} 1.0'
        in text
    )
    assert 'llm_user_info{account="prod",user="user-1",user_email="alice@acme.example"} 1.0' in text
    assert 'llm_project_info{account="prod",project="__other__",project_name="(other projects)"} 1.0' in text


def test_include_user_adds_the_user_label_to_usage_and_claude_code() -> None:
    got = exported(registry_for(rich_ledger(), include_user=True))
    for name in ("llm_tokens_total", "llm_requests_total", "llm_cost_usd_total"):
        assert got[name][1] == CATALOG[name][1] | {"user"}
    assert got["llm_claude_code_cost_usd"][1] == CATALOG["llm_claude_code_cost_usd"][1] | {"user"}
    assert "user" not in got["llm_spend_usd"][1]
    text = generate_latest(registry_for(rich_ledger(), include_user=True)).decode()
    assert (
        'llm_claude_code_cost_usd{account="main",model="claude-x",period="month",provider="anthropic",'
        'user="alice@acme.example"} 1.86' in text
    )
