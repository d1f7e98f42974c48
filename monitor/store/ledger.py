"""The Ledger: the one object the daemon, metrics, budgets and CLI use to write and read the SQLite ledger.

Writes follow the observation semantics of docs/architecture.md (a newer observation of a bucket
replaces its rows, an equal one merges, an older one is ignored) and keep `totals` exact by
subtracting the touched buckets' aggregates before the write and adding them back after it, in
the same transaction, so the metrics counters never scan the ledger.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import sqlite_utils

from monitor.errors import StoreError
from monitor.records import TOKEN_TYPES, PricedRow, UsagePage, UsageRow, pico_to_usd
from monitor.store import reprice, totals
from monitor.store.connection import Transactions, connect
from monitor.store.money import ROW_LIMIT_TEXT, out_of_range
from monitor.store.reads import LedgerReads
from monitor.store.reprice import RepriceResult
from monitor.store.totals import BucketGroup
from monitor.store.usage_rows import upsert_sql, usage_params


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What one write did: rows inserted or updated, rows ignored as stale, buckets replaced."""

    rows_written: int
    rows_stale: int
    buckets_replaced: int


class Ledger(LedgerReads):
    """The SQLite ledger. Open with `Ledger.open(path)`; use as a context manager to close it.

    `db` (the sqlite_utils.Database) and `transaction()` let sibling stores (alerts) keep their
    own tables in the same file and write in one transaction with the ledger.
    """

    def __init__(self, db: sqlite_utils.Database, path: Path) -> None:
        self.db = db
        self.path = path
        self._conn: sqlite3.Connection = db.conn
        self._tx = Transactions(self._conn, path)
        self._upsert_sql = upsert_sql()

    @classmethod
    def open(cls, path: str | Path) -> Ledger:
        """Open or create the ledger file (and its directory) and apply pending migrations."""
        path = Path(path)
        return cls(connect(path), path)

    def close(self) -> None:
        with self._tx.lock:
            self._conn.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def transaction(self) -> AbstractContextManager[None]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on an exception; nested calls become SAVEPOINTs.

        sqlite3 errors inside surface as StoreError. Holds the ledger's lock, so other threads
        using this Ledger wait.
        """
        return self._tx.transaction()

    # ---- writes ----------------------------------------------------------------------------

    def write_page(self, page: UsagePage, priced: Sequence[PricedRow]) -> WriteResult:
        """Write one fetched page in one transaction: replace/merge/skip per bucket, totals, cursor.

        A row whose bucket is missing from `page.buckets` counts as covering it; a row of another
        account, endpoint or bucket width is refused (StoreError) before anything is written.
        """
        buckets = set(page.buckets)
        for p in priced:
            u = p.usage
            if (u.account, u.endpoint, u.bucket_width) != (page.account, page.endpoint, page.bucket_width):
                raise StoreError(
                    f"page of {page.account}/{page.endpoint} (width {page.bucket_width}s) holds a row of "
                    f"{u.account}/{u.endpoint} (width {u.bucket_width}s)"
                )
            buckets.add(u.bucket_start)
        group: BucketGroup = (page.account, page.endpoint, page.bucket_width)
        with self.transaction():
            stored = self._observations(group, buckets)
            replace = {b for b in buckets if stored.get(b, -1) < page.observed_at}
            writable = replace | {b for b in buckets if stored.get(b) == page.observed_at}
            rows = [p for p in priced if p.usage.bucket_start in writable]
            written = self._rewrite({group: writable}, {group: replace}, rows, page.observed_at)
            self._conn.executemany(
                "INSERT INTO observations VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
                "observed_at = max(observed_at, excluded.observed_at)",
                [(*group[:2], b, group[2], page.observed_at) for b in sorted(replace)],
            )
            self._conn.execute(
                "INSERT INTO cursors VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
                "cursor = max(cursor, excluded.cursor), updated_at = excluded.updated_at",
                (page.account, page.endpoint, page.closed_until, page.observed_at // 1000),
            )
        return WriteResult(
            rows_written=written,
            rows_stale=len(priced) - written,
            buckets_replaced=sum(1 for b in replace if b in stored),
        )

    def upsert_priced(self, rows: Sequence[PricedRow], observed_at: int) -> int:
        """Upsert rows by natural key (a row older than the stored one is left alone); returns rows written.

        No bucket replacement and no cursor: the row-level primitive under write_page.
        """
        groups: dict[BucketGroup, set[int]] = defaultdict(set)
        for p in rows:
            groups[(p.usage.account, p.usage.endpoint, p.usage.bucket_width)].add(p.usage.bucket_start)
        with self.transaction():
            return self._rewrite(groups, {}, rows, observed_at)

    def _observations(self, group: BucketGroup, buckets: set[int]) -> dict[int, int]:
        cursor = self._conn.execute(
            "SELECT bucket_start, observed_at FROM observations WHERE account = ? AND endpoint = ? "
            "AND bucket_width = ? AND bucket_start IN (SELECT value FROM json_each(?))",
            (*group, json.dumps(sorted(buckets))),
        )
        return dict(cursor.fetchall())

    def _rewrite(
        self,
        touched: dict[BucketGroup, set[int]],
        replace: dict[BucketGroup, set[int]],
        rows: Sequence[PricedRow],
        observed_at: int,
    ) -> int:
        """Inside a transaction: take the touched buckets out of `totals`, delete the replaced
        buckets' rows, upsert `rows`, and add the touched buckets back into `totals`."""
        removed = sum(totals.apply(self._conn, -1, g, b) for g, b in touched.items() if b)
        for group, starts in replace.items():
            if starts:
                self._conn.execute(
                    f"DELETE FROM usage WHERE {totals.BUCKETS_WHERE}", (*group, json.dumps(sorted(starts)))
                )
        try:
            written = self._conn.executemany(self._upsert_sql, usage_params(rows, observed_at)).rowcount
        except (sqlite3.Error, OverflowError) as exc:
            _refuse_out_of_range(rows, exc)
            raise
        for g, b in touched.items():
            if b:
                totals.apply(self._conn, 1, g, b)
        if removed:
            totals.drop_empty(self._conn)
        return max(written, 0)

    def record_poll(
        self,
        account: str,
        endpoint: str,
        *,
        started: int,
        finished: int,
        ok: bool,
        error: str = "",
        rows: int = 0,
    ) -> None:
        """Remember the last poll of (account, endpoint) for the status page and /readyz."""
        with self.transaction():
            self._conn.execute(
                "INSERT OR REPLACE INTO polls VALUES (?, ?, ?, ?, ?, ?, ?)",
                (account, endpoint, started, finished, int(ok), error, rows),
            )

    def reprice(
        self,
        pricer: Callable[[UsageRow], PricedRow],
        since: int | None,
        dry_run: bool,
        *,
        only_unpriced: bool = False,
        bill_priced: bool = False,
        until: int | None = None,
    ) -> RepriceResult:
        """Price every row again (since <= bucket_start < until; with `only_unpriced`, only rows no
        price matched; with `bill_priced`, only or also the rows priced from a bill); per model old
        vs new cost.

        Writes changed rows in transactions of a few thousand rows, totals included (and what it
        lowers in `totals_repriced`, so the counters stay monotonic); a failure leaves the finished
        chunks repriced, so running it again completes the job.
        """
        return reprice.reprice(
            self._conn,
            self.transaction,
            pricer,
            since,
            dry_run,
            only_unpriced=only_unpriced,
            bill_priced=bill_priced,
            until=until,
        )


