"""Azure OpenAI through the daemon, against the simulated resource on loopback: hourly tokens per
deployment equal the metrics, the channel's spend equals the bill to the picodollar (not tokens x list
price: the metrics do not split cached tokens), an expired token is renewed once, and Cost Management's
throttling and paging are honoured."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.daemon import Daemon
from monitor.records import tokens_of
from monitor.simulator import Simulator
from tests.channel_support import (
    DAY,
    RUNNING,
    azure_entry,
    channel_daemon,
    ledger_billed_by_day,
    ledger_usage,
    restart,
    stop_daemons,
)
from tests.daemon_support import T0, Clock

HOUR = 3600


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def sim(clock: Clock) -> Iterator[Simulator]:
    with Simulator(seed=11, clock=clock, start=T0 - 14 * DAY) as s:
        yield s


@pytest.fixture(autouse=True)
def _stop_daemons() -> Iterator[None]:
    yield
    stop_daemons()


def daemon(tmp_path: Path, sim: Simulator, clock: Clock) -> Daemon:
    return channel_daemon(tmp_path, sim, clock, azure_entry(sim))


def pico(usd: object) -> int:
    return int(usd * 10**12)  # type: ignore[operator]


def assert_ledger_is_the_resources_metrics_and_bill(tmp_path: Path, sim: Simulator, clock: Clock) -> None:
    now = int(clock())
    start = (T0 - 10 * DAY) // HOUR * HOUR
    first_day = start - start % DAY
    truth = sim.azure.truth(start, now + 1, now)
    got = ledger_usage(tmp_path / "spend.db", "azure_openai", start, now + 1)
    assert got["tokens"] == dict(zip(got["tokens"], tokens_of(**truth.tokens), strict=True))
    assert got["requests"] == truth.requests > 1000
    bill = sim.azure.truth(first_day, now + 1, now).bill_by_day
    assert ledger_billed_by_day(tmp_path / "spend.db", "azure", first_day, now + 1) == {
        day: pico(usd) for day, usd in bill.items()
    }
    assert got["cost"] > sum(pico(usd) for usd in bill.values() if usd)  # list price, cached tokens as input


def test_a_ten_day_first_poll_and_a_restart_equal_the_metrics_and_the_bill(
    tmp_path: Path, sim: Simulator, clock: Clock
) -> None:
    sim.azure.cost_page_rows = 20  # the bill comes in pages, followed by nextLink
    assert daemon(tmp_path, sim, clock).poll_account("azure").ok
    assert_ledger_is_the_resources_metrics_and_bill(tmp_path, sim, clock)
    restart(RUNNING[-1])
    clock.advance(3 * HOUR + 5)
    assert daemon(tmp_path, sim, clock).poll_account("azure").ok
    assert_ledger_is_the_resources_metrics_and_bill(tmp_path, sim, clock)


def test_an_expired_token_is_renewed_once(tmp_path: Path, sim: Simulator, clock: Clock) -> None:
    d = daemon(tmp_path, sim, clock)
    assert d.poll_account("azure").ok
    issued = sim.azure.tokens_issued
    sim.azure.expire_tokens()  # Azure revokes it early; the daemon still believes it valid for an hour
    clock.advance(600)
    assert d.poll_account("azure").ok
    assert sim.azure.tokens_issued == issued + 1
    assert_ledger_is_the_resources_metrics_and_bill(tmp_path, sim, clock)


def test_cost_management_throttling_is_waited_out(tmp_path: Path, sim: Simulator, clock: Clock) -> None:
    sim.inject("429", path="*/Microsoft.CostManagement/query", count=2, retry_after=3)
    result = daemon(tmp_path, sim, clock).poll_account("azure")
    assert result.ok
    assert_ledger_is_the_resources_metrics_and_bill(tmp_path, sim, clock)


def test_an_aadsts_error_fails_the_poll_with_its_own_words(
    tmp_path: Path, sim: Simulator, clock: Clock
) -> None:
    sim.inject("aadsts", path="/azure/login/*", count=5)
    result = daemon(tmp_path, sim, clock).poll_account("azure")
    assert not result.healthy
    (metrics,) = [e for e in result.endpoints if e.endpoint == "metrics"]
    assert metrics.reason == "auth" and "AADSTS7000215: Invalid client secret provided" in metrics.error
