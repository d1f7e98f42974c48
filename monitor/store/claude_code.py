"""Claude Code usage per account, UTC day, actor and model, beside (never inside) the usage ledger.

Own `claude_code` migration set in the ledger file. Writes follow the billed store's observation
rule per (account, day): a newer observation of a day replaces all of its rows, an equal one
merges, an older one is ignored, so re-polls and restarts count nothing twice. Amounts are the
provider's estimate in integer picodollars. Not part of any account's spend (docs/providers.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlite_utils

from monitor.claude_code import ClaudeCodeUsage
from monitor.store.base import LedgerLike
from monitor.store.billed import claim_days

MIGRATIONS = sqlite_utils.Migrations("claude_code")
DAY = 86_400

_SUMS = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens", "estimated_cost_pico")


@MIGRATIONS()
def m001_claude_code(db: sqlite_utils.Database) -> None:
    """claude_code (per day, actor, model) and claude_code_days (the newest observation of each day)."""
    db.execute("""
CREATE TABLE claude_code (
    provider TEXT NOT NULL,
    account TEXT NOT NULL,
    day_start INTEGER NOT NULL,
    actor TEXT NOT NULL,
    model TEXT NOT NULL,
    actor_type TEXT NOT NULL,
    customer_type TEXT NOT NULL,
    input_tokens INTEGER NOT NULL,
    cache_read_tokens INTEGER NOT NULL,
    cache_write_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    estimated_cost_pico INTEGER NOT NULL,
    observed_at INTEGER NOT NULL,
    PRIMARY KEY (day_start, account, actor, model)
) STRICT, WITHOUT ROWID""")
    db.execute("""
CREATE TABLE claude_code_days (
    account TEXT NOT NULL,
    day_start INTEGER NOT NULL,
    observed_at INTEGER NOT NULL,
    PRIMARY KEY (account, day_start)
) STRICT, WITHOUT ROWID""")


_INSERT = (
    "INSERT INTO claude_code VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (day_start, account, actor, model) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in (*_SUMS, "actor_type", "customer_type", "observed_at"))
)


class ClaudeCodeStore:
    """Claude Code rows in the ledger's SQLite file. Its `claude_code` migrations are applied by `connect()`."""

    def __init__(self, ledger: LedgerLike) -> None:
        self.ledger = ledger
        self.db: sqlite_utils.Database = ledger.db

    def write(
        self, account: str, usage: Sequence[ClaudeCodeUsage], *, observed_at: int, days: Iterable[int]
    ) -> int:
        """Write one observation of `account`'s days (UTC midnights, the empty ones too) in one
        transaction; rows of one (day, actor, model) are summed. Returns the rows written."""
        merged: dict[tuple[int, str, str], list[Any]] = {}
        for u in usage:
            key = (u.day_start, u.actor, u.model)
            row = merged.get(key)
            if row is None:
                merged[key] = [u.provider, u.actor_type, u.customer_type, *(getattr(u, c) for c in _SUMS)]
            else:
                for i, c in enumerate(_SUMS, start=3):
                    row[i] += getattr(u, c)
        covered = set(days) | {k[0] for k in merged}
        conn = self.db.conn
        with self.ledger.transaction():
            writable = claim_days(conn, ("claude_code", "claude_code_days"), account, covered, observed_at)
            rows = [
                (provider, account, day, actor, model, actor_type, customer, *sums, observed_at)
                for (day, actor, model), (provider, actor_type, customer, *sums) in merged.items()
                if day in writable
            ]
            conn.executemany(_INSERT, rows)
        return len(rows)

    def rows(self, start: int, end: int) -> list[ClaudeCodeUsage]:
        """Every row of the days starting in [start, end), by day, account, actor and model."""
        found = self.db.execute(
            "SELECT provider, account, day_start, actor, model, actor_type, customer_type, "
            f"{', '.join(_SUMS)} FROM claude_code WHERE day_start >= ? AND day_start < ? "
            "ORDER BY day_start, account, actor, model",
            [start, end],
        ).fetchall()
        return [ClaudeCodeUsage(*row) for row in found]
