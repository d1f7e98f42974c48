"""OpenRouter through the daemon, against the simulated account on loopback: completed days equal
`/activity` (tokens exact, dollars to the picodollar), today is the keys' spend so far, and the day
that completes is handed over from the one to the other without being counted twice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.daemon import Daemon
from monitor.records import tokens_of
from monitor.simulator import Simulator
from monitor.store import Ledger
from monitor.store.billed import BilledStore
from tests.channel_support import (
    DAY,
    RUNNING,
    channel_daemon,
    ledger_billed_by_day,
    ledger_usage,
    openrouter_entry,
    restart,
    stop_daemons,
)
from tests.daemon_support import T0, Clock

HOUR = 3600


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)  # 10:30 UTC: yesterday is published (2 h after midnight)


@pytest.fixture
def sim(clock: Clock) -> Iterator[Simulator]:
    with Simulator(seed=9, clock=clock, start=T0 - 40 * DAY) as s:
        yield s


@pytest.fixture(autouse=True)
def _stop_daemons() -> Iterator[None]:
    yield
    stop_daemons()


def daemon(tmp_path: Path, sim: Simulator, clock: Clock, lookback: str = "10d") -> Daemon:
    return channel_daemon(tmp_path, sim, clock, openrouter_entry(sim, lookback=lookback))


def pico(usd: object) -> int:
    return int(usd * 10**12)  # type: ignore[operator]


def assert_ledger_is_the_accounts_activity(tmp_path: Path, sim: Simulator, clock: Clock, start: int) -> None:
    now = int(clock())
    today = now - now % DAY
    truth = sim.openrouter.truth(start, today, now)
    got = ledger_usage(tmp_path / "spend.db", "openrouter", start, today + DAY)
    assert got["tokens"] == dict(zip(got["tokens"], tokens_of(**truth.tokens), strict=True))
    assert got["requests"] == truth.requests > 500
    billed = ledger_billed_by_day(tmp_path / "spend.db", "router", start, today + DAY)
    want = {day: pico(usd) for day, usd in truth.usage_by_day.items()}
    want[today] = pico(sim.openrouter.today_so_far(now))
    assert billed == want


def test_a_ten_day_first_poll_and_a_restart_equal_the_activity(
    tmp_path: Path, sim: Simulator, clock: Clock
) -> None:
    start = (T0 - 10 * DAY) // DAY * DAY
    assert daemon(tmp_path, sim, clock).poll_account("router").ok
    assert_ledger_is_the_accounts_activity(tmp_path, sim, clock, start)
    restart(RUNNING[-1])
    clock.advance(4 * HOUR + 11)
    assert daemon(tmp_path, sim, clock).poll_account("router").ok
    assert_ledger_is_the_accounts_activity(tmp_path, sim, clock, start)


def test_the_completed_day_replaces_its_spend_so_far_once_activity_lists_it(
    tmp_path: Path, sim: Simulator, clock: Clock
) -> None:
    today = T0 - T0 % DAY
    clock.now = today + 20 * HOUR  # day D, 20:00
    d = daemon(tmp_path, sim, clock, lookback="3d")
    db = tmp_path / "spend.db"
    assert d.poll_account("router").ok
    so_far = pico(sim.openrouter.today_so_far(int(clock())))
    assert ledger_billed_by_day(db, "router", today, today + DAY) == {today: so_far}
    assert (
        ledger_usage(db, "openrouter", today, today + DAY)["requests"] == 0
    )  # no tokens before it completes

    clock.now = today + DAY + HOUR  # D+1, 01:00: D is over but /activity does not list it yet
    assert d.poll_account("router").ok
    assert ledger_billed_by_day(db, "router", today, today + DAY) == {today: so_far}  # kept, not emptied

    clock.now = today + DAY + 3 * HOUR  # D+1, 03:00: /activity lists D
    assert d.poll_account("router").ok
    truth = sim.openrouter.truth(today, today + DAY, int(clock()))
    assert ledger_billed_by_day(db, "router", today, today + DAY) == {today: pico(truth.usage)}
    assert pico(truth.usage) > so_far
    assert ledger_usage(db, "openrouter", today, today + DAY)["requests"] == truth.requests
    with Ledger.open(db) as ledger:
        rows = BilledStore(ledger).billed_by(["line_item"], today, today + DAY, accounts=["router"])
    lines = {r["line_item"] for r in rows}
    assert lines == {"OpenAI", "Azure", "Anthropic", "Google", "Google AI Studio"}
    assert not any(line.startswith("today so far") for line in lines)


def test_an_inference_key_is_refused_with_openrouters_own_words(
    tmp_path: Path, sim: Simulator, clock: Clock
) -> None:
    sim.openrouter.management_key, sim.openrouter.inference_key = (
        "sk-or-v1-other",
        sim.openrouter.management_key,
    )
    result = daemon(tmp_path, sim, clock).poll_account("router")
    assert not result.healthy
    (activity,) = [e for e in result.endpoints if e.endpoint == "activity"]
    assert activity.reason == "auth"
    assert (
        "the management key was rejected (HTTP 403: Only management keys can perform this operation)"
        in activity.error
    )
