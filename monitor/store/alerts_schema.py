"""The `alerts` migration set of the ledger file: alert states, the outbox, first sightings, facts.

Applied by `monitor.store.connection.connect()` with the other sets; the store is alerts.py.
"""

from __future__ import annotations

import sqlite_utils

MIGRATIONS = sqlite_utils.Migrations("alerts")


@MIGRATIONS()
def m001_alerts(db: sqlite_utils.Database) -> None:
    """alert_state, alert_outbox, alert_seen (first-seen keys and models) and alert_meta."""
    db.execute("""
CREATE TABLE alert_state (
    budget TEXT NOT NULL,
    period_start INTEGER NOT NULL,
    threshold TEXT NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('OK', 'ALARM')),
    period_end INTEGER NOT NULL,
    changed_at INTEGER NOT NULL,
    transitions INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (budget, period_start, threshold, kind)
) STRICT""")
    db.execute("CREATE INDEX alert_state_period_end ON alert_state (period_end)")
    db.execute("""
CREATE TABLE alert_outbox (
    id INTEGER PRIMARY KEY,
    budget TEXT NOT NULL,
    period_start INTEGER NOT NULL,
    threshold TEXT NOT NULL,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('firing', 'resolved')),
    payload TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    delivered_at INTEGER,
    failed_at INTEGER,
    last_error TEXT NOT NULL DEFAULT '',
    UNIQUE (idempotency_key, channel)
) STRICT""")
    db.execute(
        "CREATE INDEX alert_outbox_open ON alert_outbox (id) WHERE delivered_at IS NULL AND failed_at IS NULL"
    )
    db.execute("""
CREATE TABLE alert_seen (
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    PRIMARY KEY (kind, value)
) STRICT, WITHOUT ROWID""")
    db.execute("CREATE TABLE alert_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT")
