"""`spend-monitor export --format focus`: a month of a ledger filled from the simulator as a FOCUS 1.2
CSV, validated against the spec's columns and types (tests/data/focus-1.2-columns.yaml), with totals
equal to the ledger's per day and account, and bills placed exactly."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_budgets_support import open_stores, write
from test_drift_support import ANTHROPIC, OPENAI, populated_ledger
from test_report import MONTH_END, MONTH_START, write_config

from monitor.attribution import Attributor
from monitor.cli import main
from monitor.directory import NO_NAMES
from monitor.focus import COLUMNS, FocusInputs, focus_rows
from monitor.pricing import PriceTable
from monitor.records import BilledCost, pico_to_usd
from monitor.store import Ledger, Scope
from monitor.store.billed import DAY, BilledStore

SPEC = yaml.safe_load((Path(__file__).parent / "data" / "focus-1.2-columns.yaml").read_text())


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    return populated_ledger(tmp_path)


def export(
    tmp_path: Path, ledger_path: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> list[dict[str, str]]:
    config = write_config(tmp_path, ledger_path)
    out = tmp_path / "focus.csv"
    assert (
        main(
            [
                "export",
                "--config",
                str(config),
                "--format",
                "focus",
                "--month",
                "2026-11",
                "--output",
                str(out),
                *extra,
            ]
        )
        == 0
    )
    assert "FOCUS rows" in capsys.readouterr().err
    with out.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_every_column_is_a_focus_1_2_column_or_a_custom_x_column(
    tmp_path: Path, ledger_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = export(tmp_path, ledger_path, capsys)
    header = list(rows[0])
    assert header == list(COLUMNS)
    focus = [c for c in header if not c.startswith(SPEC["custom_prefix"])]
    assert set(focus) <= set(SPEC["columns"]), "unknown FOCUS column"
    custom = header[len(focus) :]
    assert header[: len(focus)] == focus and all(c.startswith("x_") for c in custom), "custom columns last"
    mandatory = {c for c, spec in SPEC["columns"].items() if spec["presence"] == "mandatory"}
    assert mandatory <= set(header)


def _valid(kind: str, value: str) -> bool:
    if kind == "Decimal":
        try:
            number = Decimal(value)
        except InvalidOperation:
            return False
        return number.is_finite() and "e" not in value.lower()
    if kind == "DateTime":
        try:
            parsed = datetime.strptime(value, SPEC["datetime_format"]).replace(tzinfo=UTC)
        except ValueError:
            return False
        return parsed.strftime(SPEC["datetime_format"]) == value
    if kind == "Currency":
        return len(value) == 3 and value.isalpha() and value.isupper()
    if kind == "JSON":
        try:
            parsed = json.loads(value)
        except ValueError:
            return False
        return isinstance(parsed, dict) and all(isinstance(v, str) for v in parsed.values())
    return True


def test_every_value_has_its_column_type_nullability_and_allowed_values(
    tmp_path: Path, ledger_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = export(tmp_path, ledger_path, capsys)
    problems: list[str] = []
    for n, row in enumerate(rows, start=2):
        for column, spec in SPEC["columns"].items():
            value = row[column]
            if value == "":
                if not spec["usage_nullable"] and row["ChargeCategory"] == "Usage":
                    problems.append(f"line {n}: {column} is null on a Usage row")
                continue
            if not _valid(spec["type"], value):
                problems.append(f"line {n}: {column}={value!r} is not a {spec['type']}")
            if "allowed" in spec and value not in spec["allowed"]:
                problems.append(f"line {n}: {column}={value!r} is not an allowed value")
    assert problems == []


def test_prices_times_quantities_are_the_costs(
    tmp_path: Path, ledger_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = export(tmp_path, ledger_path, capsys)
    priced = [r for r in rows if r["ListUnitPrice"]]
    assert priced
    for r in priced:
        assert Decimal(r["ListUnitPrice"]) * Decimal(r["PricingQuantity"]) == Decimal(r["ListCost"]), r[
            "SkuId"
        ]
        assert Decimal(r["ContractedUnitPrice"]) * Decimal(r["PricingQuantity"]) == Decimal(
            r["ContractedCost"]
        )
        assert r["SkuPriceId"]


def _by_day_and_account(rows: list[dict[str, str]], column: str) -> dict[tuple[str, str], Decimal]:
    sums: dict[tuple[str, str], Decimal] = {}
    for r in rows:
        key = (r["ChargePeriodStart"], r["BillingAccountId"])
        sums[key] = sums.get(key, Decimal(0)) + Decimal(r[column])
    return sums


def test_totals_equal_the_ledger_per_day_and_account(
    tmp_path: Path, ledger_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = export(tmp_path, ledger_path, capsys)
    effective = _by_day_and_account(rows, "EffectiveCost")
    with Ledger.open(ledger_path) as ledger:
        expected = {}
        for day in range(MONTH_START, MONTH_END, DAY):
            for account in (OPENAI, ANTHROPIC):
                pico = ledger.spend(day, day + DAY, Scope(account=(account,)))
                if pico:
                    expected[(datetime.fromtimestamp(day, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), account)] = (
                        pico_to_usd(pico)
                    )
    assert {k: v for k, v in effective.items() if v} == expected
    assert len(expected) >= 6


def test_billed_cost_is_the_bill_where_it_was_fetched(
    tmp_path: Path, ledger_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = export(tmp_path, ledger_path, capsys)
    billed = _by_day_and_account([r for r in rows if r["x_BillSource"] == "bill"], "BilledCost")
    with Ledger.open(ledger_path) as ledger:
        store = BilledStore(ledger)
        bills: dict[tuple[str, str], Decimal] = {}
        for line in store.lines(MONTH_START, MONTH_END):
            key = (datetime.fromtimestamp(line.day_start, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), line.account)
            bills[key] = bills.get(key, Decimal(0)) + pico_to_usd(line.amount_pico)
    assert billed == bills and billed
    computed = [r for r in rows if r["x_BillSource"] == "computed"]
    assert all(r["BilledCost"] == r["EffectiveCost"] for r in computed)


def test_tags_carry_the_team_and_cost_centre(
    tmp_path: Path, ledger_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, ledger_path)
    config.write_text(
        config.read_text()
        + f"attribution:\n  - {{match: {{account: {OPENAI}}}, team: search, cost_center: CC-100}}\n",
        encoding="utf-8",
    )
    out = io.StringIO()
    capsys.readouterr()
    assert main(["export", "--config", str(config), "--format", "focus", "--month", "2026-11"]) == 0
    out.write(capsys.readouterr().out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    tags = {(r["BillingAccountId"], r["Tags"]) for r in rows}
    assert (OPENAI, '{"cost_center": "CC-100", "team": "search"}') in tags
    assert (ANTHROPIC, '{"cost_center": "unassigned", "team": "unassigned"}') in tags


def test_a_month_that_does_not_parse_is_one_line_and_exit_2(
    tmp_path: Path, ledger_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, ledger_path)
    assert main(["export", "--config", str(config), "--format", "focus", "--month", "2026-13"]) == 2
    err: Any = capsys.readouterr().err
    assert "expected YYYY-MM" in err


def test_a_bill_line_no_usage_matches_is_its_own_row(tmp_path: Path) -> None:
    ledger, _ = open_stores(tmp_path / "l.db")
    day = MONTH_START + 3 * DAY
    write(ledger, datetime.fromtimestamp(day + 3600, UTC), "2", account=OPENAI, project="proj_a")
    usage_line = BilledCost("openai", OPENAI, day, "proj_a", "gpt-4.1, input", 2_100_000_000_000)
    storage = BilledCost("openai", OPENAI, day, "proj_a", "Vector store storage", 300_000_000_000)
    BilledStore(ledger).write_billed(OPENAI, [usage_line, storage], observed_at=1, days=[day])
    rows = list(
        focus_rows(ledger, MONTH_START, MONTH_END, FocusInputs(PriceTable.bundled(), NO_NAMES, Attributor()))
    )
    assert [(r["ChargeDescription"].split(",")[0], r["EffectiveCost"], r["BilledCost"]) for r in rows] == [
        ("gpt-4.1 input tokens", "2", "2.1"),
        ("billed: Vector store storage", "0", "0.3"),
    ]
