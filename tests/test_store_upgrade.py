"""A ledger written before the rates from the bill (ledger m001-m004, billed m001-m002) upgrades in place:
its rows, totals and bills are kept, and what the new migrations add works on them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from test_store_support import UNKNOWN_MODEL, price, recomputed_totals, usage, usage_dump

from monitor.records import BilledCost, PricedRow, UsageRow
from monitor.store import Ledger
from monitor.store.billed import BilledStore

DAY = 86_400
BILL_MIGRATIONS = {
    "ledger": ("m005_usage_bill_indexes", "m006_totals_repriced"),
    "billed": ("m003_billed_quantity", "m004_billed_other_currency"),
}


def ledger_before_the_bills(path: Path) -> None:
    """A ledger as main left it: a priced and an unpriced row of two users, and a bill line of a key;
    then every schema object the bill migrations add is taken away again, with their records."""
    rows = [
        replace(usage(0, input=10), user="user-alice"),
        replace(usage(0, model=UNKNOWN_MODEL, input=7), user="user-bob"),
    ]
    with Ledger.open(path) as ledger:
        ledger.upsert_priced([price(r) for r in rows], observed_at=1)
        line = BilledCost("openai", "acct", 0, "p1", "gpt-x, input", 5, api_key="key_a")
        BilledStore(ledger).write_billed("acct", [line], observed_at=1, days=[0])
        for statement in (
            "DROP INDEX usage_unpriced",
            "DROP INDEX usage_bill_priced",
            "DROP TABLE totals_repriced",
            "DROP TABLE billed_other_currency",
            "ALTER TABLE billed DROP COLUMN quantity",
            "ALTER TABLE billed DROP COLUMN quantity_unit",
        ):
            ledger.db.execute(statement)
        for migration_set, names in BILL_MIGRATIONS.items():
            for name in names:
                ledger.db.execute(
                    "DELETE FROM _sqlite_migrations WHERE migration_set = ? AND name = ?",
                    [migration_set, name],
                )


def test_a_ledger_from_before_the_bills_keeps_its_rows_totals_and_bills(tmp_path: Path) -> None:
    path = tmp_path / "spend.db"
    ledger_before_the_bills(path)
    with Ledger.open(path) as ledger:
        applied = {
            (s, n)
            for s, n in ledger.db.execute("SELECT migration_set, name FROM _sqlite_migrations").fetchall()
        }
        assert {(s, n) for s, names in BILL_MIGRATIONS.items() for n in names} <= applied
        assert [(r.user, r.model) for r, _ in ledger.iter_usage()] == [
            ("user-alice", "gpt-x"),
            ("user-bob", UNKNOWN_MODEL),
        ]
        assert ledger.totals() == recomputed_totals(ledger)
        [line] = BilledStore(ledger).lines(0, DAY)
        assert (line.amount_pico, line.api_key, line.quantity, line.quantity_unit) == (5, "key_a", None, "")
        assert ledger.repriced_totals() == {}


def test_a_reprice_after_the_upgrade_keeps_what_it_took_back_per_user(tmp_path: Path) -> None:
    path = tmp_path / "spend.db"
    ledger_before_the_bills(path)

    def cheaper_for_alice_and_a_price_for_bob(row: UsageRow) -> PricedRow:
        if row.model == UNKNOWN_MODEL:
            return PricedRow(row, price(replace(row, model="gpt-x")).costs, 0, "test@2")
        return replace(price(row), costs=tuple(c // 2 for c in price(row).costs))

    with Ledger.open(path) as ledger:
        before = usage_dump(ledger)
        ledger.reprice(cheaper_for_alice_and_a_price_for_bob, since=None, dry_run=False)
        assert usage_dump(ledger) != before
        taken = {key[-1]: (r.cost, r.priced_later_tokens) for key, r in ledger.repriced_totals().items()}
        assert taken == {"user-alice": (10 * 1_000_000, 0), "user-bob": (0, 7)}
        assert ledger.totals() == recomputed_totals(ledger)
