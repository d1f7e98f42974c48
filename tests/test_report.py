"""`spend-monitor report` on a ledger filled from the simulator: totals equal the ledger and the
metrics to the cent, CSV and JSON parse, the models off are named, the PNG is a real image, and bad
input is a one-line error."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import CollectorRegistry
from test_drift_support import ANTHROPIC, NOW, OPENAI, gpt41_input_override, populated_ledger

from monitor.cli import main
from monitor.ledger_view import spend_rows
from monitor.metrics import BuildInfo, LedgerView, PollView, SavingsRow, Snapshot, SnapshotCollector
from monitor.pricing import PriceTable
from monitor.reconciliation import cache_savings
from monitor.records import pico_to_usd
from monitor.store import Ledger
from monitor.store.billed import BilledStore

MONTH_START = 1793491200  # 2026-11-01T00:00:00Z
MONTH_END = 1796083200  # 2026-12-01T00:00:00Z
CENT = Decimal("0.01")


def write_config(tmp_path: Path, db: Path, *, timezone: str = "UTC") -> Path:
    key = tmp_path / "key"
    key.write_text("sk-admin-not-used-by-report\n")
    config = tmp_path / "config.yaml"
    config.write_text(
        f"""
timezone: {timezone}
storage:
  path: {db}
providers:
  - name: {OPENAI}
    type: openai
    api_key: ${{file:{key}}}
  - name: {ANTHROPIC}
    type: anthropic
    api_key: ${{file:{key}}}
budgets:
  - name: openai-monthly
    amount_usd: 400
    period: month
    scope: {{provider: openai}}
  - name: everything-daily
    amount_usd: 100
    period: day
"""
    )
    return config


def report(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> tuple[int, str, str]:
    code = main(["report", "--config", str(config), "--month", "2026-11", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path, populated_ledger(tmp_path))


def metrics_sum(view: LedgerView, metric: str) -> float:
    registry = CollectorRegistry()
    registry.register(SnapshotCollector(Snapshot(view, PollView(), BuildInfo("test"), 0.0)))
    return sum(s.value for family in registry.collect() for s in family.samples if s.name == metric)


def ledger_view(ledger: Ledger) -> LedgerView:
    """What the daemon exports: this month's spend gauges (as the daemon builds them) and cache savings."""
    spend = spend_rows(ledger, datetime.fromtimestamp(NOW, UTC), ZoneInfo("UTC"), 1)
    savings = [
        SavingsRow(r.provider, r.account, r.model, r.saved_pico)
        for r in cache_savings(ledger, PriceTable.bundled())
    ]
    return LedgerView(spend=spend, cache_savings=savings)


def month_spend_sample(view: LedgerView) -> float:
    registry = CollectorRegistry()
    registry.register(SnapshotCollector(Snapshot(view, PollView(), BuildInfo("test"), 0.0)))
    return sum(
        s.value
        for family in registry.collect()
        for s in family.samples
        if s.name == "llm_spend_usd" and s.labels["period"] == "month"
    )


def test_json_totals_equal_the_ledger_and_the_metrics_to_the_cent(
    capsys: pytest.CaptureFixture[str], config: Path, tmp_path: Path
) -> None:
    code, out, _ = report(capsys, config, "--format", "json")
    data = json.loads(out)
    with Ledger.open(tmp_path / "spend.db") as ledger:
        spend = pico_to_usd(ledger.spend(MONTH_START, MONTH_END))
        billed = pico_to_usd(
            sum(r["amount_pico"] for r in BilledStore(ledger).billed_by(("account",), MONTH_START, MONTH_END))
        )
        view = ledger_view(ledger)
    total = data["total"]
    assert code == 0
    assert spend > 100
    assert Decimal(total["spend_usd"]) == spend
    assert sum(Decimal(r["spend_usd"]) for r in data["rows"]) == spend
    assert Decimal(total["billed_usd"]) == billed
    assert Decimal(str(month_spend_sample(view))).quantize(CENT) == spend.quantize(CENT)
    assert Decimal(str(metrics_sum(view, "llm_cache_savings_usd_total"))).quantize(CENT) == Decimal(
        total["savings_usd"]
    ).quantize(CENT)


