"""The directory: names of projects, API keys and users per account, with first and last seen.

Own `directory` migration set in the ledger file. Rows are keyed by (account, kind, id) and never
deleted: an archived project or a revoked key keeps its name (history shows names, not ids). A
complete listing that no longer returns an id marks it `gone`. Anything that learns names (the
providers' directories, later a channel's own key list) writes here with its `source`.

Never a secret: the columns hold ids, names, emails, owners, status and dates only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlite_utils

from monitor.directory import GONE, DirectoryEntry, Names
from monitor.store.base import LedgerLike

MIGRATIONS = sqlite_utils.Migrations("directory")

_COLUMNS = (
    "provider",
    "account",
    "kind",
    "id",
    "name",
    "email",
    "owner",
    "project",
    "status",
    "created_at",
    "ended_at",
)


@MIGRATIONS()
def m001_directory(db: sqlite_utils.Database) -> None:
    """directory: one row per (account, kind, id), with first_seen/last_seen (unix seconds)."""
    db.execute("""
CREATE TABLE directory (
    provider TEXT NOT NULL,
    account TEXT NOT NULL,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    owner TEXT NOT NULL DEFAULT '',
    project TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'active',
    created_at INTEGER,
    ended_at INTEGER,
    source TEXT NOT NULL DEFAULT '',
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    PRIMARY KEY (account, kind, id)
) STRICT, WITHOUT ROWID""")


_UPSERT = (
    f"INSERT INTO directory ({', '.join(_COLUMNS)}, source, first_seen, last_seen) "
    f"VALUES ({', '.join('?' * len(_COLUMNS))}, ?, ?, ?) "
    "ON CONFLICT (account, kind, id) DO UPDATE SET provider = excluded.provider, name = excluded.name, "
    "email = excluded.email, owner = excluded.owner, project = excluded.project, status = excluded.status, "
    "created_at = coalesce(excluded.created_at, created_at), ended_at = excluded.ended_at, "
    "source = excluded.source, last_seen = excluded.last_seen WHERE excluded.last_seen >= last_seen"
)


class DirectoryStore:
    """Directory rows in the ledger's SQLite file. Its `directory` migrations are applied by `connect()`."""

    def __init__(self, ledger: LedgerLike) -> None:
        self.ledger = ledger
        self.db: sqlite_utils.Database = ledger.db

    def write(
        self,
        account: str,
        kind: str,
        entries: Sequence[DirectoryEntry],
        *,
        seen_at: int,
        complete: bool,
        source: str = "api",
    ) -> int:
        """Record one listing of `kind` of `account` seen at `seen_at`, in one transaction.

        Names and facts are updated (a rename shows at once); `first_seen` stays. When `complete`,
        ids this listing lacks are marked gone (their names stay). Returns the rows written.
        """
        rows = [
            (*(getattr(e, c) for c in _COLUMNS), source, seen_at, seen_at)
            for e in entries
            if e.account == account and e.kind == kind and e.id
        ]
        with self.ledger.transaction():
            self.db.conn.executemany(_UPSERT, rows)
            if complete:
                self.db.execute(
                    "UPDATE directory SET status = ? WHERE account = ? AND kind = ? AND source = ? "
                    "AND last_seen < ? AND status != ?",
                    [GONE, account, kind, source, seen_at, GONE],
                )
        return len(rows)

    def entries(self, *, accounts: Iterable[str] | None = None) -> list[DirectoryEntry]:
        """Every row (of some accounts), ordered by account, kind and id."""
        sql = f"SELECT {', '.join(_COLUMNS)} FROM directory"
        params: list[Any] = []
        if accounts is not None:
            sql += " WHERE account IN (SELECT value FROM json_each(?))"
            params.append(json.dumps(list(accounts)))
        rows = self.db.execute(sql + " ORDER BY account, kind, id", params).fetchall()
        return [DirectoryEntry(*row) for row in rows]

    def seen(self) -> list[tuple[str, str, str, int, int]]:
        """(account, kind, id, first_seen, last_seen) of every row, for reports and tests."""
        rows = self.db.execute(
            "SELECT account, kind, id, first_seen, last_seen FROM directory ORDER BY account, kind, id"
        ).fetchall()
        return [(a, k, i, int(f), int(last)) for a, k, i, f, last in rows]

    def names(self) -> Names:
        """The lookup every name shown to people comes from."""
        return Names.of(self.entries())


def read_names(ledger: LedgerLike) -> Names:
    """The directory's names in `ledger` (an empty lookup before the first directory read)."""
    return DirectoryStore(ledger).names()


def unnamed_ids(ledger: LedgerLike) -> dict[str, set[tuple[str, str]]]:
    """account -> the (kind, id) of projects and API keys with usage that the directory lacks."""
    rows = ledger.db.execute(
        "SELECT DISTINCT t.account, 'project', t.project FROM totals t WHERE t.project != '' AND NOT EXISTS "
        "(SELECT 1 FROM directory d WHERE d.account = t.account AND d.kind = 'project' AND d.id = t.project) "
        "UNION SELECT DISTINCT t.account, 'api_key', t.api_key FROM totals t WHERE t.api_key != '' AND NOT EXISTS "
        "(SELECT 1 FROM directory d WHERE d.account = t.account AND d.kind = 'api_key' AND d.id = t.api_key)"
    ).fetchall()
    found: dict[str, set[tuple[str, str]]] = {}
    for account, kind, ident in rows:
        found.setdefault(account, set()).add((kind, ident))
    return found
