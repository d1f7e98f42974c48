"""Opening the ledger file: connection settings, the not-a-ledger checks, migrations, transactions.

The sqlite3 connection runs with `isolation_level=None` (no implicit transactions): every
transaction is an explicit `BEGIN IMMEDIATE` (or a SAVEPOINT when nested), so a write never
waits half-way for another writer's lock and nothing is committed behind the caller's back.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils

from monitor.errors import StoreError
from monitor.store import alerts_schema, billed_schema, channels, claude_code, directory, schema

log = logging.getLogger(__name__)

BUSY_TIMEOUT_S = 30
"""How long a statement waits for another connection's write lock before failing (sqlite3 busy timeout)."""

_MIGRATIONS_TABLE = sqlite_utils.Migrations.migrations_table

MIGRATION_SETS: tuple[sqlite_utils.Migrations, ...] = (
    schema.MIGRATIONS,
    billed_schema.MIGRATIONS,
    alerts_schema.MIGRATIONS,
    channels.MIGRATIONS,
    directory.MIGRATIONS,
    claude_code.MIGRATIONS,
)
"""Every migration set of the ledger file, applied in this order by `connect()` and nowhere else."""


def connect(path: Path) -> sqlite_utils.Database:
    """Open (creating if needed) the ledger at `path`, check it and apply every pending migration of
    every set, once; StoreError naming the path on failure.

    A file of zero bytes is refused rather than taken for a new ledger: it is what a truncated
    ledger looks like, and starting afresh on it would re-send every alert (docs/RELIABILITY.md).
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the directory of ledger {path}: {exc.strerror or exc}") from exc
    if path.is_dir():
        raise StoreError(f"ledger path {path} is a directory: set storage.path to a file")
    _check_not_truncated(path)
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open ledger {path}: {exc}; check the path and its permissions") from exc
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable at checkpoints, never corrupt
        db = sqlite_utils.Database(conn, execute_plugins=False)
        _check_is_ledger(db, path)
        pending = [f"{s.name}/{m.name}" for s in MIGRATION_SETS for m in s.pending(db)]
        if pending:
            _migrate(db)
            log.info("ledger %s: applied schema migrations %s", path, ", ".join(pending))
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(
            f"cannot open ledger {path}: {exc}; is it a SQLite file? Point storage.path at a new file"
        ) from exc
    except StoreError:
        conn.close()
        raise
    return db


def _check_not_truncated(path: Path) -> None:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return  # a new ledger
    except OSError as exc:
        raise StoreError(f"cannot open ledger {path}: {exc.strerror or exc}") from exc
    if size == 0:
        raise StoreError(
            f"ledger {path} is an empty file (0 bytes): a truncated ledger would start afresh and re-send "
            "every alert; restore it from a backup, or delete the file to start a new ledger"
        )


def _check_is_ledger(db: sqlite_utils.Database, path: Path) -> None:
    tables = set(db.table_names())
    applied_any = False
    for migrations in MIGRATION_SETS:
        applied = {m.name for m in migrations.applied(db)}
        known = {m.name for m in migrations._migrations}  # sqlite-utils has no public list of a set's names
        applied_any = applied_any or bool(applied)
        if applied - known:
            raise StoreError(
                f"ledger {path} has {migrations.name} schema versions this spend-monitor does not know "
                f"({', '.join(sorted(applied - known))}); it was written by a newer version: "
                "upgrade spend-monitor, or point storage.path at a new file"
            )
    if not applied_any and tables - {_MIGRATIONS_TABLE}:
        listed = ", ".join(sorted(tables)[:5])
        raise StoreError(
            f"{path} is a SQLite database but not a spend-monitor ledger (tables: {listed}); "
            "set storage.path to a new file"
        )


def _migrate(db: sqlite_utils.Database) -> None:
    """Apply pending migrations under one BEGIN IMMEDIATE, so two processes opening a new file at
    once cannot both run them; each migration still runs in its own (nested) transaction."""
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        for migrations in MIGRATION_SETS:
            migrations.apply(db)
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


class Transactions:
    """BEGIN IMMEDIATE ... COMMIT/ROLLBACK on one connection, nested as SAVEPOINTs, under a lock.

    The lock makes one Ledger safe to share between threads (the daemon's jobs and the HTTP
    server): a transaction and the queries of another thread never interleave.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self._path = path
        self._depth = 0
        self.lock = threading.RLock()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self.lock:
            nested = self._conn.in_transaction
            self._depth += 1
            savepoint = f"ledger_sp{self._depth}"
            try:
                self._conn.execute(f"SAVEPOINT {savepoint}" if nested else "BEGIN IMMEDIATE")
                try:
                    yield
                    self._conn.execute(f"RELEASE {savepoint}" if nested else "COMMIT")
                except BaseException:
                    self._rollback(nested, savepoint)
                    raise
            except (sqlite3.Error, OverflowError) as exc:  # OverflowError: an int beyond SQLite's int64
                raise StoreError(f"ledger {self._path}: {exc}") from exc
            finally:
                self._depth -= 1

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Hold the lock for a read; sqlite3 errors surface as StoreError naming the ledger."""
        with self.lock:
            try:
                yield
            except sqlite3.Error as exc:
                raise StoreError(f"ledger {self._path}: {exc}") from exc

    def _rollback(self, nested: bool, savepoint: str) -> None:
        if not self._conn.in_transaction:  # the error already ended the transaction
            return
        if nested:
            self._conn.execute(f"ROLLBACK TO {savepoint}")
            self._conn.execute(f"RELEASE {savepoint}")
        else:
            self._conn.execute("ROLLBACK")
