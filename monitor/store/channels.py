"""What channels report besides usage and bills: prepaid balances, and the share of list price a relay's
groups pay. Own `channels` migration set in the ledger file (tables `channel_balances`,
`channel_price_shares`); both keep the newest observation per account, replaced whole.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

import sqlite_utils

from monitor.errors import StoreError
from monitor.records import Balance
from monitor.store.base import LedgerLike

MIGRATIONS = sqlite_utils.Migrations("channels")


@MIGRATIONS()
def m001_channel_balances_and_shares(db: sqlite_utils.Database) -> None:
    """channel_balances (the newest balances of each account) and channel_price_shares (group ratios)."""
    db.execute("""
CREATE TABLE channel_balances (
    account TEXT NOT NULL,
    key TEXT NOT NULL,
    provider TEXT NOT NULL,
    balance_pico INTEGER NOT NULL,
    limit_pico INTEGER,
    observed_at INTEGER NOT NULL,
    PRIMARY KEY (account, key)
) STRICT""")
    db.execute("""
CREATE TABLE channel_price_shares (
    account TEXT NOT NULL,
    project TEXT NOT NULL,
    share TEXT NOT NULL,
    observed_at INTEGER NOT NULL,
    PRIMARY KEY (account, project)
) STRICT""")


class ChannelStore:
    """Balances and price shares in the ledger's SQLite file (its migrations are applied by `connect()`)."""

    def __init__(self, ledger: LedgerLike) -> None:
        self.ledger = ledger
        self.db: sqlite_utils.Database = ledger.db

    def write_balances(self, account: str, balances: Sequence[Balance], *, observed_at: int) -> bool:
        """Replace `account`'s balances with this observation (a key no longer reported is dropped);
        an observation older than the stored one is ignored. Returns whether it was written."""
        if any(b.account != account for b in balances):
            raise StoreError(f"write_balances for account {account!r} got a balance of another account")
        with self.ledger.transaction():
            row = self.db.execute(
                "SELECT MAX(observed_at) FROM channel_balances WHERE account = ?", [account]
            ).fetchone()
            if row[0] is not None and row[0] > observed_at:
                return False
            self.db.execute("DELETE FROM channel_balances WHERE account = ?", [account])
            self.db.conn.executemany(
                "INSERT INTO channel_balances (account, key, provider, balance_pico, limit_pico, observed_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account, key) DO UPDATE SET "
                "balance_pico = excluded.balance_pico, limit_pico = excluded.limit_pico",
                [(account, b.key, b.provider, b.balance_pico, b.limit_pico, observed_at) for b in balances],
            )
        return True

    def balances(self) -> list[Balance]:
        """Every stored balance, by account and key."""
        rows = self.db.execute(
            "SELECT provider, account, key, balance_pico, limit_pico, observed_at FROM channel_balances "
            "ORDER BY account, key"
        ).fetchall()
        return [Balance(*row) for row in rows]

    def write_shares(self, account: str, shares: Mapping[str, Decimal], *, observed_at: int) -> None:
        """Replace `account`'s price shares (project -> share of list price) with these."""
        with self.ledger.transaction():
            self.db.execute("DELETE FROM channel_price_shares WHERE account = ?", [account])
            self.db.conn.executemany(
                "INSERT INTO channel_price_shares (account, project, share, observed_at) VALUES (?, ?, ?, ?)",
                [(account, project, str(share), observed_at) for project, share in sorted(shares.items())],
            )

    def shares(self) -> dict[str, dict[str, Decimal]]:
        """The stored price shares: account -> project -> share."""
        result: dict[str, dict[str, Decimal]] = {}
        for account, project, share in self.db.execute(
            "SELECT account, project, share FROM channel_price_shares ORDER BY account, project"
        ).fetchall():
            result.setdefault(account, {})[project] = Decimal(share)
        return result
