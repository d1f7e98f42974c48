"""Drift against the provider simulator over real loopback HTTP, through the real adapters, pricer and
ledger: zero when the monitor's prices agree with the provider's, and when one model's price in the
MONITOR's table is 10% off from a date on, drift on exactly those days and that model, one `drift`
alert in the outbox, resolved once the ledger is repriced with the right table."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_drift_support import (
    ANTHROPIC,
    NOW,
    OPENAI,
    START,
    TODAY,
    gpt41_input_override,
    populated_ledger,
    simulator,
)

from monitor.config import ReconciliationConfig
from monitor.pricing import Pricer, PriceTable
from monitor.reconciliation import drift_rows, evaluate_drift, last_complete_day_drift, model_drift
from monitor.store import Ledger
from monitor.store.alerts import AlertStore
from monitor.store.billed import BilledStore

DAY = 86400
CHANGED = TODAY - DAY  # the monitor's gpt-4.1 input price is 10% high from yesterday (UTC) on
MODEL = "gpt-4.1-2025-04-14"
AT = datetime.fromtimestamp(NOW, UTC)
THRESHOLD = ReconciliationConfig().drift_threshold_percent


def wrong_table() -> PriceTable:
    return PriceTable.load(overrides=gpt41_input_override("2026-11-29", input_usd="2.20"))


@pytest.fixture
def agreeing(tmp_path: Path) -> Iterator[tuple[Ledger, BilledStore]]:
    with Ledger.open(populated_ledger(tmp_path)) as ledger:
        yield ledger, BilledStore(ledger)


@pytest.fixture
def drifting(tmp_path: Path) -> Iterator[tuple[Ledger, BilledStore]]:
    with Ledger.open(populated_ledger(tmp_path, wrong_table())) as ledger:
        yield ledger, BilledStore(ledger)


def test_the_changed_day_is_yesterday() -> None:
    assert datetime.fromtimestamp(CHANGED, UTC).date().isoformat() == "2026-11-29"


def test_drift_is_exactly_zero_for_every_account_project_day_and_model_when_prices_agree(
    agreeing: tuple[Ledger, BilledStore],
) -> None:
    ledger, billed = agreeing
    rows = drift_rows(ledger, billed, START, NOW)
    models = model_drift(ledger, billed, START, NOW, per_day=True, by_kind=True)
    assert {r.account for r in rows if r.project is None} == {OPENAI, ANTHROPIC}
    assert len(rows) > 8 and len(models) > 20
    assert all(r.billed_pico > 0 for r in rows if r.project is None)
    assert {r.ratio for r in rows} == {0}
    assert {m.ratio for m in models} == {0}


def test_a_wrong_price_drifts_exactly_the_days_and_the_account_it_covers(
    drifting: tuple[Ledger, BilledStore],
) -> None:
    ledger, billed = drifting
    off = {(r.account, r.day_start, r.project) for r in drift_rows(ledger, billed, START, NOW) if r.ratio}
    days = {(account, day) for account, day, project in off if project is None}
    assert days == {(OPENAI, CHANGED), (OPENAI, TODAY)}


def test_a_wrong_price_drifts_exactly_that_model_and_token_kind(drifting: tuple[Ledger, BilledStore]) -> None:
    ledger, billed = drifting
    rows = model_drift(ledger, billed, START, NOW, per_day=True, by_kind=True)
    off = {(r.account, r.model, r.kind, r.day_start) for r in rows if r.ratio}
    assert off == {(OPENAI, MODEL, kind, day) for kind in ("", "input") for day in (CHANGED, TODAY)}


def test_the_excess_is_a_tenth_of_the_billed_standard_input_line(
    drifting: tuple[Ledger, BilledStore],
) -> None:
    ledger, billed = drifting
    bill = simulator().billed("openai", CHANGED, CHANGED + DAY)
    [row] = [r for r in model_drift(ledger, billed, CHANGED, CHANGED + DAY) if r.model == MODEL]
    standard_input = bill.by_line_item[f"{MODEL}, input"]
    assert standard_input > 0
    assert row.computed_pico - row.billed_pico == standard_input // 10
    assert row.billed_pico == bill.by_model[MODEL]


def test_last_complete_day_drift_reports_yesterday_per_account(drifting: tuple[Ledger, BilledStore]) -> None:
    ledger, billed = drifting
    rows = {r.account: r for r in last_complete_day_drift(ledger, billed, AT)}
    assert set(rows) == {OPENAI, ANTHROPIC}
    assert {r.day_start for r in rows.values()} == {CHANGED}
    assert rows[ANTHROPIC].ratio == 0
    assert rows[OPENAI].ratio is not None and rows[OPENAI].ratio * 100 > THRESHOLD


def test_drift_above_the_threshold_fires_one_alert_into_the_outbox(
    drifting: tuple[Ledger, BilledStore],
) -> None:
    ledger, billed = drifting
    alerts = AlertStore(ledger)
    evaluate_drift(ledger, billed, alerts, ["webhook"], THRESHOLD, AT)
    evaluate_drift(ledger, billed, alerts, ["webhook"], THRESHOLD, AT)
    [entry] = alerts.entries()
    assert (entry.key.budget, entry.key.period_start, entry.key.kind, entry.event) == (
        OPENAI,
        CHANGED,
        "drift",
        "firing",
    )
    assert entry.key.threshold == "2"
    assert [m["model"] for m in entry.payload["models"]] == [MODEL]
    assert MODEL in entry.payload["summary"] and "2026-11-29" in entry.payload["summary"]


def test_no_drift_alert_fires_when_prices_agree(agreeing: tuple[Ledger, BilledStore]) -> None:
    ledger, billed = agreeing
    alerts = AlertStore(ledger)
    statuses = evaluate_drift(ledger, billed, alerts, ["webhook"], THRESHOLD, AT)
    assert len(statuses) == 6  # two accounts, three complete days
    assert alerts.entries() == []


def test_repricing_with_the_right_table_resolves_the_drift_alert(
    drifting: tuple[Ledger, BilledStore],
) -> None:
    ledger, billed = drifting
    alerts = AlertStore(ledger)
    evaluate_drift(ledger, billed, alerts, ["webhook"], THRESHOLD, AT)
    ledger.reprice(Pricer(PriceTable.bundled()).price, since=None, dry_run=False)
    evaluate_drift(ledger, billed, alerts, ["webhook"], THRESHOLD, AT)
    assert [(e.key.budget, e.key.period_start, e.event) for e in alerts.entries()] == [
        (OPENAI, CHANGED, "firing"),
        (OPENAI, CHANGED, "resolved"),
    ]


def test_a_day_is_not_judged_before_it_has_settled(drifting: tuple[Ledger, BilledStore]) -> None:
    ledger, billed = drifting
    alerts = AlertStore(ledger)
    just_after_midnight = datetime.fromtimestamp(TODAY + 600, UTC)
    statuses = evaluate_drift(ledger, billed, alerts, ["webhook"], THRESHOLD, just_after_midnight)
    assert CHANGED not in {s.drift.day_start for s in statuses}
    assert alerts.entries() == []
