"""`spend-monitor budgets`: the budgets' state from a real ledger and config file."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from test_budgets_support import budget, open_stores, write

from monitor.budgets import BudgetEngine
from monitor.cli import main
from monitor.periods import to_unix
from monitor.pricing import Pricer, PriceTable
from monitor.records import UsageRow, tokens_of

CONFIG = """\
providers:
  - name: openai-prod
    type: openai
    api_key: ${{SPEND_MONITOR_TEST_KEY}}
storage:
  path: {db}
alerts:
  - type: webhook
    url: http://127.0.0.1:9/hook
    secret: ${{SPEND_MONITOR_TEST_KEY}}
budgets:
  - name: monthly
    amount_usd: 100
    period: month
    thresholds: [50, 80, 100]
    forecast_thresholds: [100]
  - name: gpt5-daily
    amount_usd: 10
    period: day
    scope: {{model: ["gpt-5*"]}}
"""


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SPEND_MONITOR_TEST_KEY", "sk-admin-test")
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG.format(db=tmp_path / "spend.db"))
    return path


def seeded(tmp_path: Path) -> None:
    """$85 of gpt-4.1 in the current hour, and the daemon's evaluation of it (50 and 80 in ALARM)."""
    ledger, store = open_stores(tmp_path / "spend.db")
    now = datetime.now(UTC)
    write(ledger, now, "85")
    BudgetEngine([budget()], ["webhook"], ZoneInfo("UTC")).evaluate(ledger, store, now)
    ledger.close()


def test_json_lists_each_budget_with_exact_amounts_and_states(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seeded(tmp_path)
    assert main(["budgets", "--config", str(config), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    monthly, daily = document["rows"]
    assert (monthly["budget"], monthly["spend_usd"], monthly["limit_usd"], monthly["percent"]) == (
        "monthly",
        "85",
        "100",
        "85.0",
    )
    assert monthly["alerts"] == "50%=ALARM, 80%=ALARM, 100%=OK, 100% forecast=OK"
    assert (daily["budget"], daily["spend_usd"], daily["period"]) == ("gpt5-daily", "0", "day")
    assert daily["runout"] == "never"


def test_table_shows_cents_and_a_header(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seeded(tmp_path)
    assert main(["budgets", "--config", str(config)]) == 0
    header, first, second = capsys.readouterr().out.splitlines()
    assert header.split()[:5] == ["budget", "period", "period_start", "period_end", "spend_usd"]
    assert first.startswith("monthly") and " 85.00 " in first and " 100.00 " in first
    assert second.startswith("gpt5-daily")


def test_csv_has_one_row_per_budget(tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seeded(tmp_path)
    assert main(["budgets", "--config", str(config), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["budget"], r["spend_usd"]) for r in rows] == [("monthly", "85"), ("gpt5-daily", "0")]


def test_reading_budgets_queues_and_sends_nothing(tmp_path: Path, config: Path) -> None:
    ledger, store = open_stores(tmp_path / "spend.db")
    write(ledger, datetime.now(UTC), "95")
    assert main(["budgets", "--config", str(config), "--format", "json"]) == 0
    assert store.entries() == [] and store.states() == {}


def test_missing_ledger_is_a_one_line_error_naming_storage_path(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["budgets", "--config", str(config)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "storage.path" in err and "spend.db" in err


def test_a_budget_with_unpriced_tokens_says_so_below_the_table_and_in_json(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger, _ = open_stores(tmp_path / "spend.db")
    now = datetime.now(UTC)
    write(ledger, now, "85")
    preview = UsageRow(
        "openai", "openai-prod", "completions", to_unix(now) // 3600 * 3600, 3600,
        model="gpt-7-preview", tokens=tokens_of(input=12_000_000, output=400_000),
    )  # fmt: skip
    ledger.upsert_priced([Pricer(PriceTable.bundled()).price(preview)], to_unix(now) * 1000)
    ledger.close()
    assert main(["budgets", "--config", str(config)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "monthly: spend $85.00; plus 12.4M unpriced tokens of gpt-7-preview" in lines
    assert main(["budgets", "--config", str(config), "--format", "json"]) == 0
    rows = {row["budget"]: row for row in json.loads(capsys.readouterr().out)["rows"]}
    assert (rows["monthly"]["unpriced_tokens"], rows["gpt5-daily"]["unpriced_tokens"]) == (12_400_000, 0)
    assert rows["monthly"]["unpriced"] == "plus 12.4M unpriced tokens of gpt-7-preview"
