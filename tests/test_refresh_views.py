"""The refresh builds the day and month spend gauges and the status page's month from the budgets'
daily table instead of grouped queries of the ledger: the figures must be the same, in a timezone
with DST and a billing month that does not start on the 1st."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from monitor.budgets.days import epoch_day
from monitor.daemon import Daemon
from monitor.ledger_view import spend_rows
from monitor.simulator import Simulator
from monitor.status import build_status_data
from monitor.store import Ledger
from tests.daemon_support import HOUR, T0, Clock, load, no_wait_factory, write_config

SETTINGS = "timezone: Europe/Berlin\nmonth_start_day: 20\n"


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    clock = Clock(T0)
    with Simulator(seed=4, clock=clock, start=T0 - 10 * 24 * HOUR, late_buckets=True) as sim:
        config = write_config(
            tmp_path / "config.yaml", sim, tmp_path / "spend.db", lookback="5d", extra=SETTINGS
        )
        d = Daemon(load(config, sim), clock=clock, provider_factory=no_wait_factory)
        try:
            assert all(r.ok for r in d.run_cycle().values())
            yield d
        finally:
            d.stop()


def test_day_and_month_spend_from_the_daily_table_equal_the_ledger_queries(daemon: Daemon) -> None:
    config, daily = daemon.config, daemon.cycle.engine.daily
    now = datetime.fromtimestamp(T0, UTC)
    with Ledger.open(config.storage.path) as ledger:
        queried = spend_rows(ledger, now, config.tz, config.month_start_day)
        from_table = spend_rows(ledger, now, config.tz, config.month_start_day, daily=daily)
    assert daily.covers(epoch_day(date(2026, 11, 20)), epoch_day(date(2026, 12, 20))), "the table was used"
    assert from_table == queried
    assert {r.period for r in queried} == {"day", "month"} and len(queried) > 20


def test_the_status_page_month_from_the_daily_table_equals_the_ledger_query(daemon: Daemon) -> None:
    config, cycle = daemon.config, daemon.cycle
    now = datetime.fromtimestamp(T0, UTC)
    with Ledger.open(config.storage.path) as ledger:
        pages = [
            build_status_data(
                ledger,
                cycle.statuses,
                table=cycle.table,
                now=now,
                tz=config.tz,
                month_start_day=20,
                daily=daily,
            )
            for daily in (None, cycle.engine.daily)
        ]
    assert pages[0] == pages[1]
    assert pages[0].month_spend_pico > 0 and pages[0].models
