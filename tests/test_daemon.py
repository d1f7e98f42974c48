"""The daemon against the simulator over real loopback HTTP: the ledger equals ground truth."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.daemon import Daemon
from monitor.simulator import Simulator
from monitor.store import Ledger
from tests.daemon_support import (
    HOUR,
    T0,
    Clock,
    assert_ledger_is_ground_truth,
    ledger_totals,
    load,
    no_wait_factory,
    write_config,
)

LOOKBACK = 3 * 24 * HOUR


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def sim(clock: Clock) -> Iterator[Simulator]:
    with Simulator(seed=7, clock=clock, start=T0 - 10 * 24 * HOUR, late_buckets=True, revisions=True) as s:
        s.timeout_hold = 3.0
        yield s


_daemons: list[Daemon] = []


@pytest.fixture(autouse=True)
def _stop_daemons() -> Iterator[None]:
    yield
    while _daemons:
        _daemons.pop().stop()


def make_daemon(tmp_path: Path, sim: Simulator, clock: Clock) -> Daemon:
    config = load(write_config(tmp_path / "config.yaml", sim, tmp_path / "spend.db"), sim)
    daemon = Daemon(config, clock=clock, provider_factory=no_wait_factory)
    _daemons.append(daemon)
    return daemon


def poll_all(daemon: Daemon) -> dict[str, bool]:
    return {account: daemon.poll_account(account).ok for account in daemon.pollers}


def window(clock: Clock) -> tuple[int, int]:
    start = (int(clock()) - LOOKBACK) // HOUR * HOUR
    end = (int(clock()) // HOUR + 1) * HOUR  # includes the partial current bucket
    return start, end


def test_first_poll_equals_ground_truth(tmp_path: Path, sim: Simulator, clock: Clock) -> None:
    daemon = make_daemon(tmp_path, sim, clock)
    assert poll_all(daemon) == {"openai-test": True, "anthropic-test": True}
    assert_ledger_is_ground_truth(tmp_path / "spend.db", sim, *window(clock))


@pytest.mark.parametrize(
    "fault",
    ["429", "429-no-retry-after", "500", "502", "503", "timeout", "reset", "truncated"],
)
def test_transient_fault_mid_pagination_leaves_ledger_exact(
    tmp_path: Path, sim: Simulator, clock: Clock, fault: str
) -> None:
    sim.inject(fault, path="*/usage/completions", count=2, retry_after=1)
    sim.inject(fault, path="*/usage_report/messages", count=2, retry_after=1)
    daemon = make_daemon(tmp_path, sim, clock)
    assert poll_all(daemon) == {"openai-test": True, "anthropic-test": True}
    assert any(r.fault == fault for r in sim.requests_log)
    assert_ledger_is_ground_truth(tmp_path / "spend.db", sim, *window(clock))


def test_auth_failure_marks_account_unhealthy_without_retry_storm(
    tmp_path: Path, sim: Simulator, clock: Clock
) -> None:
    sim.inject("401", path="*/usage_report/messages", count=1)
    daemon = make_daemon(tmp_path, sim, clock)
    results = {a: daemon.poll_account(a) for a in daemon.pollers}
    assert results["openai-test"].ok
    assert not results["anthropic-test"].ok and not results["anthropic-test"].healthy
    hits = [r for r in sim.requests_log if r.path.endswith("usage_report/messages")]
    assert len(hits) == 1, "a 401 must not be retried"
    ready, why = daemon.ready()
    assert ready and "anthropic-test" in why
    # the key works again: the next poll catches up exactly
    assert daemon.poll_account("anthropic-test").ok
    assert_ledger_is_ground_truth(tmp_path / "spend.db", sim, *window(clock))


def test_restart_changes_nothing(tmp_path: Path, sim: Simulator, clock: Clock) -> None:
    poll_all(make_daemon(tmp_path, sim, clock))
    with Ledger.open(tmp_path / "spend.db") as ledger:
        before = ledger.totals()
    poll_all(make_daemon(tmp_path, sim, clock))
    with Ledger.open(tmp_path / "spend.db") as ledger:
        assert ledger.totals() == before
    assert_ledger_is_ground_truth(tmp_path / "spend.db", sim, *window(clock))


def test_late_and_revised_buckets_replace_not_add(tmp_path: Path, sim: Simulator, clock: Clock) -> None:
    daemon = make_daemon(tmp_path, sim, clock)
    poll_all(daemon)
    start, _ = window(clock)
    first = ledger_totals(tmp_path / "spend.db", "openai", start, T0 + HOUR)
    clock.advance(5 * HOUR)  # late buckets appear 3 h after closing, revisions 1-2 h after
    assert poll_all(daemon) == {"openai-test": True, "anthropic-test": True}
    db = tmp_path / "spend.db"
    end = (int(clock()) // HOUR + 1) * HOUR
    assert_ledger_is_ground_truth(db, sim, start, end)
    # the buckets that existed at the first poll changed (late/revised data) and were replaced
    again = ledger_totals(db, "openai", start, T0 + HOUR)
    want = sim.ground_truth("openai", start, T0 + HOUR).total.cost_pico
    assert again["cost"] == want
    assert again != first, "the simulator revised or delivered late buckets in this window"


def test_repolling_makes_only_revision_window_requests(tmp_path: Path, sim: Simulator, clock: Clock) -> None:
    daemon = make_daemon(tmp_path, sim, clock)
    poll_all(daemon)
    sim.reset_log()
    clock.advance(HOUR)
    poll_all(daemon)
    starts = {
        int(dict(r.query).get("start_time", ["0"])[0])
        for r in sim.requests_log
        if "/openai/" in r.path and "/usage/" in r.path and "start_time" in dict(r.query)
    }
    # every request starts at the cursor minus the 48 h revision window, not at the initial lookback
    assert starts and min(starts) >= int(clock()) - 48 * HOUR - 2 * HOUR
