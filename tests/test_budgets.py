"""Budget evaluation and the alert state machine, on real SQLite ledgers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from test_budgets_support import budget, entries_by_channel, open_stores, write

from monitor.budgets import BudgetEngine
from monitor.periods import to_unix
from monitor.records import usd_to_pico
from monitor.store import Scope
from monitor.store.alerts import AlertStore

UTC_TZ = ZoneInfo("UTC")
NOW = datetime(2025, 6, 18, 14, 30, tzinfo=UTC)
CHANNELS = ["hook", "am"]
PER_RUNG = ["am"]
"""`am` stands for Alertmanager: every rung is its own alert there; `hook` gets one per budget and cycle."""


def engine(*budgets, tz: ZoneInfo = UTC_TZ, **kw) -> BudgetEngine:  # type: ignore[no-untyped-def]
    return BudgetEngine(list(budgets) or [budget()], CHANNELS, tz, per_rung_channels=PER_RUNG, **kw)


def test_crossing_50_80_100_at_once_queues_one_entry_for_people_and_each_rung_for_alertmanager(
    tmp_path: Path,
) -> None:
    ledger, store = open_stores(tmp_path / "l.db")
    write(ledger, NOW - timedelta(hours=2), "101")
    engine().evaluate(ledger, store, NOW)
    got = entries_by_channel(store)
    rungs = [("50", "actual", "firing"), ("80", "actual", "firing"), ("100", "actual", "firing")]
    assert got == {"hook": rungs[2:], "am": rungs}
    (headline,) = store.entries(channel="hook")
    assert headline.payload["summary"] == (
        "Budget monthly: spend $101.00 of $100.00 this month (101.0% spent) crossed 100% (and 80%, 50%)"
    )
    assert headline.payload["grouped"] == [
        {"threshold": "80", "kind": "actual"},
        {"threshold": "50", "kind": "actual"},
    ]
    assert (headline.payload["spend_usd"], headline.payload["limit_usd"]) == ("101", "100")


def test_a_forecast_rung_is_not_sent_while_its_actual_rung_fires(tmp_path: Path) -> None:
    ledger, store = open_stores(tmp_path / "l.db")
    write(ledger, NOW - timedelta(hours=2), "101")
    statuses = engine(budget(thresholds=(50, 100), forecast=(100, 150))).evaluate(ledger, store, NOW)
    hook = [(e.key.threshold, e.key.kind) for e in store.entries(channel="hook")]
    assert hook == [("100", "actual")]
    assert (
        store.entries(channel="hook")[0].payload["summary"].endswith("crossed 100% (and 50%; forecast 150%)")
    )
    assert statuses[0].state(Decimal(100), "forecast") == "OK"
    assert statuses[0].state(Decimal(150), "forecast") == "ALARM"


def test_each_threshold_fires_as_spend_grows(tmp_path: Path) -> None:
    ledger, store = open_stores(tmp_path / "l.db")
    eng = engine()
    fired = []
    for hour, usd in enumerate(["30", "25", "30", "20"]):  # cumulative 30, 55, 85, 105
        at = NOW.replace(hour=hour + 1)
        write(ledger, at, usd, project=f"p{hour}")
        eng.evaluate(ledger, store, at + timedelta(minutes=30))
        fired.append([t for t, _, _ in entries_by_channel(store).get("hook", [])])
    assert fired == [[], ["50"], ["50", "80"], ["50", "80", "100"]]


def test_evaluating_again_queues_nothing(tmp_path: Path) -> None:
    ledger, store = open_stores(tmp_path / "l.db")
    write(ledger, NOW - timedelta(hours=2), "101")
    eng = engine()
    eng.evaluate(ledger, store, NOW)
    before = len(store.entries())
    eng.evaluate(ledger, store, NOW + timedelta(minutes=5))
    assert len(store.entries()) == before == 4  # one for hook, three for am


def test_restart_with_reopened_database_queues_nothing(tmp_path: Path) -> None:
    ledger, store = open_stores(tmp_path / "l.db")
    write(ledger, NOW - timedelta(hours=2), "101")
    engine().evaluate(ledger, store, NOW)
    ledger.close()
    ledger2, store2 = open_stores(tmp_path / "l.db")
    statuses = engine().evaluate(ledger2, store2, NOW + timedelta(minutes=5))
    assert len(store2.entries()) == 4
    assert statuses[0].state(Decimal(100)) == "ALARM"


def test_next_period_rearms(tmp_path: Path) -> None:
    ledger, store = open_stores(tmp_path / "l.db")
    write(ledger, NOW - timedelta(hours=2), "101")
    eng = engine()
    eng.evaluate(ledger, store, NOW)
    july = datetime(2025, 7, 2, 10, tzinfo=UTC)
    statuses = eng.evaluate(ledger, store, july)
    assert all(s == "OK" for s in statuses[0].states.values())
    write(ledger, july - timedelta(hours=1), "60")
    eng.evaluate(ledger, store, july + timedelta(minutes=1))
    july_start = to_unix(datetime(2025, 7, 1, tzinfo=UTC))
    july_entries = [e for e in store.entries(channel="hook") if e.key.period_start == july_start]
    assert [(e.key.threshold, e.event) for e in july_entries] == [("50", "firing")]


def test_refund_below_threshold_queues_resolved(tmp_path: Path) -> None:
    ledger, store = open_stores(tmp_path / "l.db")
    at = NOW - timedelta(hours=2)
    write(ledger, at, "85")
    eng = engine()
    eng.evaluate(ledger, store, NOW)
    # a corrected price: a newer observation of the same row, now cheaper
    write(ledger, at, "60", observed=NOW + timedelta(minutes=1))
    statuses = eng.evaluate(ledger, store, NOW + timedelta(minutes=2))
    hook = [(e.key.threshold, e.event) for e in store.entries(channel="hook")]
    assert hook == [("80", "firing"), ("80", "resolved")]  # 50 and 80 crossed at once: one notification
    am = [(e.key.threshold, e.event) for e in store.entries(channel="am")]
    assert am == [("50", "firing"), ("80", "firing"), ("80", "resolved")]
    assert statuses[0].state(Decimal(80)) == "OK"
    assert statuses[0].state(Decimal(50)) == "ALARM"


def test_refire_after_resolve_gets_a_new_idempotency_key(tmp_path: Path) -> None:
    ledger, store = open_stores(tmp_path / "l.db")
    at = NOW - timedelta(hours=2)
    eng = engine(budget(thresholds=(50,)))
    for i, usd in enumerate(["60", "40", "70"]):
        write(ledger, at, usd, observed=NOW + timedelta(minutes=i))
        eng.evaluate(ledger, store, NOW + timedelta(minutes=i, seconds=30))
    events = [(e.event, e.idempotency_key) for e in store.entries(channel="hook")]
    assert [e for e, _ in events] == ["firing", "resolved", "firing"]
    assert len({k for _, k in events}) == 3


def test_forecast_threshold_fires_before_actual_spend_crosses(tmp_path: Path) -> None:
    ledger, store = open_stores(tmp_path / "l.db")
    for day in range(1, 11):  # $6 a day from June 1st to 10th, a month of 30 days: ~$180 projected
        write(ledger, datetime(2025, 6, day, 12, tzinfo=UTC), "6")
    now = datetime(2025, 6, 11, 0, 30, tzinfo=UTC)
    statuses = engine(budget(thresholds=(100,), forecast=(100,))).evaluate(ledger, store, now)
    assert statuses[0].spend_pico == usd_to_pico(60)
    assert statuses[0].forecast_pico > usd_to_pico(100)
    assert [(t, k, e) for t, k, e in entries_by_channel(store)["hook"]] == [("100", "forecast", "firing")]


def test_forecast_alarm_does_not_flap_on_small_dips(tmp_path: Path) -> None:
    ledger, store = open_stores(tmp_path / "l.db")
    for day in range(1, 11):
        write(ledger, datetime(2025, 6, day, 12, tzinfo=UTC), "3.4")
    eng = engine(budget(thresholds=(), forecast=(100,)))
    first = eng.evaluate(ledger, store, datetime(2025, 6, 11, 0, 30, tzinfo=UTC))[0]
    later = eng.evaluate(ledger, store, datetime(2025, 6, 11, 20, 0, tzinfo=UTC))[0]  # no spend today
    assert first.forecast_pico >= usd_to_pico(100) > later.forecast_pico >= usd_to_pico(90)
    assert [e for _, _, e in entries_by_channel(store)["hook"]] == ["firing"]


def test_spend_matches_the_store_query_for_glob_scopes(tmp_path: Path) -> None:
    ledger, store = open_stores(tmp_path / "l.db")
    for i, (model, project, key) in enumerate(
        [
            ("gpt-4.1", "a", "k1"),
            ("gpt-4.1-mini", "b", "k2"),
            ("gpt-4o", "a", "k3"),
            ("claude-sonnet-4", "b", "k1"),
        ]
    ):
        write(ledger, NOW - timedelta(hours=i + 1), str(10 + i), model=model, project=project, api_key=key)
    scopes = [
        {"model": ("gpt-4.1*",)},
        {"project": ("a",), "api_key": ("k1", "k3")},
        {"model": ("gpt-4?",)},
        {"provider": ("openai",), "model": ("claude-*",)},
        {},
    ]
    budgets = [budget(f"b{i}", **s) for i, s in enumerate(scopes)]
    statuses = engine(*budgets).evaluate(ledger, store, NOW)
    start = to_unix(datetime(2025, 6, 1, tzinfo=UTC))
    end = to_unix(datetime(2025, 7, 1, tzinfo=UTC))
    assert [s.spend_pico for s in statuses] == [ledger.spend(start, end, Scope(**s)) for s in scopes]
    assert [s.spend_pico for s in statuses][:3] == [usd_to_pico(21), usd_to_pico(22), usd_to_pico(12)]


@pytest.mark.parametrize("tz_name", ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"])
def test_period_spend_follows_the_timezone_and_month_start_day(tmp_path: Path, tz_name: str) -> None:
    tz = ZoneInfo(tz_name)
    ledger, store = open_stores(tmp_path / "l.db")
    start = datetime(2025, 5, 10, tzinfo=UTC)
    for h in range(0, 45 * 24, 7):  # a row every 7 hours across 45 days
        write(ledger, start + timedelta(hours=h), "1", project=f"p{h % 3}")
    now = datetime(2025, 6, 15, 21, 45, tzinfo=UTC)
    budgets = [budget(f"{p}", period=p) for p in ("day", "week", "month", "quarter")]
    eng = engine(*budgets, tz=tz, month_start_day=15, week_start=6)
    statuses = eng.evaluate(ledger, store, now)
    for status in statuses:
        expected = ledger.spend_in_period(status.period, now, tz, month_start_day=15, week_start=6)
        assert status.spend_pico == expected, status.period
        assert status.period_start.tzinfo is not None


def test_status_reports_limit_utilization_and_period(tmp_path: Path) -> None:
    ledger, store = open_stores(tmp_path / "l.db")
    write(ledger, NOW - timedelta(hours=1), "12.345")
    status = engine(budget(amount="50")).evaluate(ledger, store, NOW)[0]
    assert (status.limit_pico, status.spend_pico) == (usd_to_pico(50), usd_to_pico("12.345"))
    assert status.utilization == Decimal("0.2469")
    assert (status.period_start, status.period_end) == (
        datetime(2025, 6, 1, tzinfo=UTC_TZ),
        datetime(2025, 7, 1, tzinfo=UTC_TZ),
    )


def test_no_channels_records_state_without_outbox_rows(tmp_path: Path) -> None:
    ledger, store = open_stores(tmp_path / "l.db")
    write(ledger, NOW - timedelta(hours=1), "90")
    statuses = BudgetEngine([budget()], [], UTC_TZ).evaluate(ledger, store, NOW)
    assert store.entries() == []
    assert statuses[0].state(Decimal(80)) == "ALARM"


def test_statuses_view_records_nothing(tmp_path: Path) -> None:
    ledger, store = open_stores(tmp_path / "l.db")
    write(ledger, NOW - timedelta(hours=1), "90")
    statuses = engine().statuses(ledger, store, NOW)
    assert statuses[0].spend_pico == usd_to_pico(90)
    assert store.entries() == [] and store.states() == {}


def test_a_failed_cycle_rolls_back_states_and_outbox(tmp_path: Path) -> None:
    ledger, store = open_stores(tmp_path / "l.db")
    write(ledger, NOW - timedelta(hours=1), "90")

    class Exploding(AlertStore):
        calls = 0

        def transition(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            type(self).calls += 1
            if type(self).calls == 2:
                raise RuntimeError("crash in the middle of a cycle")
            return super().transition(*args, **kwargs)

    with pytest.raises(RuntimeError):
        engine().evaluate(ledger, Exploding(ledger), NOW)
    assert store.entries() == [] and store.states() == {}
    engine().evaluate(ledger, store, NOW)
    assert len(store.entries(channel="am")) == 2
