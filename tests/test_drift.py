"""Drift on small hand-made ledgers: the ratio's arithmetic, per account/project/day rows, model
attribution from billed line wording, and which day counts as the last complete one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from monitor.reconciliation import (
    attribute,
    drift_ratio,
    drift_rows,
    exceeds,
    last_complete_day_drift,
    model_drift,
    off_models,
    parse_openai_line_item,
)
from monitor.records import BilledCost, PricedRow, UsagePage, UsageRow, tokens_of
from monitor.store import Ledger
from monitor.store.billed import BilledStore

DAY = 86400
D1 = 1795132800  # 2026-11-20T00:00:00Z
D2 = D1 + DAY
A = "openai-prod"


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger.open(tmp_path / "spend.db") as led:
        yield led


def spend(
    ledger: Ledger, day: int, project: str, model: str, *, input_pico: int = 0, output_pico: int = 0
) -> None:
    """One hourly row of computed cost on `day` (costs given directly, in picodollars)."""
    row = UsageRow(
        "openai",
        A,
        "completions",
        day + 3600,
        3600,
        project=project,
        model=model,
        tokens=tokens_of(input=1, output=1),
    )
    ledger.upsert_priced(
        [PricedRow(row, tokens_of(input=input_pico, output=output_pico), 0, "test")], observed_at=1
    )


def bill(store: BilledStore, day: int, *lines: tuple[str, str, int]) -> None:
    store.write_billed(
        A,
        [BilledCost("openai", A, day, p, item, amount) for p, item, amount in lines],
        observed_at=day,
        days=[day],
    )


def test_ratio_is_exactly_zero_when_equal_and_signed_otherwise() -> None:
    assert drift_ratio(5, 5) == 0
    assert drift_ratio(110, 100) == Decimal("0.1")
    assert drift_ratio(90, 100) == Decimal("-0.1")
    assert drift_ratio(3, 8) == Decimal("-0.625")


def test_ratio_is_undefined_when_only_the_computed_side_has_cost() -> None:
    assert drift_ratio(0, 0) == 0
    assert drift_ratio(7, 0) is None


def test_the_threshold_is_exclusive_and_symmetric() -> None:
    assert not exceeds(Decimal("0.02"), Decimal(2))
    assert exceeds(Decimal("0.0201"), Decimal(2))
    assert exceeds(Decimal("-0.03"), Decimal(2))
    assert not exceeds(None, Decimal(2))


def test_drift_rows_compare_each_project_and_the_account_per_day(ledger: Ledger) -> None:
    store = BilledStore(ledger)
    spend(ledger, D1, "proj_a", "gpt-4.1", input_pico=125)
    spend(ledger, D1, "proj_b", "gpt-4.1", input_pico=150)
    bill(store, D1, ("proj_a", "gpt-4.1, input", 100), ("proj_b", "gpt-4.1, input", 150))
    rows = drift_rows(ledger, store, D1, D2)
    assert [(r.project, r.computed_pico, r.billed_pico) for r in rows] == [
        (None, 275, 250),
        ("proj_a", 125, 100),
        ("proj_b", 150, 150),
    ]
    assert [r.ratio for r in rows] == [Decimal("0.1"), Decimal("0.25"), 0]


def test_days_whose_bill_was_not_fetched_are_not_compared(ledger: Ledger) -> None:
    store = BilledStore(ledger)
    spend(ledger, D1, "proj_a", "gpt-4.1", input_pico=110)
    spend(ledger, D2, "proj_a", "gpt-4.1", input_pico=110)
    bill(store, D2, ("proj_a", "gpt-4.1, input", 110))
    assert [(r.day_start, r.project) for r in drift_rows(ledger, store, D1, D2 + DAY)] == [
        (D2, None),
        (D2, "proj_a"),
    ]


def test_a_project_only_billed_shows_its_whole_bill_as_missing_from_the_ledger(ledger: Ledger) -> None:
    store = BilledStore(ledger)
    spend(ledger, D1, "proj_a", "gpt-4.1", input_pico=100)
    bill(store, D1, ("proj_a", "gpt-4.1, input", 100), ("proj_z", "Web search tool calls", 30))
    rows = {r.project: r for r in drift_rows(ledger, store, D1, D2)}
    assert rows["proj_z"].ratio == -1
    assert (rows[None].computed_pico, rows[None].billed_pico) == (100, 130)


def test_model_drift_names_the_model_and_token_kind_that_are_off(ledger: Ledger) -> None:
    store = BilledStore(ledger)
    spend(ledger, D1, "proj_a", "gpt-4.1-2025-04-14", input_pico=225, output_pico=50)
    spend(ledger, D1, "proj_a", "gpt-4.1-mini-2025-04-14", input_pico=40)
    bill(
        store,
        D1,
        ("proj_a", "gpt-4.1-2025-04-14, input", 200),
        ("proj_a", "gpt-4.1-2025-04-14, output", 50),
        ("proj_a", "gpt-4.1-mini-2025-04-14, input", 40),
        ("proj_a", "Web search tool calls", 999),
    )
    rows = model_drift(ledger, store, D1, D2, by_kind=True)
    off = {(r.model, r.kind): r.ratio for r in rows if r.ratio}
    assert off == {
        ("gpt-4.1-2025-04-14", ""): Decimal("0.1"),
        ("gpt-4.1-2025-04-14", "input"): Decimal("0.125"),
    }
    assert [r.model for r in off_models(rows, Decimal(2))] == ["gpt-4.1-2025-04-14"]


def test_a_model_computed_but_never_billed_is_reported_as_off(ledger: Ledger) -> None:
    store = BilledStore(ledger)
    spend(ledger, D1, "proj_a", "gpt-4.1", input_pico=100)
    spend(ledger, D1, "proj_a", "o3", input_pico=5)
    bill(store, D1, ("proj_a", "gpt-4.1, input", 100))
    off = off_models(model_drift(ledger, store, D1, D2), Decimal(2))
    assert [(r.model, r.ratio) for r in off] == [("o3", None)]


def test_an_account_day_whose_lines_name_no_model_gets_no_model_rows(ledger: Ledger) -> None:
    store = BilledStore(ledger)
    spend(ledger, D1, "proj_a", "gpt-4.1", input_pico=100)
    bill(store, D1, ("proj_a", "Text tokens", 100))
    assert model_drift(ledger, store, D1, D2) == []


def test_last_complete_day_is_the_utc_day_before_now(ledger: Ledger) -> None:
    store = BilledStore(ledger)
    for day, computed in ((D1, 100), (D2, 300)):
        spend(ledger, day, "proj_a", "gpt-4.1", input_pico=computed)
        bill(store, day, ("proj_a", "gpt-4.1, input", 100))
    just_after_midnight = datetime.fromtimestamp(D2 + DAY + 60, UTC)
    [row] = last_complete_day_drift(ledger, store, just_after_midnight)
    assert (row.provider, row.account, row.day_start, row.ratio) == ("openai", A, D2, 2)


def test_last_complete_day_leaves_out_an_account_whose_bill_of_that_day_is_missing(ledger: Ledger) -> None:
    store = BilledStore(ledger)
    spend(ledger, D1, "proj_a", "gpt-4.1", input_pico=100)
    bill(store, D1, ("proj_a", "gpt-4.1, input", 100))
    assert last_complete_day_drift(ledger, store, datetime.fromtimestamp(D2 + DAY + 60, UTC)) == []


@pytest.mark.parametrize(
    ("line_item", "model", "kind"),
    [
        ("gpt-4.1-mini-2025-04-14, input", "gpt-4.1-mini-2025-04-14", "input"),
        ("gpt-4.1-2025-04-14, cached input (priority)", "gpt-4.1-2025-04-14", "cached_input"),
        ("gpt-4o-mini, output (batch)", "gpt-4o-mini", "output"),
        ("gpt-4o-audio-preview, audio output", "gpt-4o-audio-preview", "output_audio"),
        (
            "ft:gpt-4.1-mini-2025-04-14:acme::sim123, output",
            "ft:gpt-4.1-mini-2025-04-14:acme::sim123",
            "output",
        ),
        ("gpt-5, reasoning surcharge", "gpt-5", "other"),
        ("Web search tool calls", "", "other"),
        ("Image models", "", "other"),
        ("input_tokens", "", "other"),
        ("", "", "other"),
        ("Text tokens, input", "", "other"),
    ],
)
def test_openai_line_items_are_read_tolerantly(line_item: str, model: str, kind: str) -> None:
    parsed = parse_openai_line_item(line_item)
    assert (parsed.model, parsed.kind) == (model, kind)


def test_anthropic_lines_are_attributed_from_their_fields() -> None:
    line = BilledCost(
        "anthropic",
        "a",
        D1,
        "",
        "Claude Sonnet 4.5 Usage - Input Tokens",
        1,
        "claude-sonnet-4-5-20250929",
        "input",
    )
    search = BilledCost(
        "anthropic", "a", D1, "", "Claude Sonnet 4.5 Usage - Web Search", 1, "claude-sonnet-4-5-20250929", ""
    )
    code = BilledCost("anthropic", "a", D1, "", "Code Execution Usage", 1)
    assert (attribute(line).model, attribute(line).kind) == ("claude-sonnet-4-5-20250929", "input")
    assert attribute(search).kind == "other"
    assert attribute(code).model == ""


def test_a_day_the_first_poll_covered_only_in_part_is_not_compared(ledger: Ledger) -> None:
    # The first poll looked back to 12:00 on D1: the ledger holds half of D1, the bill all of it.
    store = BilledStore(ledger)
    rows = [
        PricedRow(
            UsageRow("openai", A, "completions", start, 3600, model="gpt-4.1", tokens=tokens_of(input=1)),
            tokens_of(input=100),
            0,
            "test",
        )
        for start in (D1 + 12 * 3600, D2 + 3600)
    ]
    ledger.write_page(
        UsagePage(
            "openai",
            A,
            "completions",
            3600,
            tuple(range(D1 + 12 * 3600, D2 + DAY, 3600)),
            tuple(rows),
            1,
            D2 + DAY,
        ),
        rows,
    )
    bill(store, D1, ("", "gpt-4.1, input", 200))
    bill(store, D2, ("", "gpt-4.1, input", 100))
    assert [(r.day_start, r.ratio) for r in drift_rows(ledger, store, D1, D2 + DAY) if r.project is None] == [
        (D2, 0)
    ]
    assert {m.day_start for m in model_drift(ledger, store, D1, D2 + DAY, per_day=True)} == {D2}
