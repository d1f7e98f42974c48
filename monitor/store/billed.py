"""The providers' billed costs (OpenAI costs, Anthropic cost report) per account and UTC day.

Own `billed` migration set in the ledger file (monitor.store.billed_schema). Writes follow the usage ledger's observation rule,
per (account, day): a newer observation of a day replaces all of its lines (a revised line replaces
the old one, a vanished line is removed), an equal one merges (pages of one fetch), an older one
is ignored. Amounts are integer picodollars; providers' units (OpenAI dollars, Anthropic cents) are
converted by the adapters before anything reaches this module.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlite_utils

from monitor.errors import StoreError
from monitor.records import BilledCost, pico_to_usd
from monitor.store.base import LedgerLike
from monitor.store.billed_lines import MergedLine
from monitor.store.money import ROW_LIMIT_TEXT, join_split, out_of_range, split_sum

DAY = 86_400
USD = "USD"

LINE_KEY: tuple[str, ...] = (
    "project",
    "line_item",
    "model",
    "token_type",
    "service_tier",
    "context_window",
    "api_key",
)
"""What tells two cost lines of one (account, day) apart (api_key since m002_billed_api_key)."""

BILLED_DIMENSIONS: tuple[str, ...] = ("provider", "account", "day", "day_start", *LINE_KEY)
"""Dimensions `billed_by` groups by; `day` is the UTC date (YYYY-MM-DD), `day_start` its unix start."""


_INSERT_OTHER = (
    "INSERT INTO billed_other_currency VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (day_start, account, project, line_item, currency) DO UPDATE SET "
    "amount_units = excluded.amount_units, observed_at = excluded.observed_at"
)
_INSERT = (
    "INSERT INTO billed (provider, account, day_start, project, line_item, model, token_type, service_tier, "
    "context_window, api_key, amount_pico, observed_at, quantity, quantity_unit) VALUES (?, ?, ?, ?, ?, ?, ?, "
    "?, ?, ?, ?, ?, ?, ?) ON CONFLICT (day_start, account, project, line_item, model, token_type, service_tier, "
    "context_window, api_key) DO UPDATE SET provider = excluded.provider, amount_pico = excluded.amount_pico, "
    "observed_at = excluded.observed_at, quantity = excluded.quantity, quantity_unit = excluded.quantity_unit"
)


def days_between(start: int, end: int) -> list[int]:
    """The UTC day starts of every day that overlaps [start, end): what a cost fetch of that window covers."""
    first = start - start % DAY
    return list(range(first, max(end, first + 1), DAY))


def day_ranges(days: Iterable[int]) -> list[tuple[int, int]]:
    """Day starts as contiguous [start, end) ranges, in order: [D, D+1, D+3] -> [(D, D+2), (D+3, D+4)]."""
    ranges: list[tuple[int, int]] = []
    for day in sorted(days):
        if ranges and ranges[-1][1] == day:
            ranges[-1] = (ranges[-1][0], day + DAY)
        else:
            ranges.append((day, day + DAY))
    return ranges


def claim_days(
    conn: sqlite3.Connection,
    tables: tuple[str, str],
    account: str,
    covered: set[int],
    observed_at: int,
    *,
    also: tuple[str, ...] = (),
) -> set[int]:
    """Inside a transaction: the days of `covered` an observation at `observed_at` may write.

    The per-(account, day) observation rule shared by the stores kept per day: a day observed
    before at an older time is replaced (its rows in `table` and in each table of `also` deleted,
    its time in `days_table` advanced), one observed at this very time merges (pages of one fetch),
    a newer one is left. `tables` is (the rows' table, the days' table), all module constants.
    """
    table, days_table = tables
    stored = dict(
        conn.execute(
            f"SELECT day_start, observed_at FROM {days_table} WHERE account = ? "
            "AND day_start IN (SELECT value FROM json_each(?))",
            (account, json.dumps(sorted(covered))),
        ).fetchall()
    )
    replace = sorted(d for d in covered if stored.get(d, -1) < observed_at)
    for rows_table in (table, *also):
        conn.execute(
            f"DELETE FROM {rows_table} WHERE account = ? AND day_start IN (SELECT value FROM json_each(?))",
            (account, json.dumps(replace)),
        )
    conn.executemany(
        f"INSERT INTO {days_table} VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET "
        "observed_at = max(observed_at, excluded.observed_at)",
        [(account, d, observed_at) for d in replace],
    )
    return set(replace) | {d for d in covered if stored.get(d) == observed_at}


def utc_day(day_start: int) -> str:
    """The UTC date (YYYY-MM-DD) of a day start."""
    return datetime.fromtimestamp(day_start, UTC).date().isoformat()


class BilledStore:
    """Billed cost lines in the ledger's SQLite file (its `billed` migrations are applied by `connect()`)."""

    def __init__(self, ledger: LedgerLike) -> None:
        self.ledger = ledger
        self.db: sqlite_utils.Database = ledger.db

    def write_billed(
        self, account: str, costs: Sequence[BilledCost], *, observed_at: int, days: Iterable[int]
    ) -> int:
        """Write one observation of `account`'s billed costs for `days` (UTC day starts) in one transaction.

        `days` lists every day the fetch covered, including days with no cost lines (so a day whose
        lines all vanished is emptied); days of the lines themselves are added. `observed_at`
        orders observations (unix ms, like UsagePage.observed_at). Lines of one call sharing a key
        are summed (their quantities too, when every one has one in the same unit). Lines in another
        currency than USD go to `billed_other_currency`. Returns the number of lines written (lines
        of stale days are skipped).
        """
        merged: dict[tuple[int, str, str, str, str, str, str, str], MergedLine] = {}
        other: dict[tuple[int, str, str, str], tuple[str, int]] = {}
        for c in costs:
            if c.account != account:
                raise StoreError(f"write_billed for account {account!r} got a cost line of {c.account!r}")
            if c.day_start % DAY:
                raise StoreError(f"billed cost of {account!r} starts at {c.day_start}, not a UTC midnight")
            if c.currency != USD:
                key4 = (c.day_start, c.project, c.line_item, c.currency)
                other[key4] = (c.provider, other.get(key4, ("", 0))[1] + c.amount_pico)
                continue
            key = (
                c.day_start,
                c.project,
                c.line_item,
                c.model,
                c.token_type,
                c.service_tier,
                c.context_window,
                c.api_key,
            )
            merged[key] = merged[key].add(c) if key in merged else MergedLine.of(c)
        amounts = [(k[0], k[1], k[2], m.amount) for k, m in merged.items()]
        amounts += [(k[0], k[1], k[2], amount) for k, (_, amount) in other.items()]
        for day, project, item, amount in amounts:
            if out_of_range([("amount", amount)]):
                raise StoreError(
                    f"{account}: a billed cost line of {utc_day(day)} ({item or project or 'no line item'}) "
                    f"of ${pico_to_usd(amount):,.2f} is beyond what one line can hold ({ROW_LIMIT_TEXT}); "
                    "the costs of this fetch are refused, none is stored"
                )
        covered = set(days) | {key[0] for key in merged} | {key[0] for key in other}
        bad = sorted(d for d in covered if d % DAY)
        if bad:
            raise StoreError(f"write_billed for {account!r}: day {bad[0]} is not a UTC midnight")
        conn = self.db.conn
        with self.ledger.transaction():
            tables = ("billed", "billed_days")
            writable = claim_days(
                conn, tables, account, covered, observed_at, also=("billed_other_currency",)
            )
            rows = [
                (line.provider, account, key[0], *key[1:], line.amount, observed_at, *line.quantity_text())
                for key, line in merged.items()
                if key[0] in writable
            ]
            conn.executemany(_INSERT, rows)
            others = [
                (provider, account, *key, amount, observed_at)
                for key, (provider, amount) in other.items()
                if key[0] in writable
            ]
            conn.executemany(_INSERT_OTHER, others)
        return len(rows) + len(others)

    def observed_days(self, start: int, end: int) -> dict[tuple[str, int], int]:
        """(account, day_start) -> observed_at for every day with day_start in [start, end) that was fetched."""
        rows = self.db.execute(
            "SELECT account, day_start, observed_at FROM billed_days WHERE day_start >= ? AND day_start < ?",
            [start, end],
        ).fetchall()
        return {(a, d): o for a, d, o in rows}

    def providers(self) -> dict[str, str]:
        """account -> provider of every account with billed lines."""
        return dict(self.db.execute("SELECT DISTINCT account, provider FROM billed").fetchall())

    def lines(self, start: int, end: int) -> list[BilledCost]:
        """Every stored cost line of the days starting in [start, end), ordered by day and account."""
        rows = self.db.execute(
            "SELECT provider, account, day_start, project, line_item, amount_pico, model, token_type, "
            "service_tier, context_window, api_key, quantity, quantity_unit FROM billed WHERE day_start >= ? "
            "AND day_start < ? ORDER BY day_start, account, project, line_item, model, token_type, "
            "service_tier, context_window, api_key",
            [start, end],
        ).fetchall()
        return [
            BilledCost(
                provider, account, day, project, item, amount, model, kind, tier, window, key,
                quantity=None if quantity is None else Decimal(quantity),
                quantity_unit=unit,
            )
            for provider, account, day, project, item, amount, model, kind, tier, window, key, quantity, unit in rows
        ]  # fmt: skip

    def other_currency_lines(self, start: int, end: int) -> list[BilledCost]:
        """The lines in another currency than USD of the days starting in [start, end): kept to be
        reported, never added to dollars (`amount_pico` is 10**-12 of the line's `currency`)."""
        rows = self.db.execute(
            "SELECT provider, account, day_start, project, line_item, amount_units, currency "
            "FROM billed_other_currency WHERE day_start >= ? AND day_start < ? "
            "ORDER BY day_start, account, project, line_item, currency",
            [start, end],
        ).fetchall()
        return [
            BilledCost(provider, account, day, project, item, amount, currency=currency)
            for provider, account, day, project, item, amount, currency in rows
        ]

    def billed_by(
        self, dims: Sequence[str], start: int, end: int, *, accounts: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """Billed picodollars of the days starting in [start, end) grouped by `dims` (BILLED_DIMENSIONS).

        Each result is {dim: value, ..., "amount_pico": int}, sorted by the dims; `accounts` keeps
        only those accounts. SQL sums per (group, day) and Python adds the days, so sums past
        SQLite's int64 stay exact.
        """
        unknown = [d for d in dims if d not in BILLED_DIMENSIONS]
        if unknown:
            raise ValueError(
                f"unknown billed dimension(s) {', '.join(unknown)}: expected some of {', '.join(BILLED_DIMENSIONS)}"
            )
        names = ["day_start", *(d for d in dict.fromkeys(dims) if d not in ("day", "day_start"))]
        select = ", ".join(f'"{n}"' for n in names)
        where = "day_start >= ? AND day_start < ?"
        params: list[Any] = [start, end]
        if accounts is not None:
            where += " AND account IN (SELECT value FROM json_each(?))"
            params.append(json.dumps(list(accounts)))
        sql = f"SELECT {select}, {split_sum('amount_pico')} FROM billed WHERE {where} GROUP BY {select}"
        groups: dict[tuple[Any, ...], int] = {}
        for *values, high, low in self.db.execute(sql, params):
            by_name = dict(zip(names, values, strict=True))
            by_name["day"] = utc_day(by_name["day_start"])
            key = tuple(by_name[d] for d in dims)
            groups[key] = groups.get(key, 0) + join_split(high, low)
        return [{**dict(zip(dims, key, strict=True)), "amount_pico": groups[key]} for key in sorted(groups)]
