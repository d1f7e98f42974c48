"""A new-api relay through the daemon, against the simulated relay on loopback: a 10-day first poll and a
restart leave the ledger equal to the relay's log (tokens exact, the relay's charge = quota /
quota_per_unit to the picodollar, computed cost = list price x group ratio), and the relay's ways of
saying no are reported, not counted."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.daemon import Daemon
from monitor.records import TOKEN_TYPES
from monitor.simulator import Simulator
from monitor.simulator.newapi_items import GROUPS, LogItem
from monitor.store import Ledger
from monitor.store.alerts import AlertStore
from monitor.store.channels import ChannelStore
from tests.channel_support import (
    DAY,
    RUNNING,
    channel_daemon,
    channel_env,
    ledger_billed_by_day,
    ledger_usage,
    relay_entry,
    restart,
    stop_daemons,
)
from tests.daemon_support import T0, Clock

LIST_USD_PER_M: dict[str, dict[str, Decimal]] = {
    "gpt-4.1": {"input": Decimal(2), "cached_input": Decimal("0.5"), "output": Decimal(8)},
    "gpt-4.1-mini": {"input": Decimal("0.4"), "cached_input": Decimal("0.1"), "output": Decimal("1.6")},
    "claude-sonnet-4-5-20250929": {
        "input": Decimal(3),
        "cached_input": Decimal("0.3"),
        "cache_write": Decimal("3.75"),
        "output": Decimal(15),
    },
}
"""List prices of the simulated relay's models (monitor/pricing/prices.yaml), USD per 1M tokens."""


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def sim(clock: Clock) -> Iterator[Simulator]:
    with Simulator(seed=5, clock=clock, start=T0 - 14 * DAY) as s:
        s.timeout_hold = 1.0
        yield s


@pytest.fixture(autouse=True)
def _stop_daemons() -> Iterator[None]:
    yield
    stop_daemons()


def daemon(tmp_path: Path, sim: Simulator, clock: Clock, extra: str = "") -> Daemon:
    return channel_daemon(tmp_path, sim, clock, relay_entry(sim, extra=extra))


def first_day(clock: Clock) -> int:
    start = int(clock()) - 10 * DAY
    return start - start % DAY


def list_times_ratio(items: list[LogItem]) -> int:
    """The computed cost a client must reach: every token at list price times its group's ratio."""
    total = Decimal(0)
    for i in items:
        prices = LIST_USD_PER_M[i.model]
        for name, count in zip(TOKEN_TYPES, i.tokens(), strict=True):
            if count:
                total += count * prices[name] * 10**6 * GROUPS[i.group]
    assert total == total.to_integral_value()
    return int(total)