def test_json_has_one_row_per_account_with_zero_drift_when_prices_agree(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    _, out, _ = report(capsys, config, "--format", "json")
    data = json.loads(out)
    assert [(r["provider"], r["account"]) for r in data["rows"]] == [
        ("anthropic", ANTHROPIC),
        ("openai", OPENAI),
    ]
    assert {r["drift_percent"] for r in [*data["rows"], data["total"]]} == {"0"}
    assert len(data["daily_drift"]) == 8  # two accounts, four UTC days (the last one partial)
    assert data["models_off"] == []
    assert data["what_if"] and "estimate" in data["estimates"]


def test_csv_parses_into_group_rows_and_a_total(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    code, out, _ = report(capsys, config, "--format", "csv", "--by", "project,model")
    rows = list(csv.DictReader(io.StringIO(out)))
    groups = [r for r in rows if r["row"] == "group"]
    [total] = [r for r in rows if r["row"] == "total"]
    assert code == 0
    assert len(groups) > 10
    assert {
        "project",
        "model",
        "spend_usd",
        "tokens_input",
        "tokens_output",
        "requests",
        "billed_usd",
        "drift_percent",
        "savings_usd",
    } <= set(rows[0])
    assert sum(Decimal(r["spend_usd"]) for r in groups) == Decimal(total["spend_usd"])
    assert sum(int(r["tokens_output"]) for r in groups) == int(total["tokens_output"])


def test_grouping_by_api_key_bills_openai_keys_and_leaves_anthropic_keys_blank(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    _, out, _ = report(capsys, config, "--format", "json", "--by", "account,api_key")
    data = json.loads(out)
    openai = [r for r in data["rows"] if r["account"] == OPENAI and r["api_key"]]
    anthropic = [r for r in data["rows"] if r["account"] == ANTHROPIC]
    assert openai and all(Decimal(r["billed_usd"]) > 0 and r["drift_percent"] != "" for r in openai)
    assert anthropic and {(r["billed_usd"], r["drift_percent"]) for r in anthropic} == {("", "")}
    assert any("api_key" in note for note in data["notes"])


def test_openai_keys_are_billed_exactly_as_the_costs_api_reports_them(
    capsys: pytest.CaptureFixture[str], config: Path, tmp_path: Path
) -> None:
    _, out, _ = report(capsys, config, "--format", "json", "--by", "account,api_key")
    rows = {r["api_key"]: Decimal(r["billed_usd"]) for r in json.loads(out)["rows"] if r["account"] == OPENAI}
    with Ledger.open(tmp_path / "spend.db") as ledger:
        lines = BilledStore(ledger).lines(MONTH_START, MONTH_END)
    by_key: dict[str, int] = {}
    for line in lines:
        if line.account == OPENAI:
            by_key[line.api_key] = by_key.get(line.api_key, 0) + line.amount_pico
    assert {k: pico_to_usd(v).normalize() for k, v in by_key.items()} == {
        k: v.normalize() for k, v in rows.items()
    }
    assert len(by_key) > 2


def test_the_models_whose_computed_cost_is_off_are_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    table = PriceTable.load(overrides=gpt41_input_override("2026-11-29"))
    config = write_config(tmp_path, populated_ledger(tmp_path, table))
    _, out, _ = report(capsys, config, "--format", "json")
    off = json.loads(out)["models_off"]
    assert {(m["day"], m["account"], m["model"], m["kind"]) for m in off} == {
        (day, OPENAI, "gpt-4.1-2025-04-14", kind)
        for day in ("2026-11-29", "2026-11-30")
        for kind in ("all", "input")
    }
    assert all(Decimal(m["drift_percent"]) > 0 for m in off)


def test_the_table_prints_every_section_and_a_total(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    code, out, _ = report(capsys, config)
    assert code == 0
    for title in (
        "Spend in 2026-11 (UTC)",
        "Drift per UTC day",
        "Models whose computed cost is off by more than 2%",
        "What-if (ESTIMATES",
    ):
        assert title in out
    assert "\nTOTAL " in out


def test_plot_writes_a_png_that_decodes(
    capsys: pytest.CaptureFixture[str], config: Path, tmp_path: Path
) -> None:
    from matplotlib.image import imread  # noqa: PLC0415 - the plot extra

    png = tmp_path / "spend.png"
    code, _, err = report(capsys, config, "--by", "account,model", "--plot", str(png))
    data = png.read_bytes()
    image: Any = imread(str(png))
    assert (code, err) == (0, "")
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert image.shape[0] > 300 and image.shape[1] > 300


def test_a_plot_into_a_missing_directory_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], config: Path, tmp_path: Path
) -> None:
    code, _, err = report(capsys, config, "--plot", str(tmp_path / "nope" / "x.png"))
    assert code == 1
    assert err.count("\n") == 1 and "cannot write" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--month", "2026-13"], "expected YYYY-MM"),
        (["--month", "11/2026"], "expected YYYY-MM"),
        (["--month", "2026-11", "--by", "project,colour"], "unknown dimension 'colour'"),
    ],
)
def test_bad_arguments_exit_2_naming_the_option(
    capsys: pytest.CaptureFixture[str], config: Path, args: list[str], expected: str
) -> None:
    code = main(["report", "--config", str(config), *args])
    err = capsys.readouterr().err
    assert code == 2
    assert expected in err


def test_a_missing_ledger_is_a_clear_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = write_config(tmp_path, tmp_path / "missing.db")
    code, _, err = report(capsys, config)
    assert code == 1
    assert "no ledger at" in err and "storage.path" in err
    assert not (tmp_path / "missing.db").exists()
