"""Alerts for people: a first start with every rung of a budget already crossed sends one notification
(the highest rung, naming the others, money in cents) to the people's channel, one alert per rung
to Alertmanager, no forecast alert for a rung that already fired, and nothing again after a restart.

The daemon polls the simulator over loopback; the webhook and "Alertmanager" are real HTTP
receivers on loopback that record what they get."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_alerts_support import Receiver

from monitor.daemon import Daemon
from monitor.simulator import Simulator
from tests.daemon_support import HOUR, T0, Clock, load, no_wait_factory, write_config

SECRET = "whsec-test"
BUDGETS = """
budgets:
  - name: openai-monthly
    amount_usd: 1
    period: month
    scope: {provider: openai}
    thresholds: [50, 80, 100]
    forecast_thresholds: [100, 2000]
"""


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def sim(clock: Clock) -> Iterator[Simulator]:
    with Simulator(seed=3, clock=clock, start=T0 - 10 * 24 * HOUR) as s:
        yield s


@pytest.fixture
def hook() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def alertmanager() -> Iterator[Receiver]:
    r = Receiver(default=200).start()
    yield r
    r.stop()


def daemon(tmp_path: Path, sim: Simulator, clock: Clock, hook: Receiver, alertmanager: Receiver) -> Daemon:
    alerts = f"""
alerts:
  - type: webhook
    url: {hook.url}/hook
    secret: {SECRET}
  - type: alertmanager
    url: {alertmanager.url}
"""
    config = load(
        write_config(tmp_path / "config.yaml", sim, tmp_path / "spend.db", extra=BUDGETS + alerts), sim
    )
    return Daemon(config, clock=clock, provider_factory=no_wait_factory)


def first_posts(alertmanager: Receiver) -> dict[tuple[str, str], str]:
    """(threshold, kind) -> summary of each alert Alertmanager got (re-posts of the same alert counted once)."""
    seen: dict[tuple[str, str], str] = {}
    for request in alertmanager.accepted:
        for alert in request.json:
            key = (alert["labels"]["threshold"], alert["labels"]["kind"])
            seen.setdefault(key, alert["annotations"]["summary"])
    return seen


def test_a_first_start_with_every_rung_crossed_sends_one_notification_for_people(
    tmp_path: Path, sim: Simulator, clock: Clock, hook: Receiver, alertmanager: Receiver
) -> None:
    first = daemon(tmp_path, sim, clock, hook, alertmanager)
    try:
        assert all(r.ok for r in first.run_cycle().values())
    finally:
        first.stop()

    (sent,) = hook.accepted
    payload = sent.json["alert"]
    assert (payload["threshold"], payload["kind"]) == ("100", "actual")
    summary = payload["summary"]
    assert re.fullmatch(
        r"Budget openai-monthly: spend \$[0-9]{1,3}(,[0-9]{3})*\.[0-9]{2} of \$1\.00 this month "
        r"\([0-9,]+\.[0-9]% spent\) crossed 100% \(and 80%, 50%; forecast 2000%\) \(counts provider openai\)"
        # the first poll began mid-day: the bill of that whole day is above what the ledger holds
        r"(; \$[0-9]+\.[0-9]{2} of it billed above the computed cost)?",
        summary,
    ), summary
    assert re.fullmatch(r"[0-9]+\.[0-9]{3,}", payload["spend_usd"]), "payload fields keep exact values"
    assert payload["grouped"] == [
        {"threshold": "80", "kind": "actual"},
        {"threshold": "50", "kind": "actual"},
        {"threshold": "2000", "kind": "forecast"},
    ]

    posted = first_posts(alertmanager)
    assert set(posted) == {("50", "actual"), ("80", "actual"), ("100", "actual"), ("2000", "forecast")}
    assert ("100", "forecast") not in posted, "no forecast alert for a rung whose actual alert fires"

    clock.advance(HOUR)
    second = daemon(tmp_path, sim, clock, hook, alertmanager)
    try:
        assert all(r.ok for r in second.run_cycle().values())
    finally:
        second.stop()
    assert len(hook.accepted) == 1, "a restart re-sends nothing"
    assert set(first_posts(alertmanager)) == set(posted)
