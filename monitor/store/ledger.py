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
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo

import sqlite_utils

from monitor import periods
from monitor.errors import StoreError
from monitor.records import PricedRow, UsagePage, UsageRow
from monitor.store import queries, reprice, totals
from monitor.store.connection import Transactions, connect
from monitor.store.queries import Scope
from monitor.store.reprice import RepriceResult
from monitor.store.schema import (
    FIRST_BUCKET,
    PK_AFTER,
    PK_COLUMNS,
    ROW_SELECT,
    TOK_COLUMNS,
    key_before,
    pk_of,
    upsert_sql,
    usage_params,
    usage_row,
)
from monitor.store.totals import BucketGroup

_ITER_CHUNK = 5000
_ITER_SQL = (
    f"SELECT {ROW_SELECT} FROM usage WHERE {PK_AFTER} AND bucket_start >= ? "
    f"ORDER BY {', '.join(PK_COLUMNS)} LIMIT ?"
)


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What one write did: rows inserted or updated, rows ignored as stale, buckets replaced."""

    rows_written: int
    rows_stale: int
    buckets_replaced: int


@dataclass(frozen=True, slots=True)
class PollRecord:
    """The last poll of one (account, endpoint); `error` is already redacted by the caller."""

    account: str
    endpoint: str
    started: int
    finished: int
    ok: bool
    error: str
    rows: int


class Ledger:
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
        written = self._conn.executemany(self._upsert_sql, usage_params(rows, observed_at)).rowcount
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

    # ---- reads -----------------------------------------------------------------------------

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._tx.reading():
            return self._conn.execute(sql, params).fetchall()

    def cursor(self, account: str, endpoint: str) -> int | None:
        """The (account, endpoint) cursor in unix seconds, None before the first page."""
        found = self._query(
            "SELECT cursor FROM cursors WHERE account = ? AND endpoint = ?", (account, endpoint)
        )
        return int(found[0][0]) if found else None

    def cursors(self) -> dict[tuple[str, str], int]:
        return {(a, e): c for a, e, c in self._query("SELECT account, endpoint, cursor FROM cursors")}

    def observed_since(self, observed_at: int) -> tuple[int, int | None]:
        """(newest observation time, oldest bucket start observed after `observed_at` or None)."""
        with self._tx.reading():
            return queries.observed_since(self._conn, observed_at)

    def tokens_by_model(self) -> dict[tuple[str, str, str], tuple[int, ...]]:
        """Cumulative tokens per (provider, account, model) and TOKEN_TYPES kind, from the exact totals."""
        sums = ", ".join(f'SUM("{c}")' for c in TOK_COLUMNS)
        rows = self._query(
            f"SELECT provider, account, model, {sums} FROM totals GROUP BY provider, account, model"
        )
        return {(p, a, m): tuple(rest) for p, a, m, *rest in rows}

    def account_providers(self) -> dict[str, str]:
        """account -> provider of every account with usage in the ledger."""
        return dict(self._query("SELECT DISTINCT account, provider FROM totals"))

    def coverage_starts(self) -> dict[str, int]:
        """account -> the first bucket start from which every polled endpoint of it has been observed.

        Usage before it was never fetched, so a day that starts earlier is only partly in the
        ledger (a first poll whose lookback begins mid-day) and cannot be compared with a bill.
        """
        rows = self._query(
            "SELECT account, MAX(first) FROM (SELECT account, endpoint, MIN(bucket_start) AS first "
            "FROM observations GROUP BY account, endpoint) GROUP BY account"
        )
        return {account: int(first) for account, first in rows}

    def polls(self) -> list[PollRecord]:
        rows = self._query("SELECT * FROM polls ORDER BY account, endpoint")
        return [PollRecord(a, e, s, f, bool(ok), err, n) for a, e, s, f, ok, err, n in rows]

    def spend(self, start: int, end: int, scope: Scope | None = None) -> int:
        """Picodollars of usage with bucket_start in [start, end) within `scope`."""
        with self._tx.reading():
            return queries.spend(self._conn, start, end, scope)

    def spend_by(
        self,
        dims: Sequence[str],
        start: int,
        end: int,
        scope: Scope | None = None,
        *,
        tz: ZoneInfo | None = None,
    ) -> list[dict[str, Any]]:
        """Usage and cost in [start, end) grouped by `dims` (see queries.DIMENSIONS; day/hour need tz)."""
        with self._tx.reading():
            return queries.spend_by(self._conn, dims, start, end, scope=scope, tz=tz)

    def hourly_spend(
        self, start: int, end: int, dims: Sequence[str] = (), scope: Scope | None = None
    ) -> list[tuple[Any, ...]]:
        """(bucket_start, *dims, cost_pico) per bucket in [start, end), ordered by bucket_start."""
        with self._tx.reading():
            return queries.hourly_spend(self._conn, start, end, dims, scope)

    def spend_in_period(
        self,
        period: str,
        at: datetime,
        tz: ZoneInfo,
        scope: Scope | None = None,
        *,
        month_start_day: int = 1,
        week_start: int = 0,
    ) -> int:
        """Picodollars spent in the calendar period (in `tz`) containing `at`."""
        start, end = periods.period_bounds(
            period, at, tz, month_start_day=month_start_day, week_start=week_start
        )
        return self.spend(periods.to_unix(start), periods.to_unix(end), scope)

    def totals(self) -> list[dict[str, Any]]:
        """The cumulative table: one dict per (provider, account, project, api_key, model, service_tier)."""
        with self._tx.reading():
            return totals.read(self._conn)

    def unpriced(self) -> list[dict[str, Any]]:
        """Tokens left unpriced per (provider, account, model), only where there are some."""
        rows = self._query(
            "SELECT provider, account, model, SUM(unpriced_tokens) FROM totals "
            "GROUP BY provider, account, model HAVING SUM(unpriced_tokens) > 0 ORDER BY 1, 2, 3"
        )
        return [{"provider": p, "account": a, "model": m, "tokens": n} for p, a, m, n in rows]

    def iter_usage(self, since: int | None = None) -> Iterator[tuple[UsageRow, str | None]]:
        """Every usage row (bucket_start >= since) with its price_id, in key (time) order.

        Read in chunks, each under the lock only while it is fetched, so the caller may write
        between chunks.
        """
        floor = since if since is not None else FIRST_BUCKET
        after = key_before(floor)
        while True:
            chunk = self._query(_ITER_SQL, (*after, floor, _ITER_CHUNK))
            if not chunk:
                return
            rows = [usage_row(values) for values in chunk]
            yield from rows
            after = pk_of(rows[-1][0])

    def reprice(
        self,
        pricer: Callable[[UsageRow], PricedRow],
        since: int | None,
        dry_run: bool,
        *,
        only_unpriced: bool = False,
    ) -> RepriceResult:
        """Price every row again (bucket_start >= since; with `only_unpriced`, only rows no price
        matched); per model old vs new cost.

        Writes changed rows in transactions of a few thousand rows, totals included; a failure
        leaves the finished chunks repriced, so running it again completes the job.
        """
        return reprice.reprice(
            self._conn, self.transaction, pricer, since, dry_run, only_unpriced=only_unpriced
        )
