"""What re-pricing took back, per totals key: so the exported counters never go down when rows are
priced again.

`totals` is the ledger as it stands; re-pricing a row at a lower price (a table price that replaces a
rate from the bill, a corrected price file) lowers it, and pricing a row that had no price lowers its
unpriced tokens. Prometheus reads any decrease of a counter as a restart from zero. So `reprice`
adds each decrease, per key and column, to `totals_repriced` in the same transaction, and the metrics
export `totals + totals_repriced`: the cost counters count every cost ever recorded (with
`llm_cost_repriced_usd_total` naming what re-pricing took back) and `llm_unpriced_tokens_total`
counts every token that arrived without a price, priced later or not (docs/metrics.md).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from monitor.records import TOKEN_TYPES
from monitor.store.ledger_columns import REPRICED_MONEY, TOTALS_COLUMNS, money_pair, quote
from monitor.store.money import SPLIT, join_pairs

Key = tuple[str, str, str, str, str, str, str]
"""A totals key: (provider, account, project, api_key, model, service_tier, user)."""

_PAIRS = tuple(name for c in REPRICED_MONEY for name in money_pair(c))
_COLUMNS = ("unpriced_tokens", *_PAIRS)
_KEYS = ", ".join(map(quote, TOTALS_COLUMNS))
_UPSERT = (
    f"INSERT INTO totals_repriced ({_KEYS}, {', '.join(map(quote, _COLUMNS))}) "
    f"VALUES ({', '.join('?' * (len(TOTALS_COLUMNS) + len(_COLUMNS)))}) ON CONFLICT ({_KEYS}) "
    f"DO UPDATE SET {', '.join(f'{quote(c)} = {quote(c)} + excluded.{quote(c)}' for c in _COLUMNS)}"
)
_SELECT = f"SELECT {_KEYS}, {', '.join(map(quote, _COLUMNS))} FROM totals_repriced"
_N_TOK = len(TOKEN_TYPES)


@dataclass(frozen=True, slots=True)
class Repriced:
    """What re-pricing took back from one totals key: picodollars per TOKEN_TYPES kind and of the
    non-token units, and tokens that were unpriced and got a price."""

    costs: tuple[int, ...]
    unit_cost: int
    priced_later_tokens: int

    @property
    def cost(self) -> int:
        return sum(self.costs) + self.unit_cost


def add_decreases(conn: sqlite3.Connection, deltas: dict[Key, list[int]]) -> None:
    """Record the decreases among `deltas`: per key, the change of each REPRICED_MONEY column (in order)
    then of unpriced_tokens; only negative changes are kept (as positive amounts)."""
    rows = []
    for key, changes in deltas.items():
        taken = [max(0, -change) for change in changes]
        if not any(taken):
            continue
        money, unpriced = taken[:-1], taken[-1]
        pairs = [part for value in money for part in divmod(value, SPLIT)]
        rows.append((*key, unpriced, *pairs))
    conn.executemany(_UPSERT, rows)


def iter_repriced(conn: sqlite3.Connection) -> Iterator[tuple[Key, Repriced]]:
    """Every key re-pricing took something back from, streamed."""
    k = len(TOTALS_COLUMNS)
    for values in conn.execute(_SELECT):
        money: Sequence[int] = join_pairs(values[k + 1 :])
        key: Key = tuple(values[:k])
        yield key, Repriced(tuple(money[:_N_TOK]), money[_N_TOK], values[k])
