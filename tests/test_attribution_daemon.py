"""A budget scoped to a team, on the daemon against the simulator: the rules give the team its
projects at read time, the threshold alerts arrive once at a real webhook, and the spend gauges
carry the team."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_alerts_support import Receiver

from monitor.daemon import Daemon
from monitor.simulator import Simulator
from tests.daemon_support import HOUR, T0, Clock, load, no_wait_factory, write_config

EXTRA = """
attribution:
  - match: {{account: openai-test, project: {project}}}
    team: search
    cost_center: CC-100
  - match: {{account: "anthropic-*"}}
    team: assistants
budgets:
  - name: search-daily
    amount_usd: 0.5
    period: day
    thresholds: [50, 100]
    forecast_thresholds: []
    scope: {{team: search}}
alerts:
  - type: webhook
    url: {url}
    secret: team-secret
"""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def daemon(tmp_path: Path, receiver: Receiver) -> Iterator[tuple[Daemon, Simulator, Clock]]:
    clock = Clock(T0)
    with Simulator(seed=9, clock=clock, start=T0 - 3 * 24 * HOUR) as sim:
        project = sim.project_ids("openai")[0]
        path = write_config(
            tmp_path / "c.yaml",
            sim,
            tmp_path / "spend.db",
            extra=EXTRA.format(project=project, url=receiver.url),
        )
        made = Daemon(load(path, sim), clock=clock, provider_factory=no_wait_factory)
        try:
            yield made, sim, clock
        finally:
            made.stop()


def test_a_team_budget_alerts_once_per_threshold(
    daemon: tuple[Daemon, Simulator, Clock], receiver: Receiver
) -> None:
    made, _, clock = daemon
    for _ in range(3):
        for account in made.pollers:
            assert made.poll_account(account).ok
        clock.advance(300)
    firing = [r.json for r in receiver.accepted if r.json["event"] == "firing"]
    # both rungs were crossed in one cycle: one notification, headed by 100% (monitor.budgets.grouping)
    assert [f["alert"]["threshold"] for f in firing] == ["100"]
    assert firing[0]["alert"]["grouped"] == [{"threshold": "50", "kind": "actual"}]
    assert firing[0]["alert"]["budget"] == "search-daily"
    assert firing[0]["alert"]["summary"].endswith("(and 50%) (counts team search)")


def test_spend_gauges_carry_teams(daemon: tuple[Daemon, Simulator, Clock]) -> None:
    made, sim, _ = daemon
    for account in made.pollers:
        made.poll_account(account)
    body, _, _ = made.exposition.render("text/plain", None)
    text = body.decode()
    project = sim.project_ids("openai")[0]
    assert f'project="{project}",provider="openai",team="search"' in text
    assert 'provider="anthropic",team="assistants"' in text
    assert 'provider="openai",team="unassigned"' in text
    page = made.status_page().decode()
    assert "Spend by team" in page and "CC-100" in page
