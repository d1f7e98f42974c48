"""Repricing the stored ledger: per-model old vs new cost, totals kept exact, dry runs write nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from test_store_support import HOUR, UNKNOWN_MODEL, price, recomputed_totals, usage, usage_dump

from monitor.records import PricedRow, UsageRow
from monitor.store import Ledger, RepriceLine, reprice
from monitor.store import reads as reads_module

INPUT = 2_000_000


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    rows = [
        usage(0, "p1", "gpt-x", input=10),
        usage(HOUR, "p1", "gpt-x", input=20),
        usage(2 * HOUR, "p2", "gpt-y", input=5),
        usage(2 * HOUR, "p2", UNKNOWN_MODEL, input=7),
    ]
    with Ledger.open(tmp_path / "ledger.db") as opened:
        opened.upsert_priced([price(r) for r in rows], observed_at=1)
        yield opened


def double_gpt_x(row: UsageRow) -> PricedRow:
    """A price change: gpt-x now costs twice as much; the rest stays."""
    return price(row, scale=2) if row.model == "gpt-x" else price(row)


def test_reprice_reports_old_and_new_cost_per_model(ledger: Ledger) -> None:
    result = ledger.reprice(double_gpt_x, since=None, dry_run=False)

    assert result.lines == (
        RepriceLine("openai", "gpt-x", rows=2, changed=2, old_cost=30 * INPUT, new_cost=60 * INPUT,
                    old_unpriced_tokens=0, new_unpriced_tokens=0),
        RepriceLine("openai", "gpt-y", rows=1, changed=0, old_cost=5 * INPUT, new_cost=5 * INPUT,
                    old_unpriced_tokens=0, new_unpriced_tokens=0),
        RepriceLine("openai", UNKNOWN_MODEL, rows=1, changed=0, old_cost=0, new_cost=0,
                    old_unpriced_tokens=7, new_unpriced_tokens=7),
    )  # fmt: skip
    assert result.lines[0].delta == 30 * INPUT
    assert (result.rows, result.changed) == (4, 2)


def test_reprice_writes_new_costs_and_keeps_totals_exact(ledger: Ledger) -> None:
    ledger.reprice(double_gpt_x, since=None, dry_run=False)

    assert ledger.spend(0, 3 * HOUR) == 65 * INPUT
    assert ledger.totals() == recomputed_totals(ledger)


def test_reprice_that_prices_unpriced_rows_clears_their_unpriced_tokens(ledger: Ledger) -> None:
    def with_a_price_for_the_unknown_model(row: UsageRow) -> PricedRow:
        if row.model != UNKNOWN_MODEL:
            return price(row)
        return PricedRow(row, price(replace(row, model="gpt-y")).costs, 0, "test@2")

    ledger.reprice(with_a_price_for_the_unknown_model, since=None, dry_run=False)

    assert ledger.unpriced() == []
    assert ledger.spend(0, 3 * HOUR) == 42 * INPUT


def test_dry_run_reports_but_writes_nothing(ledger: Ledger) -> None:
    before = (usage_dump(ledger), ledger.totals())

    result = ledger.reprice(double_gpt_x, since=None, dry_run=True)

    assert result.dry_run
    assert result.lines[0].new_cost == 60 * INPUT
    assert (usage_dump(ledger), ledger.totals()) == before


def test_reprice_since_leaves_older_buckets_alone(ledger: Ledger) -> None:
    result = ledger.reprice(double_gpt_x, since=HOUR, dry_run=False)

    assert result.lines[0].rows == 1
    assert ledger.spend(0, HOUR) == 10 * INPUT
    assert ledger.spend(HOUR, 2 * HOUR) == 40 * INPUT


def test_reprice_spans_several_chunks(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reprice, "CHUNK_ROWS", 1)

    result = ledger.reprice(double_gpt_x, since=None, dry_run=False)

    assert result.rows == 4
    assert ledger.spend(0, 3 * HOUR) == 65 * INPUT
    assert ledger.totals() == recomputed_totals(ledger)


def test_iter_usage_since_yields_rows_with_their_price_id(ledger: Ledger) -> None:
    assert [(r.bucket_start, r.model, pid) for r, pid in ledger.iter_usage(since=2 * HOUR)] == [
        (2 * HOUR, "gpt-y", "test@1"),
        (2 * HOUR, UNKNOWN_MODEL, None),
    ]


def test_iter_usage_reads_every_row_once_across_chunks(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reads_module, "_ITER_CHUNK", 1)

    seen = [(r.bucket_start, r.model) for r, _ in ledger.iter_usage()]

    assert seen == [(0, "gpt-x"), (HOUR, "gpt-x"), (2 * HOUR, "gpt-y"), (2 * HOUR, UNKNOWN_MODEL)]
