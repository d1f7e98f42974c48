"""Budgets never blind, against the simulator on loopback: a budget says what it cannot price (in its alert,
its status page row, `spend-monitor budgets` and `llm_budget_unpriced_tokens`), and counts what a bill
shows above the computed cost (per day, spend = max(computed, billed); docs/budgets.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from bill_support import FIRST_DAY, PREVIEWS, config_for, preview_sim
from prometheus_client.parser import text_string_to_metric_families
from test_alerts_support import Receiver

from monitor.budgets.blind import allocate
from monitor.daemon import Daemon
from monitor.records import tokens_text
from monitor.simulator import Simulator
from monitor.store import Ledger, Scope
from monitor.store.billed import BilledStore
from tests.channel_support import (
    azure_entry,
    channel_daemon,
    ledger_billed_by_day,
    ledger_usage,
    openrouter_entry,
    restart,
)
from tests.daemon_support import HOUR, T0, Clock, no_wait_factory

DAY = 24 * HOUR
NO_BILL = "pricing:\n  sources: [bundled, files]\n"


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def sim(clock: Clock) -> Iterator[Simulator]:
    with preview_sim(clock) as s:
        yield s


@pytest.fixture
def hook() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def budgets(*lines: str) -> str:
    return "budgets:\n" + "".join(lines)


def budget(name: str, usd: int, scope: str) -> str:
    return f"  - name: {name}\n    amount_usd: {usd}\n    period: month\n    scope: {scope}\n    thresholds: [50]\n"


def run(tmp_path: Path, sim: Simulator, clock: Clock, extra: str) -> Daemon:
    daemon = Daemon(config_for(tmp_path, sim, extra), clock=clock, provider_factory=no_wait_factory)
    assert all(r.ok for r in daemon.run_cycle().values())
    return daemon


def unpriced_of(db: Path, provider: str) -> int:
    with Ledger.open(db) as ledger:
        return sum(u["tokens"] for u in ledger.unpriced() if u["provider"] == provider)


def test_a_budget_with_unpriced_usage_says_so_in_its_alert_page_row_and_gauge(
    tmp_path: Path, sim: Simulator, clock: Clock, hook: Receiver
) -> None:
    alerts = f"alerts:\n  - type: webhook\n    url: {hook.url}/hook\n    secret: whsec-test-0123456789\n"
    extra = NO_BILL + budgets(budget("openai-monthly", 1, "{provider: openai}")) + alerts
    daemon = run(tmp_path, sim, clock, extra)
    tokens = unpriced_of(tmp_path / "spend.db", "openai")
    words = f"plus {tokens_text(tokens)} unpriced tokens of {PREVIEWS['openai']}"
    try:
        page = daemon.status_page().decode()
        metrics = daemon.exposition.render()[0].decode()
    finally:
        daemon.stop()
    assert tokens > 0
    [sent] = [r.json["alert"] for r in hook.accepted if r.json["alert"].get("budget") == "openai-monthly"]
    assert sent["summary"].startswith("Budget openai-monthly: spend $") and sent["summary"].endswith(words)
    assert sent["unpriced_tokens"] == tokens
    assert sent["unpriced_models"] == [{"model": PREVIEWS["openai"], "tokens": tokens}]
    assert words in page
    gauge = {
        s.labels["budget"]: s.value
        for f in text_string_to_metric_families(metrics)
        for s in f.samples
        if s.name == "llm_budget_unpriced_tokens"
    }
    assert gauge == {"openai-monthly": tokens}


def test_a_budget_names_the_largest_unpriced_models_first(
    tmp_path: Path, sim: Simulator, clock: Clock
) -> None:
    daemon = run(tmp_path, sim, clock, NO_BILL + budgets(budget("everything", 10_000, "{}")))
    daemon.stop()
    [status] = daemon.cycle.statuses
    each = {PREVIEWS[p]: unpriced_of(tmp_path / "spend.db", p) for p in PREVIEWS}
    assert status.unpriced_models == tuple(sorted(each.items(), key=lambda m: -m[1]))
    assert status.unpriced_tokens == sum(each.values())


def test_with_rates_from_the_bill_nothing_is_left_unpriced_for_budgets(
    tmp_path: Path, sim: Simulator, clock: Clock
) -> None:
    daemon = run(tmp_path, sim, clock, budgets(budget("everything", 10_000, "{}")))
    daemon.stop()
    [status] = daemon.cycle.statuses
    assert (status.unpriced_tokens, status.unpriced_models) == (0, ())


def day_sums(db: Path, account: str, model: str | None = None) -> list[tuple[int, int]]:
    """(computed, billed) picodollars of each UTC day of the month whose bill was fetched."""
    scope = Scope(account=account, model=model) if model else Scope(account=account)
    with Ledger.open(db) as ledger:
        billed = BilledStore(ledger)
        days = sorted(d for a, d in billed.observed_days(FIRST_DAY, T0 + DAY) if a == account)
        lines = billed.lines(FIRST_DAY, T0 + DAY)
        return [
            (
                ledger.spend(day, day + DAY, scope),
                sum(
                    c.amount_pico
                    for c in lines
                    if c.account == account and c.day_start == day and (model is None or c.model == model)
                ),
            )
            for day in days
        ]


def test_a_day_whose_bill_exceeds_the_computed_cost_counts_the_bill(
    tmp_path: Path, sim: Simulator, clock: Clock
) -> None:
    # The provider bills Claude Opus 5.5 output 50% above the table: each day's bill is above the ledger.
    sim.set_price("claude-opus-5-5", "output", Decimal(30))
    extra = budgets(
        budget("anthropic", 10_000, "{account: anthropic-test}"),
        budget("opus", 10_000, '{model: ["claude-opus-5-5*"]}'),
        budget("haiku", 10_000, '{model: ["claude-haiku-*"]}'),
    )
    daemon = run(tmp_path, sim, clock, extra)
    daemon.stop()
    status = {s.name: s for s in daemon.cycle.statuses}
    account = day_sums(tmp_path / "spend.db", "anthropic-test")
    assert all(billed > computed for computed, billed in account)
    assert status["anthropic"].spend_pico == sum(max(c, b) for c, b in account)
    assert status["anthropic"].billed_excess_pico == sum(b - c for c, b in account)
    opus = day_sums(tmp_path / "spend.db", "anthropic-test", "claude-opus-5-5")
    assert status["opus"].billed_excess_pico == sum(b - c for c, b in opus)  # the excess is Opus's
    assert status["haiku"].billed_excess_pico == 0


def test_a_day_whose_bill_is_below_the_computed_cost_counts_the_computed_cost(
    tmp_path: Path, sim: Simulator, clock: Clock
) -> None:
    sim.set_price("claude-opus-5-5", "output", Decimal(10))  # billed below the table's $20
    daemon = run(tmp_path, sim, clock, budgets(budget("anthropic", 10_000, "{account: anthropic-test}")))
    daemon.stop()
    [status] = daemon.cycle.statuses
    with Ledger.open(tmp_path / "spend.db") as ledger:
        computed = ledger.spend(FIRST_DAY, T0 + DAY, Scope(account="anthropic-test"))
    assert (status.spend_pico, status.billed_excess_pico) == (computed, 0)


def test_an_excess_is_shared_in_whole_picodollars_that_add_up() -> None:
    shares = allocate(10, {"a": 1, "b": 1, "c": 1})
    assert sum(shares.values()) == 10 and sorted(shares.values()) == [3, 3, 4]
    assert allocate(7, {"only": 5}) == {"only": 7}


def channel_budgets(tmp_path: Path, clock: Clock, entries: Callable[[Simulator], str], extra: str) -> Daemon:
    with Simulator(seed=9, clock=clock, start=T0 - 40 * DAY) as channels:
        daemon = channel_daemon(tmp_path, channels, clock, entries(channels), extra)
        try:
            assert all(r.ok for r in daemon.run_cycle().values())
        finally:
            restart(daemon)
    return daemon


def test_openrouters_spend_so_far_today_counts_before_its_usage_is_published(
    tmp_path: Path, clock: Clock
) -> None:
    # /activity lists completed days only: today's usage is not in the ledger, only the keys' spend.
    daemon = channel_budgets(
        tmp_path,
        clock,
        openrouter_entry,
        budgets(budget("router", 10_000, "{provider: openrouter}")),
    )
    today = T0 - T0 % DAY
    [status] = daemon.cycle.statuses
    so_far = ledger_billed_by_day(tmp_path / "spend.db", "router", today, today + DAY)[today]
    assert ledger_usage(tmp_path / "spend.db", "openrouter", today, today + DAY)["cost"] == 0
    assert so_far > 0 and status.billed_excess_pico >= so_far


def test_azures_bill_is_what_its_budget_counts_where_it_is_above_the_metrics(
    tmp_path: Path, clock: Clock
) -> None:
    daemon = channel_budgets(
        tmp_path,
        clock,
        azure_entry,
        budgets(budget("azure", 10_000, "{provider: azure_openai}")),
    )
    [status] = daemon.cycle.statuses
    month = T0 - T0 % DAY - 24 * DAY  # 2026-11-01
    billed = ledger_billed_by_day(tmp_path / "spend.db", "azure", month, T0 + DAY)
    with Ledger.open(tmp_path / "spend.db") as ledger:
        computed = {d: ledger.spend(d, d + DAY, Scope(account="azure")) for d in range(month, T0, DAY)}
    assert billed
    assert status.spend_pico == sum(max(computed[d], billed.get(d, 0)) for d in computed)
