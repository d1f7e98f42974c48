"""Durable alert state and the notification outbox, in the ledger file (tables: alerts_schema.py).

Each alert is a small state machine keyed by (budget, period_start, threshold, kind), OK -> ALARM
-> OK. `transition()` writes the new state and one outbox row per channel in one transaction, so
a notification is queued exactly once per state change; the outbox worker (`monitor.alerts`)
then delivers and marks each row. Keeping both here means a restart forgets nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from monitor.store.base import LedgerLike

OK = "OK"
ALARM = "ALARM"
FIRING = "firing"
RESOLVED = "resolved"


@dataclass(frozen=True, slots=True, order=True)
class AlertKey:
    """The identity of one alert. `threshold` is a canonical percent ("80") or, for anomaly kinds,
    the subject (the model or api key id); `budget` is the budget (or the account for anomalies)."""

    budget: str
    period_start: int
    threshold: str
    kind: str

    def idempotency_key(self, seq: int, event: str) -> str:
        """A stable id of the `seq`-th state change of this alert: the same on every retry."""
        text = json.dumps([self.budget, self.period_start, self.threshold, self.kind, seq, event])
        return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class StoredState:
    key: AlertKey
    state: str
    period_end: int
    changed_at: int
    transitions: int


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One queued notification of one alert event to one channel. `payload` holds no secrets."""

    id: int
    key: AlertKey
    channel: str
    event: str
    payload: Mapping[str, Any]
    idempotency_key: str
    created_at: int
    attempts: int
    next_attempt_at: int
    delivered_at: int | None
    failed_at: int | None
    last_error: str


_OUTBOX_COLUMNS = (
    "id, budget, period_start, threshold, kind, channel, event, payload, idempotency_key, created_at, "
    "attempts, next_attempt_at, delivered_at, failed_at, last_error"
)


def _entry(row: Sequence[Any]) -> OutboxEntry:
    return OutboxEntry(
        id=row[0],
        key=AlertKey(row[1], row[2], row[3], row[4]),
        channel=row[5],
        event=row[6],
        payload=json.loads(row[7]),
        idempotency_key=row[8],
        created_at=row[9],
        attempts=row[10],
        next_attempt_at=row[11],
        delivered_at=row[12],
        failed_at=row[13],
        last_error=row[14],
    )