def assert_ledger_is_the_relays_log(tmp_path: Path, sim: Simulator, clock: Clock) -> None:
    now = int(clock())
    start = first_day(clock)
    truth = sim.newapi.truth(start, now + 1, now)
    got = ledger_usage(tmp_path / "spend.db", "newapi", start, now + 1)
    assert got["tokens"] == dict(truth.tokens)
    assert got["requests"] == truth.requests
    assert got["cost"] == list_times_ratio(sim.newapi.items_between(start, now, now))
    billed = ledger_billed_by_day(tmp_path / "spend.db", "relay", start, now + 1)
    per_unit = sim.newapi.quota_per_unit
    assert billed == {day: quota * 10**12 // per_unit for day, quota in truth.quota_by_day.items()}
    assert truth.requests > 500 and len(billed) == 11


def test_a_ten_day_first_poll_and_a_restart_equal_the_relays_log(
    tmp_path: Path, sim: Simulator, clock: Clock
) -> None:
    assert daemon(tmp_path, sim, clock).poll_account("relay").ok
    assert_ledger_is_the_relays_log(tmp_path, sim, clock)
    restart(RUNNING[-1])
    clock.advance(5 * 3600 + 17)
    assert daemon(tmp_path, sim, clock).poll_account("relay").ok
    assert_ledger_is_the_relays_log(tmp_path, sim, clock)


def test_the_relays_charge_follows_its_quota_per_unit(tmp_path: Path, sim: Simulator, clock: Clock) -> None:
    sim.newapi.quota_per_unit = 400_000  # exact: 10^12 / 400,000 = 2,500,000 picodollars a quota unit
    assert daemon(tmp_path, sim, clock).poll_account("relay").ok
    assert_ledger_is_the_relays_log(tmp_path, sim, clock)


@pytest.mark.parametrize("fault", ["429-no-retry-after", "500", "reset", "truncated"])
def test_transient_faults_mid_paging_leave_the_ledger_exact(
    tmp_path: Path, sim: Simulator, clock: Clock, fault: str
) -> None:
    sim.inject(fault, path="/newapi/api/log/self", count=2)
    assert daemon(tmp_path, sim, clock).poll_account("relay").ok
    assert_ledger_is_the_relays_log(tmp_path, sim, clock)


@pytest.mark.parametrize(
    ("fault", "reason", "words"),
    [
        ("401", "auth", "the access token was rejected (HTTP 401: 无权进行此操作"),
        ("success-false", "client_error", "answered success: false (数据库错误"),
        ("html", "bad_response", "leave out /v1"),
    ],
)
def test_a_refusal_fails_the_poll_with_the_relays_own_words_and_writes_nothing(
    tmp_path: Path, sim: Simulator, clock: Clock, fault: str, reason: str, words: str
) -> None:
    sim.inject(fault, path="/newapi/api/log/self", count=20)
    result = daemon(tmp_path, sim, clock).poll_account("relay")
    (log,) = [e for e in result.endpoints if e.endpoint == "log"]
    assert (log.ok, log.reason) == (False, reason)
    assert words in log.error and "\n" not in log.error
    with Ledger.open(tmp_path / "spend.db") as ledger:
        assert ledger.spend_by(["provider"], 0, int(clock()) + 1) == []


def test_a_wrong_access_token_is_refused_with_http_200(tmp_path: Path, sim: Simulator, clock: Clock) -> None:
    sim.newapi.access_token = "anotherRelayTokenABCDEFGHIJKLMNO"  # the configured one no longer matches
    result = daemon(tmp_path, sim, clock).poll_account("relay")
    assert not result.healthy
    (log,) = [e for e in result.endpoints if e.endpoint == "log"]
    assert (
        log.reason == "auth"
        and "relay refused the access token (无权进行此操作，access token 无效)" in log.error
    )


def test_the_balance_is_kept_and_alerts_once_when_it_crosses(
    tmp_path: Path, sim: Simulator, clock: Clock
) -> None:
    now = int(clock())
    before, after = sim.newapi.balance_quota(now), sim.newapi.balance_quota(now + DAY)
    below = Decimal(before + after) / 2 / sim.newapi.quota_per_unit  # crossed during the next day
    top = f"""
balances:
  - {{account: relay, below_usd: {below.quantize(Decimal("0.01"))}}}
alerts:
  - {{type: webhook, url: "http://127.0.0.1:9/hook", secret: whsec-relay}}
"""
    d = channel_daemon(tmp_path, sim, clock, relay_entry(sim), top)
    assert d.poll_account("relay").ok
    with Ledger.open(tmp_path / "spend.db") as ledger:
        (balance,) = ChannelStore(ledger).balances()
        assert AlertStore(ledger).entries() == []
    assert balance.balance_pico == before * 2_000_000 and balance.limit_pico == 500 * 10**12
    clock.advance(DAY)
    assert d.poll_account("relay").ok
    clock.advance(600)
    assert d.poll_account("relay").ok
    with Ledger.open(tmp_path / "spend.db") as ledger:
        entries = AlertStore(ledger).entries()
    assert [(e.key.kind, e.event) for e in entries] == [("balance_low", "firing")]
    assert b'llm_account_balance_usd{account="relay",key="",provider="newapi"}' in d.exposition.render()[0]


def test_reprice_keeps_the_relays_group_ratios(
    tmp_path: Path, sim: Simulator, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    assert daemon(tmp_path, sim, clock).poll_account("relay").ok
    env = channel_env(sim)
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        assert main(["reprice", "--config", str(tmp_path / "config.yaml")]) == 0
    assert capsys.readouterr().err.strip().startswith("changed 0 of ")
    assert_ledger_is_the_relays_log(tmp_path, sim, clock)
