"""Names in what people read: info metrics, the status page, reports and budgets, from the daemon on
the simulator; a rename changes the name and never the series' ids; a 403 on a directory is one
line while usage polling goes on."""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.daemon import Daemon
from monitor.simulator import Simulator
from monitor.store import Ledger
from tests.daemon_support import HOUR, T0, Clock, key_env, load, no_wait_factory, write_config

EXTRA = """
metrics:
  include_api_key: true
budgets:
  - name: search-monthly
    amount_usd: 1
    period: month
    scope: {{project: {project}}}
alerts:
  - type: webhook
    url: http://127.0.0.1:9/unreachable
    secret: test-secret
    timeout: 1s
"""


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def sim(clock: Clock) -> Iterator[Simulator]:
    with Simulator(seed=11, clock=clock, start=T0 - 5 * 24 * HOUR) as s:
        yield s


@pytest.fixture
def config_path(tmp_path: Path, sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, value in key_env(sim).items():
        monkeypatch.setenv(name, value)
    project = sim.project_ids("openai")[0]
    return write_config(
        tmp_path / "config.yaml", sim, tmp_path / "spend.db", extra=EXTRA.format(project=project)
    )


@pytest.fixture
def daemon(config_path: Path, sim: Simulator, clock: Clock) -> Iterator[Daemon]:
    made = Daemon(load(config_path, sim), clock=clock, provider_factory=no_wait_factory)
    yield made
    made.stop()


def run_once(daemon: Daemon) -> None:
    daemon.refresh_directories()
    for account in daemon.pollers:
        assert daemon.poll_account(account).ok


def report_of(daemon: Daemon, config: Path, capsys: pytest.CaptureFixture[str], by: str, fmt: str) -> str:
    """Poll once, stop the daemon, and run `report --by BY --format FMT` on its ledger."""
    run_once(daemon)
    daemon.stop()
    capsys.readouterr()
    assert main(["report", "--config", str(config), "--month", "2026-11", "--by", by, "--format", fmt]) == 0
    return capsys.readouterr().out


def metrics_text(daemon: Daemon) -> str:
    body, _, _ = daemon.exposition.render("text/plain", None)
    return body.decode()


def test_info_metrics_name_projects_and_keys(daemon: Daemon, sim: Simulator) -> None:
    run_once(daemon)
    text = metrics_text(daemon)
    for project in sim.directories["openai"].projects.values():
        assert (
            f'llm_project_info{{account="openai-test",project="{project.id}",project_name="{project.name}"}} 1.0'
            in text
        )
    key = next(iter(sim.directories["openai"].keys.values()))
    owner = sim.directories["openai"].users[key.owner].email
    assert (
        f'llm_api_key_info{{account="openai-test",api_key="{key.id}",api_key_name="{key.name}",owner="{owner}"}} 1.0'
        in text
    )
    assert 'project_name="(default workspace)"' in text, "the default workspace joins by a readable name"


def test_a_renamed_project_keeps_its_series_and_shows_its_new_name(
    daemon: Daemon, sim: Simulator, clock: Clock
) -> None:
    project = sim.project_ids("openai")[0]
    assert project is not None
    run_once(daemon)
    before = sorted(set(re.findall(r"^llm_spend_usd\{[^}]*\}", metrics_text(daemon), re.MULTILINE)))
    sim.rename("openai", "project", project, "search-v2")
    clock.advance(25 * HOUR)
    run_once(daemon)
    text = metrics_text(daemon)
    assert f'project="{project}",project_name="search-v2"' in text
    assert "search-backend" not in text
    after = set(re.findall(r"^llm_spend_usd\{[^}]*\}", text, re.MULTILINE))
    assert before and {s for s in before if project in s} <= after


def test_the_status_page_shows_names(daemon: Daemon, sim: Simulator) -> None:
    run_once(daemon)
    page = daemon.status_page().decode()
    project = sim.directories["openai"].projects[sim.project_ids("openai")[0] or ""]
    assert "Top projects" in page and project.name in page
    assert "Top API keys" in page
    assert any(k.name in page for k in sim.directories["openai"].keys.values())


def test_report_and_budgets_name_what_they_count(
    daemon: Daemon, sim: Simulator, config_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = report_of(daemon, config_path, capsys, "account,project", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    names = {
        r["project"]: r["project_name"] for r in rows if r["row"] == "group" and r["account"] == "openai-test"
    }
    assert names == {p.id: p.name for p in sim.directories["openai"].projects.values() if p.id in names}
    assert len(names) >= 2
    assert main(["budgets", "--config", str(config_path), "--format", "json"]) == 0
    budgets = json.loads(capsys.readouterr().out)["rows"]
    assert budgets[0]["scope"] == "project search-backend"


def test_a_budget_alert_names_its_project(daemon: Daemon, tmp_path: Path) -> None:
    run_once(daemon)
    with Ledger.open(tmp_path / "spend.db") as ledger:
        payloads = [json.loads(p) for (p,) in ledger.db.execute("SELECT payload FROM alert_outbox")]
    budget = [p for p in payloads if p["budget"] == "search-monthly"]
    assert budget, payloads
    # What the budget counts, by name, ends the headline; only what its spend does not show (issue 12:
    # "...; $1.20 of it billed above the computed cost") may follow it.
    assert all(re.search(r"\(counts project search-backend\)(; [^()]+)?$", p["summary"]) for p in budget), (
        budget
    )


def test_a_directory_403_leaves_usage_polling_going(
    daemon: Daemon, sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    sim.inject("403", path="*/v1/organizations/users")
    sim.inject("403", path="*/organization/projects")
    with caplog.at_level(logging.WARNING):
        run_once(daemon)
    lines = [r.getMessage() for r in caplog.records if "names of" in r.getMessage()]
    assert len(lines) == 2 and all("usage polling goes on" in line for line in lines)
    assert daemon.ready() == (True, "ready")


def test_report_by_user_names_people_and_lists_claude_code(
    daemon: Daemon, sim: Simulator, config_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = report_of(daemon, config_path, capsys, "account,user", "json")
    report = json.loads(out)
    emails = {u.email for u in sim.directories["openai"].users.values()}
    named = {r["user_email"] for r in report["rows"] if r["account"] == "openai-test"}
    assert named and named <= emails
    developers = {d["developer"] for d in report["claude_code"]}
    assert developers and developers <= {u.email for u in sim.directories["anthropic"].users.values()} | {
        "claude-code-ci"
    }


def test_the_status_page_shows_claude_code_developers(daemon: Daemon, sim: Simulator) -> None:
    run_once(daemon)
    page = daemon.status_page().decode()
    assert "Claude Code this month" in page
    assert any(u.email in page for u in sim.directories["anthropic"].users.values())


def test_a_claude_code_403_is_one_line_and_not_asked_again_for_a_day(
    daemon: Daemon, sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    sim.inject("403", path="*/usage_report/claude_code")
    with caplog.at_level(logging.WARNING):
        result = daemon.poll_account("anthropic-test")
    assert result.healthy and [e.endpoint for e in result.endpoints if not e.ok] == ["claude_code"]
    lines = [r.getMessage() for r in caplog.records if "claude_code" in r.getMessage()]
    assert len(lines) == 1 and "usage polling goes on" in lines[0]
    sim.reset_log()
    assert daemon.poll_account("anthropic-test").ok
    assert not [r for r in sim.requests_log if r.path.endswith("claude_code")]
