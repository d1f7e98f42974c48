"""Opening the ledger file: creation, migrations, refusal of files that are not ledgers, transactions."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from test_store_support import price, usage, usage_dump, write

from monitor.errors import StoreError
from monitor.store import Ledger


def test_open_creates_the_directory_and_a_wal_ledger(tmp_path: Path) -> None:
    path = tmp_path / "data" / "nested" / "spend.db"
    with Ledger.open(str(path)) as ledger:
        assert ledger.path == path
        assert ledger.db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert ledger.db.conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert {"usage", "observations", "cursors", "totals", "polls"} <= set(ledger.db.table_names())


def test_reopening_an_existing_ledger_is_a_no_op(tmp_path: Path) -> None:
    path = tmp_path / "spend.db"
    with Ledger.open(path) as ledger:
        write(ledger, [usage(0, input=5)], observed_at=1)
        migrations = ledger.db.conn.execute("SELECT * FROM _sqlite_migrations").fetchall()
        rows = usage_dump(ledger)

    with Ledger.open(path) as reopened:
        assert reopened.db.conn.execute("SELECT * FROM _sqlite_migrations").fetchall() == migrations
        assert usage_dump(reopened) == rows


def test_a_file_that_is_not_sqlite_is_refused_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are not the pages you are looking for\n" * 100)

    with pytest.raises(StoreError, match=r"notes\.txt.*not a database"):
        Ledger.open(path)


def test_another_applications_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.commit()
    conn.close()

    with pytest.raises(StoreError, match=r"other\.db is a SQLite database but not a spend-monitor ledger"):
        Ledger.open(path)


def test_a_ledger_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "spend.db"
    Ledger.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('ledger', 'm999_future', '')"
    )
    conn.commit()
    conn.close()

    with pytest.raises(StoreError, match=r"m999_future.*newer version"):
        Ledger.open(path)


def test_a_directory_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a directory"):
        Ledger.open(tmp_path)


def test_a_path_below_a_file_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")

    with pytest.raises(StoreError, match=r"cannot create the directory of ledger .*file/spend\.db"):
        Ledger.open(blocker / "spend.db")


def test_sibling_tables_commit_with_the_ledger_in_one_transaction(tmp_path: Path) -> None:
    with Ledger.open(tmp_path / "spend.db") as ledger:
        ledger.db.execute("CREATE TABLE sibling (note TEXT)")
        with ledger.transaction():
            ledger.db.execute("INSERT INTO sibling VALUES ('kept')")
            ledger.upsert_priced([price(usage(0, input=1))], observed_at=1)

        with pytest.raises(RuntimeError), ledger.transaction():
            ledger.db.execute("INSERT INTO sibling VALUES ('lost')")
            ledger.upsert_priced([price(usage(3600, input=1))], observed_at=1)
            raise RuntimeError("crash before commit")

        assert ledger.db.conn.execute("SELECT note FROM sibling").fetchall() == [("kept",)]
        assert [r.bucket_start for r, _ in ledger.iter_usage()] == [0]


def test_a_nested_transaction_rolls_back_alone(tmp_path: Path) -> None:
    with Ledger.open(tmp_path / "spend.db") as ledger:
        with ledger.transaction():
            ledger.upsert_priced([price(usage(0, "outer", input=1))], observed_at=1)
            with pytest.raises(KeyError), ledger.transaction():
                ledger.upsert_priced([price(usage(0, "inner", input=1))], observed_at=1)
                raise KeyError("inner fails")

        assert [r.project for r, _ in ledger.iter_usage()] == ["outer"]
        assert [t["project"] for t in ledger.totals()] == ["outer"]


def test_sql_errors_inside_a_transaction_become_store_errors(tmp_path: Path) -> None:
    with (
        Ledger.open(tmp_path / "spend.db") as ledger,
        pytest.raises(StoreError, match="no such table"),
        ledger.transaction(),
    ):
        ledger.db.execute("INSERT INTO nowhere VALUES (1)")