class AlertStore:
    """Alert states, the outbox and the first-seen table, in the ledger's SQLite file.

    Its `alerts` migrations are applied by `connect()`. Methods that write take `now` (unix seconds).
    `transition()` is atomic on its own; the budget engine nests a whole cycle's transitions in one
    `transaction()`, so a cycle is recorded entirely or not at all.
    """

    def __init__(self, ledger: LedgerLike) -> None:
        self.ledger = ledger
        self.db: sqlite_utils.Database = ledger.db

    def transaction(self) -> contextlib.AbstractContextManager[Any]:
        """One SQLite transaction (a savepoint when nested), shared with the ledger's writes."""
        return self.ledger.transaction()

    # -- states ------------------------------------------------------------------------------

    def states(self, *, current_at: int | None = None) -> dict[AlertKey, StoredState]:
        """Stored states, all or (with `current_at`) those whose period has not ended at that time."""
        sql = "SELECT budget, period_start, threshold, kind, state, period_end, changed_at, transitions FROM alert_state"
        params: list[Any] = []
        if current_at is not None:
            sql += " WHERE period_end > ?"
            params.append(current_at)
        result = {}
        for row in self.db.execute(sql, params).fetchall():
            key = AlertKey(row[0], row[1], row[2], row[3])
            result[key] = StoredState(key, row[4], row[5], row[6], row[7])
        return result

    def transition(
        self,
        key: AlertKey,
        state: str,
        *,
        period_end: int,
        now: int,
        payload: Mapping[str, Any],
        channels: Iterable[str],
    ) -> int:
        """Record `key` moving to `state` and queue its event for every channel; returns the rows queued.

        A no-op (0) when the stored state already is `state`, so evaluating twice never queues twice.
        """
        if state not in (OK, ALARM):
            raise ValueError(f"alert state must be OK or ALARM, got {state!r}")
        with self.transaction():
            row = self.db.execute(
                "SELECT state, transitions FROM alert_state WHERE budget = ? AND period_start = ? "
                "AND threshold = ? AND kind = ?",
                [key.budget, key.period_start, key.threshold, key.kind],
            ).fetchone()
            previous, seq = (row[0], row[1]) if row else (OK, 0)
            if previous == state:
                return 0
            seq += 1
            self.db.execute(
                "INSERT INTO alert_state (budget, period_start, threshold, kind, state, period_end, changed_at, "
                "transitions) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (budget, period_start, threshold, kind) "
                "DO UPDATE SET state = excluded.state, period_end = excluded.period_end, "
                "changed_at = excluded.changed_at, transitions = excluded.transitions",
                [key.budget, key.period_start, key.threshold, key.kind, state, period_end, now, seq],
            )
            event = FIRING if state == ALARM else RESOLVED
            body = json.dumps(dict(payload), sort_keys=True, separators=(",", ":"))
            ikey = key.idempotency_key(seq, event)
            queued = 0
            for channel in channels:
                self.db.execute(
                    "INSERT INTO alert_outbox (budget, period_start, threshold, kind, channel, event, payload, "
                    "idempotency_key, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        key.budget,
                        key.period_start,
                        key.threshold,
                        key.kind,
                        channel,
                        event,
                        body,
                        ikey,
                        now,
                        now,
                    ],
                )
                queued += 1
            return queued

    # -- outbox ------------------------------------------------------------------------------

    def open_entries(self, limit: int = 1000) -> list[OutboxEntry]:
        """Undelivered, not permanently failed entries, oldest first (due or not)."""
        sql = (
            f"SELECT {_OUTBOX_COLUMNS} FROM alert_outbox "
            "WHERE delivered_at IS NULL AND failed_at IS NULL ORDER BY id LIMIT ?"
        )
        return [_entry(r) for r in self.db.execute(sql, [limit]).fetchall()]

    def entries(self, *, channel: str | None = None) -> list[OutboxEntry]:
        """Every outbox entry (optionally of one channel), oldest first: for reports and tests."""
        sql = f"SELECT {_OUTBOX_COLUMNS} FROM alert_outbox"
        params: list[Any] = []
        if channel is not None:
            sql += " WHERE channel = ?"
            params.append(channel)
        return [_entry(r) for r in self.db.execute(sql + " ORDER BY id", params).fetchall()]

    def pending_count(self) -> int:
        """How many entries still wait for delivery (the spend_monitor_alert_outbox_pending gauge)."""
        row = self.db.execute(
            "SELECT COUNT(*) FROM alert_outbox WHERE delivered_at IS NULL AND failed_at IS NULL"
        ).fetchone()
        return int(row[0])

    def mark_delivered(self, entry_id: int, now: int) -> None:
        with self.transaction():
            self.db.execute(
                "UPDATE alert_outbox SET delivered_at = ?, attempts = attempts + 1, last_error = '' WHERE id = ?",
                [now, entry_id],
            )

    def mark_retry(self, entry_id: int, next_attempt_at: int, error: str) -> None:
        with self.transaction():
            self.db.execute(
                "UPDATE alert_outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?",
                [next_attempt_at, error, entry_id],
            )

    def mark_failed(self, entry_id: int, now: int, error: str) -> None:
        with self.transaction():
            self.db.execute(
                "UPDATE alert_outbox SET attempts = attempts + 1, failed_at = ?, last_error = ? WHERE id = ?",
                [now, error, entry_id],
            )

    def last_delivered(self, key: AlertKey, channel: str) -> OutboxEntry | None:
        """The newest entry of `key` on `channel` if every entry of it has left the outbox, else None."""
        rows = self.db.execute(
            f"SELECT {_OUTBOX_COLUMNS} FROM alert_outbox WHERE budget = ? AND period_start = ? AND threshold = ? "
            "AND kind = ? AND channel = ? ORDER BY id DESC LIMIT 1",
            [key.budget, key.period_start, key.threshold, key.kind, channel],
        ).fetchall()
        if not rows:
            return None
        entry = _entry(rows[0])
        return entry if entry.delivered_at is not None else None

    # -- first-seen keys and models, and small facts ------------------------------------------------

    def seen(self, kind: str) -> set[str]:
        rows = self.db.execute("SELECT value FROM alert_seen WHERE kind = ?", [kind]).fetchall()
        return {r[0] for r in rows}

    def add_seen(self, kind: str, values: Iterable[str], now: int) -> None:
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO alert_seen (kind, value, first_seen) VALUES (?, ?, ?)",
            [(kind, v, now) for v in values],
        )

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM alert_meta WHERE key = ?", [key]).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO alert_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )
