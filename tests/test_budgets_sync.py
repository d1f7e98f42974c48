"""The incremental daily-spend table always equals a fresh load, whatever the ledger went through."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from test_budgets_support import budget, open_stores, row, write, write_page

from monitor.budgets import BudgetEngine
from monitor.budgets.days import epoch_day, local_date
from monitor.store import Ledger
from monitor.store.alerts import AlertStore
from monitor.store.grouped import local_day_sql

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2025, 5, 20, tzinfo=UTC)


def budgets():  # type: ignore[no-untyped-def]
    return [
        budget("all", "500", "month", forecast=(100,)),
        budget("proj-a-week", "50", "week", project=("a",)),
        budget("mini-day", "5", "day", model=("*-mini",)),
        budget("key2-quarter", "900", "quarter", api_key=("k2",)),
    ]


def fresh_view(ledger: Ledger, now: datetime) -> list[tuple[int, int]]:
    """What a new engine (one full load, no cache) computes."""
    statuses = BudgetEngine(budgets(), [], BERLIN).statuses(ledger, AlertStore(ledger), now)
    return [(s.spend_pico, s.forecast_pico) for s in statuses]


def test_long_lived_engine_matches_a_fresh_one_after_every_kind_of_write(tmp_path: Path) -> None:
    rng = random.Random(5)
    ledger, store = open_stores(tmp_path / "l.db")
    dims = [
        dict(project=p, model=m, api_key=k)
        for p in "ab"
        for m in ("gpt-4.1", "gpt-4.1-mini")
        for k in ("k1", "k2")
    ]
    for h in range(0, 26 * 24, 5):
        write(ledger, START + timedelta(hours=h), str(rng.randint(1, 9)), **rng.choice(dims))
    live = BudgetEngine(budgets(), [], BERLIN)
    now = START + timedelta(days=26, hours=3)

    def step(now: datetime) -> None:
        got = [(s.spend_pico, s.forecast_pico) for s in live.evaluate(ledger, store, now)]
        assert got == fresh_view(ledger, now)

    step(now)
    # 1. a poll: a new hour, written as a page
    now += timedelta(hours=1)
    write_page(ledger, [row(now - timedelta(minutes=30), "4", **d) for d in dims[:3]], observed=now)
    step(now)
    # 2. a revision two days back: the page replaces the bucket, one row vanishes, one changes
    old = now - timedelta(days=2)
    write_page(
        ledger, [row(old, "7", **dims[0]), row(old, "2", **dims[5])], observed=now + timedelta(minutes=1)
    )
    step(now + timedelta(minutes=2))
    # 3. a corrected price 15 days back, updated in place (no new observation of the bucket)
    write(ledger, now - timedelta(days=15), "30", observed=now + timedelta(minutes=3), **dims[1])
    step(now + timedelta(minutes=4))
    # 4. a new combination and a row dated a little in the future (clock skew)
    write(ledger, now + timedelta(minutes=40), "1", project="c", model="o3", api_key="k9")
    step(now + timedelta(minutes=5))
    # 5. midnight passes, and a whole week: the window slides
    for days in (1, 8):
        later = now + timedelta(days=days)
        write(ledger, later - timedelta(hours=1), "3", **dims[2])
        step(later)
    assert live.daily.stats["full"] == 1
    assert live.daily.stats["hot"] >= 5 and live.daily.stats["reloaded"] >= 1


def test_unchanged_ledger_skips_all_reads_of_usage(tmp_path: Path) -> None:
    ledger, store = open_stores(tmp_path / "l.db")
    write(ledger, START, "5")
    live = BudgetEngine(budgets(), [], BERLIN)
    live.evaluate(ledger, store, START + timedelta(hours=2))
    live.evaluate(ledger, store, START + timedelta(hours=3))
    assert live.daily.stats == {"full": 1, "hot": 0, "reloaded": 0, "unchanged": 1}


def test_local_day_sql_puts_every_hour_of_a_dst_year_in_its_local_day(tmp_path: Path) -> None:
    ledger, _ = open_stores(tmp_path / "l.db")
    lo = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())
    hi = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
    for tz in (
        BERLIN,
        ZoneInfo("America/New_York"),
        ZoneInfo("Australia/Lord_Howe"),
        ZoneInfo("Asia/Kolkata"),
    ):
        expr = local_day_sql(tz, lo, hi, column="t")
        instants = list(range(lo, hi, 1800))
        values = ",".join(f"({t})" for t in instants)
        got = [
            r[0] for r in ledger.db.execute(f"WITH v(t) AS (VALUES {values}) SELECT {expr} FROM v").fetchall()
        ]
        assert got == [epoch_day(local_date(t, tz)) for t in instants], tz.key
