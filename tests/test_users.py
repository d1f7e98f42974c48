"""`user` as a dimension: the ledger's counters by user (and the migration that adds it), budgets
scoped to people, `report --by user`, and Anthropic's Claude Code report per developer."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlite_utils
from test_budgets_support import budget, entries_by_channel, open_stores, write
from test_store_support import recomputed_totals

from monitor.budgets import BudgetEngine
from monitor.claude_code import ClaudeCodeUsage
from monitor.claude_code_poll import poll_claude_code
from monitor.config import ProviderConfig
from monitor.daemon import Daemon
from monitor.errors import ConfigError
from monitor.providers import option_of
from monitor.providers.anthropic import AnthropicProvider
from monitor.reconciliation.report import developers
from monitor.simulator import Simulator
from monitor.store import Ledger, Scope
from monitor.store.claude_code import ClaudeCodeStore
from monitor.store.schema import MIGRATIONS
from tests.daemon_support import load, no_wait_factory, write_config

UTC_TZ = ZoneInfo("UTC")
NOW = datetime(2026, 11, 25, 10, 30, tzinfo=UTC)
DAY = 86_400


def test_totals_count_per_user_and_equal_a_full_scan(tmp_path: Path) -> None:
    ledger, _ = open_stores(tmp_path / "l.db")
    write(ledger, NOW - timedelta(hours=2), "3", user="user-alice")
    write(ledger, NOW - timedelta(hours=2), "4", user="user-bob")
    by_user = {t["user"]: t["cost_total"] for t in ledger.totals()}
    assert by_user == {"user-alice": 3 * 10**12, "user-bob": 4 * 10**12}
    assert ledger.totals() == recomputed_totals(ledger)
    assert ledger.spend(0, 2**40, Scope(user="user-a*")) == 3 * 10**12


def m003_ledger(path: Path, rows: list[tuple[str, int]]) -> None:
    """A ledger as an earlier commit of main left it: the ledger set up to m003 (totals keyed without
    user, money as high/low pairs), usage rows of (user, cost_input picodollars) in one bucket."""
    conn = sqlite3.connect(path)
    MIGRATIONS.apply(sqlite_utils.Database(conn), stop_before="m004_totals_user")
    for i, (user, cost) in enumerate(rows):
        conn.execute(
            "INSERT INTO usage (provider, account, endpoint, bucket_start, bucket_width, project, api_key, "
            "user, model, service_tier, batch, context_window, tok_input, cost_input, observed_at) "
            "VALUES ('openai', 'acct', 'completions', ?, 3600, 'p1', '', ?, 'gpt-4.1', 'default', 0, ?, "
            "1000, ?, 7)",
            (int(NOW.timestamp()) // 3600 * 3600, user, f"cw{i}", cost),
        )
    conn.execute(
        "INSERT INTO totals (provider, account, project, api_key, model, service_tier, rows, tok_input) "
        "VALUES ('openai', 'acct', 'p1', '', 'gpt-4.1', 'default', ?, ?)",
        (len(rows), 1000 * len(rows)),
    )
    conn.commit()
    conn.close()


def test_the_migration_rebuilds_totals_by_user_exactly_from_usage(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    big = 2**63 - 1  # the most one row may cost: two of them pass SQLite's int64 when summed
    m003_ledger(path, [("user-alice", big), ("user-alice", big), ("user-bob", 4 * 10**12)])
    with Ledger.open(path) as ledger:
        totals = ledger.totals()
        assert totals == recomputed_totals(ledger)
    assert {t["user"]: (t["rows"], t["cost_total"]) for t in totals} == {
        "user-alice": (2, 2 * big),
        "user-bob": (1, 4 * 10**12),
    }


def test_a_budget_scoped_to_a_user_counts_only_that_user(tmp_path: Path) -> None:
    ledger, store = open_stores(tmp_path / "l.db")
    write(ledger, NOW - timedelta(hours=2), "60", user="user-alice")
    write(ledger, NOW - timedelta(hours=2), "70", user="user-bob")
    engine = BudgetEngine([budget("alice", "100", user=("user-alice",))], ["hook"], UTC_TZ)
    [status] = engine.evaluate(ledger, store, NOW)
    assert status.spend_pico == 60 * 10**12
    assert [t for t, _, _ in entries_by_channel(store)["hook"]] == ["50"]


def claude_code_row(day: int, actor: str, cents: int, account: str = "anthropic-prod") -> ClaudeCodeUsage:
    return ClaudeCodeUsage(
        "anthropic",
        account,
        day,
        actor,
        "claude-sonnet-4-5",
        input_tokens=1000,
        estimated_cost_pico=cents * 10**10,
    )


def test_a_developer_budget_counts_their_claude_code_estimate(tmp_path: Path) -> None:
    ledger, store = open_stores(tmp_path / "l.db")
    yesterday = (int(NOW.timestamp()) // DAY - 1) * DAY
    ClaudeCodeStore(ledger).write(
        "anthropic-prod",
        [
            claude_code_row(yesterday, "alice@acme.example", 4_500),
            claude_code_row(yesterday, "bob@acme.example", 900),
        ],
        observed_at=1,
        days=[yesterday],
    )
    write(
        ledger,
        NOW - timedelta(hours=2),
        "20",
        provider="anthropic",
        account="anthropic-prod",
        endpoint="messages",
    )
    engine = BudgetEngine(
        [budget("alice", "100", user=("alice@*",)), budget("anthropic", "1000", provider=("anthropic",))],
        ["hook"],
        UTC_TZ,
    )
    alice, anthropic = engine.evaluate(ledger, store, NOW)
    assert alice.spend_pico == 45 * 10**12, "the developer's coding agent, not the account's other usage"
    assert anthropic.spend_pico == 20 * 10**12, "Claude Code is never added to an account's spend"


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(seed=4, clock=NOW.timestamp) as s:
        yield s


@pytest.fixture
def anthropic(sim: Simulator) -> Iterator[AnthropicProvider]:
    provider = AnthropicProvider(
        account="anthropic-prod",
        api_key=sim.anthropic_key,
        base_url=sim.anthropic_base_url,
        sleep=lambda _: None,
    )
    yield provider
    provider.close()


def truth(sim: Simulator, days: list[int]) -> dict[tuple[int, str, str], tuple[int, int]]:
    """(day, actor, model) -> (output tokens, estimated picodollars) as the simulator reports them."""
    out = {}
    for day in days:
        for record in sim.claude_code(day):
            actor = record["actor"].get("email_address") or record["actor"]["api_key_name"]
            for m in record["model_breakdown"]:
                out[(day, actor, m["model"])] = (
                    m["tokens"]["output"],
                    m["estimated_cost"]["amount"] * 10**10,
                )
    return out


def stored(ledger: Ledger) -> dict[tuple[int, str, str], tuple[int, int]]:
    return {
        (r.day_start, r.actor, r.model): (r.output_tokens, r.estimated_cost_pico)
        for r in ClaudeCodeStore(ledger).rows(0, 2**40)
    }


def test_claude_code_report_is_stored_per_developer_as_reported(
    sim: Simulator, anthropic: AnthropicProvider, tmp_path: Path
) -> None:
    now = int(NOW.timestamp())
    start = now - 3 * DAY
    with Ledger.open(tmp_path / "l.db") as ledger:
        polled = poll_claude_code(anthropic, ledger, now, start)
        assert polled is not None and polled.error == "" and polled.rows > 0
        days = [d for d in range(start - start % DAY, now, DAY)]
        assert stored(ledger) == truth(sim, days)
        assert poll_claude_code(anthropic, ledger, now + 60, start) is not None
        assert stored(ledger) == truth(sim, days), "a re-poll replaces, never adds"
        lines = developers(ledger, start - start % DAY, now)
        assert {line.actor for line in lines} == {actor for (_, actor, _) in truth(sim, days)}
        assert sum(line.estimated_pico for line in lines) == sum(p for _, p in truth(sim, days).values())


def test_claude_code_403_is_one_line_and_not_stored(
    sim: Simulator, anthropic: AnthropicProvider, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sim.inject("403", path="*/usage_report/claude_code")
    now = int(NOW.timestamp())
    with caplog.at_level(logging.WARNING), Ledger.open(tmp_path / "l.db") as ledger:
        polled = poll_claude_code(anthropic, ledger, now, now - DAY)
        assert polled is not None and polled.reason == "auth"
        assert ClaudeCodeStore(ledger).rows(0, 2**40) == []
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "claude_code" in lines[0] and "\n" not in lines[0]


def test_claude_code_is_polled_by_default_and_not_with_claude_code_false(
    sim: Simulator, tmp_path: Path
) -> None:
    path = write_config(tmp_path / "c.yaml", sim, tmp_path / "l.db", lookback="1d")
    on = load(path, sim)
    off_text = path.read_text().replace(
        "    type: anthropic\n", "    type: anthropic\n    claude_code: false\n"
    )
    off = load(write_text(tmp_path / "off.yaml", off_text), sim)
    assert [option_of(p, "claude_code") for p in on.providers] == [None, True], "openai has no such key"
    assert [option_of(p, "claude_code") for p in off.providers] == [None, False]
    for config, asked in ((off, False), (on, True)):
        sim.reset_log()
        daemon = Daemon(config, clock=sim.clock, provider_factory=no_wait_factory)
        try:
            assert daemon.poll_account("anthropic-test").ok
        finally:
            daemon.stop()
        assert any(r.path.endswith("/claude_code") for r in sim.requests_log) is asked


def test_an_anthropic_entry_built_in_code_polls_claude_code() -> None:
    cfg = ProviderConfig(name="a", type="anthropic")
    assert option_of(cfg, "claude_code") is True
    assert option_of(ProviderConfig(name="r", type="newapi"), "claude_code") is None


def test_claude_code_on_another_type_is_one_line(sim: Simulator, tmp_path: Path) -> None:
    path = write_config(tmp_path / "c.yaml", sim, tmp_path / "l.db")
    text = path.read_text().replace("    type: openai\n", "    type: openai\n    claude_code: true\n")
    with pytest.raises(ConfigError) as raised:
        load(write_text(tmp_path / "bad.yaml", text), sim)
    assert [p.split(": ", 1)[1] for p in raised.value.problems] == [
        "providers[0].claude_code: only applies to anthropic providers (remove it)"
    ]


def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
