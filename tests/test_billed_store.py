"""BilledStore on a real SQLite file: per (account, day) observation semantics, exact sums, migrations."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.errors import StoreError
from monitor.reconciliation import billed_in_periods
from monitor.records import BilledCost
from monitor.store import Ledger
from monitor.store.billed import BilledStore, days_between

DAY = 86400
D1 = 1795132800  # 2026-11-20T00:00:00Z
D2 = D1 + DAY
ACCOUNT = "openai-prod"


def line(
    day: int, amount: int, item: str = "gpt-4.1-2025-04-14, input", project: str = "proj_a", **kw: str
) -> BilledCost:
    return BilledCost("openai", kw.pop("account", ACCOUNT), day, project, item, amount, **kw)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[BilledStore]:
    with Ledger.open(tmp_path / "spend.db") as ledger:
        yield BilledStore(ledger)


def amounts(store: BilledStore) -> dict[tuple[int, str, str], int]:
    return {(c.day_start, c.project, c.line_item): c.amount_pico for c in store.lines(0, 2**40)}


def test_a_newer_observation_of_a_day_replaces_all_its_lines(store: BilledStore) -> None:
    store.write_billed(
        ACCOUNT, [line(D1, 5), line(D1, 7, "gpt-4.1-2025-04-14, output")], observed_at=1000, days=[D1]
    )
    store.write_billed(ACCOUNT, [line(D1, 6)], observed_at=2000, days=[D1])
    assert amounts(store) == {(D1, "proj_a", "gpt-4.1-2025-04-14, input"): 6}


def test_an_older_observation_of_a_day_is_ignored(store: BilledStore) -> None:
    store.write_billed(ACCOUNT, [line(D1, 6)], observed_at=2000, days=[D1])
    written = store.write_billed(
        ACCOUNT, [line(D1, 5), line(D1, 9, project="proj_b")], observed_at=1000, days=[D1]
    )
    assert written == 0
    assert amounts(store) == {(D1, "proj_a", "gpt-4.1-2025-04-14, input"): 6}


def test_pages_of_one_observation_merge(store: BilledStore) -> None:
    store.write_billed(ACCOUNT, [line(D1, 5)], observed_at=1000, days=[D1, D2])
    store.write_billed(ACCOUNT, [line(D2, 8)], observed_at=1000, days=[D1, D2])
    assert amounts(store) == {
        (D1, "proj_a", "gpt-4.1-2025-04-14, input"): 5,
        (D2, "proj_a", "gpt-4.1-2025-04-14, input"): 8,
    }


def test_a_covered_day_without_lines_is_emptied_and_observed(store: BilledStore) -> None:
    store.write_billed(ACCOUNT, [line(D1, 5), line(D2, 8)], observed_at=1000, days=[D1, D2])
    store.write_billed(ACCOUNT, [line(D2, 8)], observed_at=2000, days=[D1, D2])
    assert amounts(store) == {(D2, "proj_a", "gpt-4.1-2025-04-14, input"): 8}
    assert store.observed_days(D1, D2 + DAY) == {(ACCOUNT, D1): 2000, (ACCOUNT, D2): 2000}


def test_other_accounts_days_are_untouched(store: BilledStore) -> None:
    store.write_billed("other", [line(D1, 3, account="other")], observed_at=1000, days=[D1])
    store.write_billed(ACCOUNT, [], observed_at=2000, days=[D1])
    assert [c.amount_pico for c in store.lines(D1, D2)] == [3]


def test_lines_sharing_a_key_in_one_write_are_summed(store: BilledStore) -> None:
    store.write_billed(ACCOUNT, [line(D1, 5), line(D1, 7)], observed_at=1000, days=[D1])
    assert amounts(store) == {(D1, "proj_a", "gpt-4.1-2025-04-14, input"): 12}


def test_a_line_of_another_account_is_refused_naming_both(store: BilledStore) -> None:
    with pytest.raises(StoreError, match=r"'openai-prod'.*'intruder'"):
        store.write_billed(ACCOUNT, [line(D1, 5, account="intruder")], observed_at=1000, days=[D1])
    assert amounts(store) == {}


def test_a_day_that_is_not_a_utc_midnight_is_refused(store: BilledStore) -> None:
    with pytest.raises(StoreError, match="not a UTC midnight"):
        store.write_billed(ACCOUNT, [], observed_at=1000, days=[D1 + 3600])


def test_billed_by_sums_exactly_past_the_sqlite_integer_limit(store: BilledStore) -> None:
    big = 9 * 10**18  # $9M per line per day: two days overflow int64 in one SQL SUM
    store.write_billed(
        ACCOUNT, [line(D1, big), line(D2, big), line(D2, 1, project="proj_b")], observed_at=1, days=[D1, D2]
    )
    assert store.billed_by(("account",), D1, D2 + DAY) == [{"account": ACCOUNT, "amount_pico": 2 * big + 1}]


def test_billed_by_groups_by_utc_day_and_project(store: BilledStore) -> None:
    store.write_billed(
        ACCOUNT,
        [line(D1, 5), line(D1, 7, "x, output"), line(D2, 8, project="proj_b")],
        observed_at=1,
        days=[D1, D2],
    )
    assert store.billed_by(("day", "project"), D1, D2 + DAY) == [
        {"day": "2026-11-20", "project": "proj_a", "amount_pico": 12},
        {"day": "2026-11-21", "project": "proj_b", "amount_pico": 8},
    ]


def test_billed_by_leaves_out_days_outside_the_range(store: BilledStore) -> None:
    store.write_billed(ACCOUNT, [line(D1, 5), line(D2, 8)], observed_at=1, days=[D1, D2])
    assert store.billed_by(("account",), D2, D2 + DAY) == [{"account": ACCOUNT, "amount_pico": 8}]


def test_an_unknown_dimension_is_refused_listing_the_known_ones(store: BilledStore) -> None:
    with pytest.raises(ValueError, match=r"user.*expected some of provider"):
        store.billed_by(("user",), D1, D2)


def test_the_billed_lines_survive_reopening_and_migrate_once(tmp_path: Path) -> None:
    path = tmp_path / "spend.db"
    with Ledger.open(path) as ledger:
        BilledStore(ledger).write_billed(ACCOUNT, [line(D1, 5)], observed_at=1, days=[D1])
    with Ledger.open(path) as ledger:
        store = BilledStore(ledger)
        applied = ledger.db.execute(
            "SELECT COUNT(*) FROM _sqlite_migrations WHERE migration_set = 'billed'"
        ).fetchone()
        assert amounts(store) == {(D1, "proj_a", "gpt-4.1-2025-04-14, input"): 5}
        # m001_billed, m002_billed_api_key, m003_billed_quantity, m004_billed_other_currency
        assert applied == (4,)


def test_days_between_lists_every_utc_day_the_window_touches() -> None:
    assert days_between(D1 + 7200, D2 + 60) == [D1, D2]
    assert days_between(D1, D2) == [D1]
    assert days_between(D1 + 5, D1 + 5) == [D1]


def test_billed_in_periods_counts_the_utc_days_starting_in_the_current_day_and_month(
    store: BilledStore,
) -> None:
    store.write_billed(
        ACCOUNT,
        [line(D1 - 20 * DAY, 1), line(D1, 5), line(D2, 8), line(D2, 2, project="proj_b")],
        observed_at=1,
        days=[D2],
    )
    now = datetime.fromtimestamp(D2 + 3600, UTC)
    rows = {(r.period, r.project): r.amount_pico for r in billed_in_periods(store, now, ZoneInfo("UTC"))}
    assert rows == {
        ("day", "proj_a"): 8,
        ("day", "proj_b"): 2,
        ("month", "proj_a"): 13,
        ("month", "proj_b"): 2,
    }


def test_lines_of_two_keys_are_kept_apart(store: BilledStore) -> None:
    store.write_billed(
        ACCOUNT, [line(D1, 5, api_key="key_a"), line(D1, 7, api_key="key_b")], observed_at=1, days=[D1]
    )
    by_key = {(r["api_key"], r["amount_pico"]) for r in store.billed_by(("api_key",), D1, D2)}
    assert by_key == {("key_a", 5), ("key_b", 7)}


def test_the_api_key_migration_keeps_the_lines_billed_before_it(tmp_path: Path) -> None:
    path = tmp_path / "spend.db"
    with Ledger.open(path) as ledger:
        BilledStore(ledger).write_billed(ACCOUNT, [line(D1, 5)], observed_at=1, days=[D1])
        # Back to the table m001_billed made: no api_key column, m002 (and the later ones) not applied.
        columns = "provider, account, day_start, project, line_item, model, token_type, service_tier, context_window, amount_pico, observed_at"
        ledger.db.execute(f"CREATE TABLE old AS SELECT {columns} FROM billed")
        ledger.db.execute("DROP TABLE billed")
        ledger.db.execute("DROP TABLE billed_other_currency")
        ledger.db.execute("ALTER TABLE old RENAME TO billed")
        ledger.db.execute(
            "DELETE FROM _sqlite_migrations WHERE migration_set = 'billed' AND name != 'm001_billed'"
        )
    with Ledger.open(path) as ledger:
        store = BilledStore(ledger)
        assert [(c.amount_pico, c.api_key) for c in store.lines(0, 2**40)] == [(5, "")]
        store.write_billed(ACCOUNT, [line(D2, 3, api_key="key_a")], observed_at=2, days=[D2])
        assert amounts(store) == {
            (D1, "proj_a", "gpt-4.1-2025-04-14, input"): 5,
            (D2, "proj_a", "gpt-4.1-2025-04-14, input"): 3,
        }
