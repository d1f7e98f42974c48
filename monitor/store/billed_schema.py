"""The `billed` migration set of the ledger file: the providers' cost lines per account and UTC day
(`billed`, `billed_days`) and the lines in another currency (`billed_other_currency`).

Applied by `connect()` (monitor.store.connection) with the other sets, in definition order; the
rows are written and read by monitor.store.billed.
"""

from __future__ import annotations

import sqlite_utils

MIGRATIONS = sqlite_utils.Migrations("billed")


@MIGRATIONS()
def m001_billed(db: sqlite_utils.Database) -> None:
    """billed (the cost lines) and billed_days (the newest observation of each account's day)."""
    db.execute("""
CREATE TABLE billed (
    provider TEXT NOT NULL,
    account TEXT NOT NULL,
    day_start INTEGER NOT NULL,
    project TEXT NOT NULL,
    line_item TEXT NOT NULL,
    model TEXT NOT NULL,
    token_type TEXT NOT NULL,
    service_tier TEXT NOT NULL,
    context_window TEXT NOT NULL,
    amount_pico INTEGER NOT NULL,
    observed_at INTEGER NOT NULL,
    PRIMARY KEY (day_start, account, project, line_item, model, token_type, service_tier, context_window)
) STRICT, WITHOUT ROWID""")
    db.execute("""
CREATE TABLE billed_days (
    account TEXT NOT NULL,
    day_start INTEGER NOT NULL,
    observed_at INTEGER NOT NULL,
    PRIMARY KEY (account, day_start)
) STRICT, WITHOUT ROWID""")


@MIGRATIONS()
def m002_billed_api_key(db: sqlite_utils.Database) -> None:
    """Rebuild `billed` with an `api_key` column in its key ("" for the lines stored before)."""
    db.execute("""
CREATE TABLE billed_by_key (
    provider TEXT NOT NULL,
    account TEXT NOT NULL,
    day_start INTEGER NOT NULL,
    project TEXT NOT NULL,
    line_item TEXT NOT NULL,
    model TEXT NOT NULL,
    token_type TEXT NOT NULL,
    service_tier TEXT NOT NULL,
    context_window TEXT NOT NULL,
    api_key TEXT NOT NULL DEFAULT '',
    amount_pico INTEGER NOT NULL,
    observed_at INTEGER NOT NULL,
    PRIMARY KEY (day_start, account, project, line_item, model, token_type, service_tier, context_window, api_key)
) STRICT, WITHOUT ROWID""")
    db.execute(
        "INSERT INTO billed_by_key SELECT provider, account, day_start, project, line_item, model, token_type, "
        "service_tier, context_window, '', amount_pico, observed_at FROM billed"
    )
    db.execute("DROP TABLE billed")
    db.execute("ALTER TABLE billed_by_key RENAME TO billed")


@MIGRATIONS()
def m003_billed_quantity(db: sqlite_utils.Database) -> None:
    """Adds to `billed` (only altered, not rebuilt) what a line counts: `quantity` (an exact decimal as
    text, NULL when the provider gave none) in `quantity_unit` (OpenAI's line items since 2026-08-21)."""
    db.execute("ALTER TABLE billed ADD COLUMN quantity TEXT")
    db.execute("ALTER TABLE billed ADD COLUMN quantity_unit TEXT NOT NULL DEFAULT ''")


@MIGRATIONS()
def m004_billed_other_currency(db: sqlite_utils.Database) -> None:
    """billed_other_currency: cost lines in another currency than USD, kept apart so no sum of dollars
    ever adds them; replaced per (account, day) with `billed`. `amount_units` is 10**-12 of `currency`."""
    db.execute("""
CREATE TABLE billed_other_currency (
    provider TEXT NOT NULL,
    account TEXT NOT NULL,
    day_start INTEGER NOT NULL,
    project TEXT NOT NULL,
    line_item TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount_units INTEGER NOT NULL,
    observed_at INTEGER NOT NULL,
    PRIMARY KEY (day_start, account, project, line_item, currency)
) STRICT, WITHOUT ROWID""")
