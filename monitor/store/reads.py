"""The Ledger's read side: cursors, polls, spend queries, the cumulative totals and grouped reads.

Each method holds the ledger's lock while it reads (so another thread's transaction never
interleaves); the `iter_*` and grouped ones stream from the cursor, holding it until the caller has
read them all or closed the iterator.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from monitor import periods
from monitor.records import UsageRow
from monitor.store import bill_usage, grouped, queries, repriced, totals
from monitor.store.connection import Transactions
from monitor.store.ledger_columns import COST_COLUMNS, PK_COLUMNS, TOK_COLUMNS
from monitor.store.queries import Scope
from monitor.store.totals import KeyTotals
from monitor.store.usage_rows import (
    FIRST_BUCKET,
    PK_AFTER,
    ROW_COLUMNS,
    ROW_SELECT,
    key_before,
    pk_of,
    usage_row,
)

_ITER_CHUNK = 5000
_ORDER = f"ORDER BY {', '.join(PK_COLUMNS)} LIMIT ?"
_ITER_SQL = f"SELECT {ROW_SELECT} FROM usage WHERE {PK_AFTER} AND bucket_start >= ? {_ORDER}"
_STORED_SQL = (
    f"SELECT {ROW_SELECT}, {', '.join(COST_COLUMNS)}, unit_cost, unpriced_tokens FROM usage "
    f"WHERE {PK_AFTER} AND bucket_start >= ? AND bucket_start < ? {_ORDER}"
)
_N_ROW = len(ROW_COLUMNS)
_N_COST = len(COST_COLUMNS)


@dataclass(frozen=True, slots=True)
class StoredRow:
    """A usage row as stored: what was used, its costs per token type and units (picodollars)."""

    usage: UsageRow
    price_id: str | None
    costs: tuple[int, ...]
    unit_cost: int
    unpriced_tokens: int


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


class LedgerReads:
    """The queries of a `Ledger` (its base class): needs the connection and its transactions."""

    _conn: sqlite3.Connection
    _tx: Transactions

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
        """The cumulative table: one dict per (provider, account, project, api_key, model, service_tier, user)."""
        return [t.as_dict() for t in self.iter_totals()]

    def iter_totals(self) -> Iterator[KeyTotals]:
        """The cumulative table, one KeyTotals per key in key order, streamed (the metrics' counters)."""
        with self._tx.reading():
            yield from totals.iter_rows(self._conn)

    def cost_per_key(self) -> Iterator[tuple[tuple[str, ...], int, int]]:
        """(totals key: provider, account, project, api_key, model, service_tier, user; rows; cost_total
        picodollars) per key, streamed: what changed since a previous look, cheaply."""
        with self._tx.reading():
            yield from totals.iter_costs(self._conn)

    def unpriced(self) -> list[dict[str, Any]]:
        """Tokens left unpriced per (provider, account, model), only where there are some."""
        rows = self._query(
            "SELECT provider, account, model, SUM(unpriced_tokens) FROM totals "
            "GROUP BY provider, account, model HAVING SUM(unpriced_tokens) > 0 ORDER BY 1, 2, 3"
        )
        return [{"provider": p, "account": a, "model": m, "tokens": n} for p, a, m, n in rows]

    def first_bucket_start(self) -> int | None:
        """The start of the oldest bucket in the ledger, None when it holds no usage."""
        with self._tx.reading():
            return grouped.first_bucket_start(self._conn)

    def spend_per_local_day(
        self,
        dims: Sequence[str],
        *,
        since: int,
        until: int,
        tz: ZoneInfo,
        only: Sequence[tuple[str, ...]] | None = None,
    ) -> Iterator[tuple[tuple[str, ...], int, int, int]]:
        """(dims values, local epoch day in `tz`, picodollars, usage rows) per group, streamed; see
        `grouped.spend_per_local_day`."""
        with self._tx.reading():
            yield from grouped.spend_per_local_day(
                self._conn, dims, since=since, until=until, tz=tz, only=only
            )

    def spend_per_hour(
        self, ranges: Sequence[tuple[int, int]], dims: Sequence[str]
    ) -> Iterator[tuple[int, tuple[str, ...], int]]:
        """(hour start, dims values, picodollars) per hour in the [start, end) ranges, streamed."""
        with self._tx.reading():
            yield from grouped.spend_per_hour(self._conn, ranges, dims)

    def first_bucket_ends(self, column: str, values: Sequence[str]) -> dict[str, int]:
        """The end of the earliest bucket of each value of the dimension `column`."""
        with self._tx.reading():
            return grouped.first_bucket_ends(self._conn, column, values)

    def usage_per_utc_day(
        self, dims: Sequence[str], start: int | None, end: int | None, *, with_tokens: Sequence[str] = ()
    ) -> Iterator[grouped.UtcDayGroup]:
        """Tokens and cost per group of `dims` and UTC day in [start, end), streamed; see
        `grouped.usage_per_utc_day`."""
        with self._tx.reading():
            yield from grouped.usage_per_utc_day(self._conn, dims, start, end, with_tokens=with_tokens)

    def repriced_totals(self) -> dict[repriced.Key, repriced.Repriced]:
        """What re-pricing took back, per totals key (added to the exported counters)."""
        with self._tx.reading():
            return dict(repriced.iter_repriced(self._conn))

    def usage_for_bills(self, start: int, end: int) -> list[bill_usage.BillUsage]:
        """Usage per (account, UTC day, model, tier, context) and pricing, buckets in [start, end)."""
        with self._tx.reading():
            return list(bill_usage.usage_for_bills(self._conn, start, end))

    def days_to_price(self, start: int, end: int) -> list[int]:
        """UTC days in [start, end) with rows that have unpriced tokens or a rate from a bill."""
        with self._tx.reading():
            return bill_usage.days_to_price(self._conn, start, end)

    def bill_priced(self, start: int, end: int) -> list[bill_usage.BillPriced]:
        """Usage priced from bills in [start, end), per (provider, account, model)."""
        with self._tx.reading():
            return bill_usage.bill_priced(self._conn, start, end)

    def unpriced_per_local_day(
        self, dims: Sequence[str], *, since: int, until: int, tz: ZoneInfo
    ) -> Iterator[tuple[tuple[str, ...], int, int]]:
        """(dims values, local epoch day, unpriced tokens) per group with some, streamed."""
        with self._tx.reading():
            yield from bill_usage.unpriced_per_local_day(self._conn, dims, since=since, until=until, tz=tz)

    def iter_usage(self, since: int | None = None) -> Iterator[tuple[UsageRow, str | None]]:
        """Every usage row (bucket_start >= since) with its price_id, in key (time) order.

        Read in chunks, each under the lock only while it is fetched, so the caller may write
        between chunks.
        """
        floor = since if since is not None else FIRST_BUCKET
        for chunk in self._chunks(_ITER_SQL, floor):
            yield from (usage_row(values) for values in chunk)

    def iter_stored(self, start: int, end: int) -> Iterator[StoredRow]:
        """Every usage row with bucket_start in [start, end) with the costs the ledger holds for it,
        in key order and in chunks like `iter_usage` (an export's cost is the ledger's, exactly)."""
        for chunk in self._chunks(_STORED_SQL, start, end):
            for values in chunk:
                row, price_id = usage_row(values[:_N_ROW])
                costs = tuple(values[_N_ROW : _N_ROW + _N_COST])
                yield StoredRow(row, price_id, costs, values[-2], values[-1])

    def _chunks(self, sql: str, floor: int, *bounds: int) -> Iterator[list[Any]]:
        """Keyset pagination over usage's primary key from `floor`: `sql` takes the key after which
        to read, `floor`, `bounds` and the chunk size; each chunk is fetched under the lock on its own."""
        after = key_before(floor)
        while True:
            chunk = self._query(sql, (*after, floor, *bounds, _ITER_CHUNK))
            if not chunk:
                return
            yield chunk
            after = pk_of(usage_row(chunk[-1][:_N_ROW])[0])
