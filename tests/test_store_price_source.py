"""The usage table since m002: the inference geo in the natural key, and the source that priced each row."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils
from test_store_support import HOUR, page_of, usage

from monitor.pricing import Pricer, PriceTable
from monitor.records import UsageRow, tokens_of
from monitor.store import Ledger
from monitor.store.schema import MIGRATIONS

DEC_1 = 1_795_996_800  # 2026-12-01T00:00:00Z


def claude_row(geo: str, **fields: object) -> UsageRow:
    return UsageRow(
        "anthropic",
        "acct",
        "messages",
        DEC_1,
        HOUR,
        model="claude-opus-5-5",
        service_tier="standard",
        context_window="0-200k",
        inference_geo=geo,
        tokens=tokens_of(input=1_000_000),
        **fields,  # type: ignore[arg-type]
    )


def v1_ledger(path: Path) -> None:
    """A ledger as the previous version left it: only m001 applied, one priced row in it."""
    conn = sqlite3.connect(path)
    db = sqlite_utils.Database(conn)
    MIGRATIONS.apply(db, stop_before="m002_usage_pricing_columns")
    conn.execute(
        "INSERT INTO usage (provider, account, endpoint, bucket_start, bucket_width, project, api_key, "
        "user, model, service_tier, batch, context_window, tok_input, cost_input, price_id, observed_at) "
        "VALUES ('openai', 'acct', 'completions', ?, 3600, 'p1', '', '', 'gpt-4.1', 'default', 0, '', "
        "1000, 2000000000, 'openai/gpt-4.1/standard/2025-04-14', 7)",
        (DEC_1,),
    )
    conn.execute(
        "INSERT INTO totals (provider, account, project, api_key, model, service_tier, rows, tok_input, "
        "cost_input, cost_total) VALUES ('openai', 'acct', 'p1', '', 'gpt-4.1', 'default', 1, 1000, "
        "2000000000, 2000000000)"
    )
    conn.commit()
    conn.close()


def test_m002_keeps_every_row_of_an_older_ledger_with_no_geo_and_no_source(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    v1_ledger(path)
    with Ledger.open(path) as ledger:
        rows = list(ledger.iter_usage())
        source = ledger.db.conn.execute("SELECT price_source, cost_total FROM usage").fetchall()
        totals = ledger.totals()
    assert [(r.model, r.inference_geo, r.tokens[0], price_id) for r, price_id in rows] == [
        ("gpt-4.1", "", 1000, "openai/gpt-4.1/standard/2025-04-14")
    ]
    assert source == [(None, 2_000_000_000)]
    assert [(t["model"], t["cost_total"]) for t in totals] == [("gpt-4.1", 2_000_000_000)]


def test_reprice_fills_the_source_of_rows_priced_before_sources_were_recorded(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    v1_ledger(path)
    with Ledger.open(path) as ledger:
        result = ledger.reprice(Pricer(PriceTable.bundled()).price, since=None, dry_run=False)
        stored = ledger.db.conn.execute("SELECT price_source, price_id, cost_total FROM usage").fetchall()
    assert result.changed == 1
    assert stored == [("bundled", "openai/gpt-4.1/standard/2025-04-14", 2_000_000_000)]


def test_rows_that_differ_only_in_inference_geo_are_two_rows(tmp_path: Path) -> None:
    pricer = Pricer(PriceTable.bundled())
    rows = [claude_row("global"), claude_row("us")]
    page = page_of(rows, observed_at=1, endpoint="messages")
    with Ledger.open(tmp_path / "ledger.db") as ledger:
        ledger.write_page(page, pricer.price_rows(rows))
        stored = sorted(ledger.db.conn.execute("SELECT inference_geo, cost_total FROM usage").fetchall())
    assert stored == [("global", 4 * 10**12), ("us", 44 * 10**11)]


def test_every_stored_row_records_the_source_and_entry_that_priced_it(tmp_path: Path) -> None:
    pricer = Pricer(PriceTable.bundled())
    rows = [usage(DEC_1, model="gpt-6.1-sol", input=10), usage(DEC_1, model="no-such-model", input=10)]
    with Ledger.open(tmp_path / "ledger.db") as ledger:
        ledger.write_page(page_of(rows, observed_at=1), pricer.price_rows(rows))
        stored = sorted(ledger.db.conn.execute("SELECT model, price_source, price_id FROM usage").fetchall())
    assert stored == [
        ("gpt-6.1-sol", "bundled", "openai/gpt-6.1-sol/standard/2026-09-29"),
        ("no-such-model", None, None),
    ]