def _refuse_out_of_range(rows: Sequence[PricedRow], exc: BaseException) -> None:
    """Raise a StoreError naming the row and field when a write failed on a value SQLite cannot hold.

    Checked only after a failed write, so the common path pays nothing. A row whose cost (or a
    count) passes 2**63 - 1 (about $9.2M in one usage row) is out of any range the ledger keeps; the
    page is refused whole, its transaction rolled back and its cursor left where it was.
    """
    for p in rows:
        u = p.usage
        fields = [
            *((f"tokens.{t}", n) for t, n in zip(TOKEN_TYPES, u.tokens, strict=True)),
            ("requests", u.requests),
            *((f"cost of {t} tokens", c) for t, c in zip(TOKEN_TYPES, p.costs, strict=True)),
            ("non-token cost", p.unit_cost),
            ("total cost", p.total),
        ]
        found = out_of_range(fields)
        if found is None:
            continue
        name, value = found
        shown = f"${pico_to_usd(value):,.2f}" if "cost" in name else f"{value:,}"
        bucket = datetime.fromtimestamp(u.bucket_start, UTC).strftime("%Y-%m-%d %H:%M UTC")
        raise StoreError(
            f"{u.account}/{u.endpoint}: a usage row (bucket {bucket}, model {u.model or '-'}, project "
            f"{u.project or '-'}) has {name} {shown}, beyond what one row can hold ({ROW_LIMIT_TEXT}); "
            "its page is refused and nothing of it is stored"
        ) from exc
