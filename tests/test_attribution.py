"""Teams and cost centres: the rules (first match wins, the rest unassigned, globs), their config
errors, and the one function every reader shares: budgets, reports, metrics, applied at read time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from test_budgets_support import budget, entries_by_channel, open_stores, write

from monitor.attribution import UNASSIGNED, Attribution, Attributor
from monitor.budgets import BudgetEngine
from monitor.claude_code import ClaudeCodeUsage
from monitor.cli import main
from monitor.cli.report_plot import budget_days
from monitor.config import BudgetScope
from monitor.config.model import AttributionRule
from monitor.ledger_view import spend_rows
from monitor.store.claude_code import ClaudeCodeStore

UTC_TZ = ZoneInfo("UTC")
NOW = datetime(2026, 11, 25, 10, 30, tzinfo=UTC)
RULES = (
    AttributionRule(BudgetScope(account=("openai-prod",), project=("proj_alpha",)), "search", "CC-100"),
    AttributionRule(BudgetScope(account=("anthropic-*",)), "assistants"),
    AttributionRule(BudgetScope(user=("alice@*",)), "platform", "CC-200"),
)


def ids(account: str, project: str = "", user: str = "", provider: str = "openai") -> tuple[str, ...]:
    return (provider, account, project, "gpt-4.1", "", user)


def test_the_first_matching_rule_wins_and_the_rest_is_unassigned() -> None:
    who = Attributor(RULES)
    assert who.of(ids("openai-prod", "proj_alpha")) == Attribution("search", "CC-100")
    assert who.of(ids("anthropic-prod", user="alice@acme.example", provider="anthropic")) == Attribution(
        "assistants", UNASSIGNED
    ), "the account rule comes first"
    assert who.of(ids("openai-prod", "proj_beta", user="alice@acme.example")) == Attribution(
        "platform", "CC-200"
    )
    assert who.of(ids("openai-prod", "proj_beta")) == Attribution(UNASSIGNED, UNASSIGNED)


def test_rules_name_the_dimensions_a_grouping_must_keep() -> None:
    assert Attributor(RULES).dims == ("account", "project", "user")
    assert Attributor().dims == ()


def test_only_rules_by_user_claim_claude_code_developers() -> None:
    who = Attributor(RULES)
    assert who.of_person("anthropic", "anthropic-prod", "claude-x", "alice@acme.example") is None
    assert who.of_person("openai", "other", "m", "alice@acme.example") == Attribution("platform", "CC-200")


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("SPEND_MONITOR_TEST_KEY", "sk-admin-test")
    yield tmp_path / "config.yaml"


def check(config_file: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    config_file.write_text(
        "providers:\n  - {name: openai-prod, type: openai, api_key: '${SPEND_MONITOR_TEST_KEY}'}\n" + text,
        encoding="utf-8",
    )
    code = main(["check-config", "--config", str(config_file)])
    return code, capsys.readouterr().err.splitlines()


def test_a_rule_naming_an_unknown_account_is_one_line_and_exit_2(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = check(
        config_file, "attribution:\n  - match: {account: opneai-prod}\n    team: search\n", capsys
    )
    assert code == 2
    assert lines == [
        f"spend-monitor: error: {config_file}:4: attribution[0].match.account: no provider account is named "
        "'opneai-prod' (did you mean 'openai-prod'? expected one of: openai-prod)"
    ]


def test_a_rule_without_team_or_cost_center_is_refused(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = check(config_file, "attribution:\n  - match: {account: openai-prod}\n", capsys)
    assert code == 2 and len(lines) == 1 and "neither team nor cost_center" in lines[0]


def test_a_budget_naming_a_team_no_rule_gives_is_refused(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        "attribution:\n  - match: {account: openai-prod}\n    team: search\n"
        "budgets:\n  - {name: b, amount_usd: 5, period: day, scope: {team: serch}}\n"
    )
    code, lines = check(config_file, text, capsys)
    assert code == 2 and len(lines) == 1
    assert (
        "budgets[0].scope.team: no attribution rule names the team 'serch' (did you mean 'search'?"
        in lines[0]
    )


def test_a_valid_attribution_section_loads(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (
        "attribution:\n  - match: {account: openai-prod, project: [proj_a, 'proj_b*']}\n    team: search\n"
        "    cost_center: CC-100\nbudgets:\n  - {name: b, amount_usd: 5, period: day, scope: {team: search}}\n"
    )
    assert check(config_file, text, capsys) == (0, [])


def test_a_budget_scoped_to_a_team_counts_what_the_rules_give_it_and_alerts_once(tmp_path: Path) -> None:
    ledger, store = open_stores(tmp_path / "l.db")
    write(ledger, NOW - timedelta(hours=3), "40", account="openai-prod", project="proj_alpha")
    write(ledger, NOW - timedelta(hours=3), "500", account="openai-prod", project="proj_beta")
    engine = BudgetEngine([budget("search", "50", team=("search",))], ["hook"], UTC_TZ, attribution=RULES)
    [status] = engine.evaluate(ledger, store, NOW)
    assert status.spend_pico == 40 * 10**12
    write(ledger, NOW - timedelta(hours=2), "20", account="openai-prod", project="proj_alpha")
    for minutes in (5, 10):
        engine.evaluate(ledger, store, NOW + timedelta(minutes=minutes))
    # 50% and 80% were crossed at once: one notification, headed by 80% (monitor.budgets.grouping)
    assert entries_by_channel(store)["hook"] == [("80", "actual", "firing"), ("100", "actual", "firing")]


def test_a_team_of_developers_counts_their_claude_code(tmp_path: Path) -> None:
    ledger, store = open_stores(tmp_path / "l.db")
    day = (int(NOW.timestamp()) // 86400 - 1) * 86400
    rows = [
        ClaudeCodeUsage(
            "anthropic", "anthropic-prod", day, who, "claude-x", estimated_cost_pico=cost * 10**12
        )
        for who, cost in (("alice@acme.example", 7), ("bob@acme.example", 3))
    ]
    ClaudeCodeStore(ledger).write("anthropic-prod", rows, observed_at=1, days=[day])
    rules = (AttributionRule(BudgetScope(user=("alice@*",)), "platform"),)
    engine = BudgetEngine(
        [budget("platform", "100", team=("platform",)), budget("rest", "100", team=(UNASSIGNED,))],
        ["hook"],
        UTC_TZ,
        attribution=rules,
    )
    platform, rest = engine.evaluate(ledger, store, NOW)
    assert platform.spend_pico == 7 * 10**12
    assert rest.spend_pico == 0, "Claude Code is counted only where a rule names its developer"


def test_spend_gauges_carry_the_team(tmp_path: Path) -> None:
    ledger, _ = open_stores(tmp_path / "l.db")
    write(ledger, NOW - timedelta(hours=3), "40", account="openai-prod", project="proj_alpha")
    write(
        ledger,
        NOW - timedelta(hours=3),
        "2",
        account="openai-prod",
        project="proj_beta",
        user="alice@x.example",
    )
    write(ledger, NOW - timedelta(hours=3), "1", account="openai-prod", project="proj_beta")
    teams = {
        (r.project, r.team): r.cost_pico
        for r in spend_rows(ledger, NOW, UTC_TZ, 1, attributor=Attributor(RULES))
        if r.period == "month"
    }
    assert teams == {
        ("proj_alpha", "search"): 40 * 10**12,
        ("proj_beta", "platform"): 2 * 10**12,
        ("proj_beta", UNASSIGNED): 1 * 10**12,
    }


REPORT_CONFIG = """
storage:
  path: {db}
