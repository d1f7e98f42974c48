"""Usage rows of a time range with their stored costs, for exports (the FOCUS file).

Read in key order and in chunks, like `Ledger.iter_usage`, each chunk under the ledger's lock only
while it is fetched; every row comes with the costs the ledger holds for it, so an export's
effective cost is the ledger's, to the picodollar.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from monitor.records import UsageRow
from monitor.store.ledger import Ledger
from monitor.store.schema import COST_COLUMNS, PK_AFTER, PK_COLUMNS, ROW_SELECT, key_before, pk_of, usage_row

_CHUNK = 5000
_SQL = (
    f"SELECT {ROW_SELECT}, {', '.join(COST_COLUMNS)}, unit_cost, unpriced_tokens FROM usage "
    f"WHERE {PK_AFTER} AND bucket_start >= ? AND bucket_start < ? ORDER BY {', '.join(PK_COLUMNS)} LIMIT ?"
)


@dataclass(frozen=True, slots=True)
class StoredRow:
    """A usage row as stored: what was used, its costs per token type and units (picodollars)."""

    usage: UsageRow
    price_id: str | None
    costs: tuple[int, ...]
    unit_cost: int
    unpriced_tokens: int


def stored_rows(ledger: Ledger, start: int, end: int) -> Iterator[StoredRow]:
    """Every usage row with bucket_start in [start, end), with its stored costs, in key order.

    For a command's own ledger connection (no other thread shares it)."""
    after: tuple[Any, ...] = key_before(start)
    n = len(COST_COLUMNS)
    while True:
        chunk = ledger.db.conn.execute(_SQL, (*after, start, end, _CHUNK)).fetchall()
        if not chunk:
            return
        for values in chunk:
            head = values[: -(n + 2)]
            row, price_id = usage_row(head)
            yield StoredRow(row, price_id, tuple(values[-(n + 2) : -2]), values[-2], values[-1])
        after = pk_of(usage_row(chunk[-1][: -(n + 2)])[0])
