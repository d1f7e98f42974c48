"""Pricing the stored ledger again (after a price-table fix or a new discount), keeping `totals` exact.

The pricer is passed in, so the store never imports pricing. Rows are read and rewritten in
chunks, each in its own transaction; only rows whose cost or price changed are written.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from monitor.records import TOKEN_TYPES, PricedRow, UsageRow
from monitor.store import repriced, totals
from monitor.store.ledger_columns import BILL_PRICED_ROWS, COST_COLUMNS, PK_COLUMNS
from monitor.store.usage_rows import (
    FIRST_BUCKET,
    PK_AFTER,
    ROW_COLUMNS,
    ROW_SELECT,
    key_before,
    pk_of,
    usage_row,
)

CHUNK_ROWS = 5000

_SELECT = ", ".join([ROW_SELECT, *COST_COLUMNS, "unit_cost", "unpriced_tokens", "cost_total", "price_source"])
_CHUNK = (
    f"SELECT {_SELECT} FROM usage WHERE {PK_AFTER} AND bucket_start >= ? AND bucket_start < ?{{only}} "
    f"ORDER BY {', '.join(PK_COLUMNS)} LIMIT ?"
)
_ONLY = {
    (False, False): "",
    (True, False): " AND price_id IS NULL",
    (True, True): f" AND (price_id IS NULL OR {BILL_PRICED_ROWS})",
    (False, True): f" AND {BILL_PRICED_ROWS}",
}
"""(only_unpriced, bill_priced) -> the rows to read: the rows no price matched are what a new price
source can fill, the rows priced from a bill what a table price or a revised bill replaces."""
_END = 2**62
_UPDATE = (
    "UPDATE usage SET "
    + ", ".join(
        f"{c} = ?" for c in (*COST_COLUMNS, "unit_cost", "price_id", "price_source", "unpriced_tokens")
    )
    + " WHERE "
    + " AND ".join(f'"{c}" = ?' for c in PK_COLUMNS)
)
_N_ROW = len(ROW_COLUMNS)
_N_TOK = len(TOKEN_TYPES)


@dataclass(frozen=True, slots=True)
class RepriceLine:
    """Old and new cost (picodollars) and unpriced tokens of one (provider, model)."""

    provider: str
    model: str
    rows: int
    changed: int
    old_cost: int
    new_cost: int
    old_unpriced_tokens: int
    new_unpriced_tokens: int

    @property
    def delta(self) -> int:
        return self.new_cost - self.old_cost


@dataclass(frozen=True, slots=True)
class RepriceResult:
    """Per (provider, model) lines, sorted; `dry_run` means nothing was written."""

    lines: tuple[RepriceLine, ...]
    dry_run: bool

    @property
    def rows(self) -> int:
        return sum(line.rows for line in self.lines)

    @property
    def changed(self) -> int:
        return sum(line.changed for line in self.lines)


def reprice(
    conn: sqlite3.Connection,
    transaction: Callable[[], AbstractContextManager[None]],
    pricer: Callable[[UsageRow], PricedRow],
    since: int | None,
    dry_run: bool,
    *,
    only_unpriced: bool = False,
    bill_priced: bool = False,
    until: int | None = None,
) -> RepriceResult:
    """Price every usage row with since <= bucket_start < until again (with `only_unpriced`, only the
    rows with no price id; with `bill_priced`, only (or also) the rows priced from a bill); write the
    changed ones unless dry_run, with every decrease it makes kept in `totals_repriced`."""
    acc: dict[tuple[str, str], list[int]] = {}
    floor = since if since is not None else FIRST_BUCKET
    end = until if until is not None else _END
    after = key_before(floor)
    sql = _CHUNK.format(only=_ONLY[(only_unpriced, bill_priced)])
    while True:
        with transaction():
            chunk = conn.execute(sql, (*after, floor, end, CHUNK_ROWS)).fetchall()
            if not chunk:
                break
            updates = []
            deltas: dict[repriced.Key, list[int]] = {}
            for values in chunk:
                usage, old_price_id = usage_row(values[:_N_ROW])
                old_costs = values[_N_ROW : _N_ROW + _N_TOK]
                old_unit, old_unpriced, old_total, old_source = values[_N_ROW + _N_TOK :]
                new = pricer(usage)
                new_source = new.price_source or None
                changed = (new.costs, new.unit_cost, new.price_id, new_source, new.unpriced_tokens) != (
                    old_costs,
                    old_unit,
                    old_price_id,
                    old_source,
                    old_unpriced,
                )
                line = acc.setdefault((usage.provider, usage.model), [0] * 6)
                for i, value in enumerate(
                    (1, int(changed), old_total, new.total, old_unpriced, new.unpriced_tokens)
                ):
                    line[i] += value
                if changed:
                    change = deltas.setdefault(_totals_key(usage), [0] * (_N_TOK + 2))
                    for i, (old, value) in enumerate(
                        zip(
                            (*old_costs, old_unit, old_unpriced),
                            (*new.costs, new.unit_cost, new.unpriced_tokens),
                            strict=True,
                        )
                    ):
                        change[i] += value - old
                    updates.append(
                        (
                            *new.costs,
                            new.unit_cost,
                            new.price_id,
                            new_source,
                            new.unpriced_tokens,
                            *pk_of(usage),
                        )
                    )
            last = pk_of(usage_row(chunk[-1][:_N_ROW])[0])
            if updates and not dry_run:
                totals.apply_range(conn, -1, after, last, floor)
                conn.executemany(_UPDATE, updates)
                totals.apply_range(conn, 1, after, last, floor)
                repriced.add_decreases(conn, deltas)
            after = last
    lines = tuple(RepriceLine(p, m, *values) for (p, m), values in sorted(acc.items()))
    return RepriceResult(lines=lines, dry_run=dry_run)


def _totals_key(row: UsageRow) -> repriced.Key:
    return (row.provider, row.account, row.project, row.api_key, row.model, row.service_tier, row.user)
