"""`spend-monitor reprice` through monitor.cli.main, over a real ledger file and the bundled prices."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.periods import to_unix
from monitor.records import PICO_PER_USD, PricedRow, UsageRow, tokens_of
from monitor.store import Ledger

JUNE_1 = to_unix(datetime(2025, 6, 1, tzinfo=UTC))
JUNE_2 = to_unix(datetime(2025, 6, 2, tzinfo=UTC))
ONE_USD_OF_INPUT = (PICO_PER_USD, *(0,) * 10)


def _row(model: str, bucket: int, **tokens: int) -> UsageRow:
    return UsageRow("openai", "openai-prod", "completions", bucket, 3600, project="proj_a", model=model,
                    tokens=tokens_of(**tokens), requests=3)  # fmt: skip


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config with a 10% discount on openai-prod, and a ledger whose rows were priced at $1 each."""
    monkeypatch.setenv("TEST_OPENAI_ADMIN_KEY", "sk-admin-test")
    db = tmp_path / "data" / "spend.db"
    path = tmp_path / "config.yaml"
    path.write_text(
        f"storage:\n  path: {db}\nproviders:\n  - name: openai-prod\n    type: openai\n"
        "    api_key: ${TEST_OPENAI_ADMIN_KEY}\n    discount_percent: 10\n"
    )
    rows = [
        _row("gpt-4.1", JUNE_1, input=1_000_000, output=500_000),
        _row("gpt-4.1-mini", JUNE_2, input=1_000_000),
    ]
    with Ledger.open(db) as ledger:
        ledger.upsert_priced([PricedRow(r, ONE_USD_OF_INPUT, 0, "stale@0") for r in rows], observed_at=1)
    return path


def spend_usd(config: Path) -> Decimal:
    with Ledger.open(config.parent / "data" / "spend.db") as ledger:
        return Decimal(ledger.spend(0, 2**40)) / PICO_PER_USD


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_reprice_prints_old_new_and_delta_per_model(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "reprice", "--config", str(config), "--format", "json")

    assert code == 0
    report = json.loads(out)
    # gpt-4.1: 1M input at $2.00/M + 0.5M output at $8.00/M = $6.00, 10% off = $5.40.
    # gpt-4.1-mini: 1M input at $0.40/M = $0.40, 10% off = $0.36.
    assert [(r["model"], r["old_usd"], r["new_usd"], r["delta_usd"]) for r in report["rows"]] == [
        ("gpt-4.1", "1", "5.4", "4.4"),
        ("gpt-4.1-mini", "1", "0.36", "-0.64"),
    ]
    assert report["total"]["new_usd"] == "5.76"
    assert report["dry_run"] is False
    assert "changed 2 of 2 rows" in err


def test_reprice_writes_the_new_costs(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "reprice", "--config", str(config))

    assert spend_usd(config) == Decimal("5.76")


def test_dry_run_reports_without_writing(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "reprice", "--config", str(config), "--dry-run", "--format", "json")

    assert code == 0
    assert json.loads(out)["total"]["new_usd"] == "5.76"
    assert "would change 2 of 2 rows" in err
    assert spend_usd(config) == Decimal(2)


def test_since_reprices_only_later_buckets(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "reprice", "--config", str(config), "--since", "2025-06-02", "--format", "json"
    )

    assert code == 0
    assert [r["model"] for r in json.loads(out)["rows"]] == ["gpt-4.1-mini"]
    assert spend_usd(config) == Decimal("1.36")


def test_table_output_ends_with_a_total_line(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "reprice", "--config", str(config), "--dry-run")

    header, *lines = out.splitlines()
    assert header.split()[:4] == ["provider", "model", "rows", "changed"]
    assert lines[-1].split()[:7] == ["total", "2", "2", "2", "5.760000", "3.760000", "0"]


def test_csv_output_has_one_row_per_model_and_the_total(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(capsys, "reprice", "--config", str(config), "--dry-run", "--format", "csv")

    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["provider"], r["model"], r["delta_usd"]) for r in rows] == [
        ("openai", "gpt-4.1", "4.4"),
        ("openai", "gpt-4.1-mini", "-0.64"),
        ("total", "", "3.76"),
    ]


def test_missing_ledger_is_a_runtime_error_naming_the_path(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = config.parent / "data" / "spend.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)

    code, _, err = run(capsys, "reprice", "--config", str(config))

    assert code == 1
    assert f"no ledger at {db} (storage.path)" in err
    assert not db.exists()


def test_since_that_is_not_a_date_is_bad_input(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "reprice", "--config", str(config), "--since", "June")

    assert code == 2
    assert "'June' is not a date (YYYY-MM-DD)" in err