providers:
  - {{name: openai-prod, type: openai, api_key: sk-admin-not-used}}
{attribution}
"""


def report_by_team(
    tmp_path: Path, db: Path, attribution: str, capsys: pytest.CaptureFixture[str]
) -> dict[str, str]:
    config = tmp_path / "report.yaml"
    config.write_text(REPORT_CONFIG.format(db=db, attribution=attribution), encoding="utf-8")
    capsys.readouterr()
    assert (
        main(["report", "--config", str(config), "--month", "2026-11", "--by", "team", "--format", "json"])
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    return {r["team"]: r["spend_usd"] for r in data["rows"]} | {"TOTAL": data["total"]["spend_usd"]}


def test_a_new_mapping_re_attributes_the_past_without_rewriting_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger, _ = open_stores(tmp_path / "l.db")
    write(ledger, NOW - timedelta(days=3), "40", account="openai-prod", project="proj_alpha")
    write(ledger, NOW - timedelta(days=2), "10", account="openai-prod", project="proj_beta")
    before = ledger.totals()
    ledger.close()
    first = "attribution:\n  - {match: {project: proj_alpha}, team: search}\n"
    second = "attribution:\n  - {match: {project: 'proj_*'}, team: platform}\n"
    assert report_by_team(tmp_path, tmp_path / "l.db", first, capsys) == {
        "search": "40",
        UNASSIGNED: "10",
        "TOTAL": "50",
    }
    assert report_by_team(tmp_path, tmp_path / "l.db", second, capsys) == {"platform": "50", "TOTAL": "50"}
    ledger, _ = open_stores(tmp_path / "l.db")
    assert ledger.totals() == before, "attribution is read, never written"


def test_a_team_budget_plots_the_days_the_rules_give_the_team(tmp_path: Path) -> None:
    ledger, _ = open_stores(tmp_path / "l.db")
    write(ledger, NOW - timedelta(days=2), "40", account="openai-prod", project="proj_alpha")
    write(ledger, NOW - timedelta(days=1), "5", account="openai-prod", project="proj_alpha")
    write(ledger, NOW - timedelta(days=1), "500", account="openai-prod", project="proj_beta")
    days = budget_days(
        ledger,
        BudgetScope(team=("search",)),
        Attributor(RULES),
        start=int((NOW - timedelta(days=10)).timestamp()),
        end=int(NOW.timestamp()),
        tz=UTC_TZ,
    )
    assert days == {"2026-11-23": 40 * 10**12, "2026-11-24": 5 * 10**12}


def test_report_by_team_draws_its_plot(tmp_path: Path) -> None:
    ledger, _ = open_stores(tmp_path / "l.db")
    write(ledger, NOW - timedelta(days=2), "40", account="openai-prod", project="proj_alpha")
    ledger.close()
    config = tmp_path / "plot.yaml"
    rules = "attribution:\n  - {match: {project: proj_alpha}, team: search}\n"
    budgets = "budgets:\n  - {name: search, amount_usd: 50, period: month, scope: {team: search}}\n"
    config.write_text(
        REPORT_CONFIG.format(db=tmp_path / "l.db", attribution=rules + budgets), encoding="utf-8"
    )
    png = tmp_path / "team.png"
    args = ["report", "--config", str(config), "--month", "2026-11", "--by", "team", "--plot", str(png)]
    assert main(args) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
