"""`spend-monitor estimate` and `spend-monitor prices` through monitor.cli.main."""

from __future__ import annotations

import csv
import io
import json

import pytest

from monitor.cli import main

# pricing-facts.md's worked examples as command lines -> the total line. --input counts all input
# tokens, cached ones included.
WORKED_EXAMPLES = [
    (["--model", "gpt-4.1", "--input", "100000", "--output", "2000"], "0.216"),
    (["--model", "gpt-4.1", "--input", "100000", "--cached-input", "100000", "--output", "2000"], "0.066"),
    (["--model", "gpt-4.1-mini", "--input", "1000000"], "0.4"),
    (["--model", "gpt-4.1-mini", "--output", "30000"], "0.048"),
    (["--model", "gpt-4.1", "--input", "2000000", "--output", "1000000"], "12"),
    (["--model", "gpt-4.1-mini", "--input", "2000000", "--output", "1000000"], "2.4"),
    (["--model", "gpt-4.1-nano", "--input", "2000000", "--output", "1000000"], "0.6"),
    (["--model", "gpt-4.1-nano", "--input", "30000000", "--output", "15000000"], "9"),
    (["--model", "gpt-4o-mini", "--input", "30000000", "--output", "15000000"], "13.5"),
    (["--model", "gpt-4.1-mini", "--input", "30000000", "--output", "15000000"], "36"),
]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("args", "total"), WORKED_EXAMPLES)
def test_estimate_ends_with_the_worked_example_total(
    capsys: pytest.CaptureFixture[str], args: list[str], total: str
) -> None:
    code, out, _ = run(capsys, "estimate", *args, "--date", "2026-11-23")
    assert code == 0
    assert out.splitlines()[-1] == total


def test_estimate_table_shows_the_breakdown(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "estimate", "--model", "gpt-4.1", "--input", "100000", "--output", "2000")
    lines = out.splitlines()
    assert "openai/gpt-4.1/standard/2025-04-14" in lines[0]
    assert lines[2].split() == ["input", "100000", "2", "0.2"]
    assert lines[3].split() == ["output", "2000", "8", "0.016"]


def test_estimate_json_gives_exact_decimal_strings(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(
        capsys,
        "estimate",
        "--model",
        "gpt-4.1-nano",
        "--input",
        "100000",
        "--cached-input",
        "40000",
        "--format",
        "json",
    )
    data = json.loads(out)
    assert data["total_usd"] == "0.007"  # 60,000 x 0.10 + 40,000 x 0.025 per 1M
    assert data["price_id"] == "openai/gpt-4.1-nano/standard/2025-04-14"
    assert [(r["token_type"], r["tokens"], r["usd_per_1m"], r["usd"]) for r in data["rows"]] == [
        ("input", 60000, "0.1", "0.006"),
        ("cached_input", 40000, "0.025", "0.001"),
    ]


def test_estimate_csv_ends_with_a_total_row(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(
        capsys, "estimate", "--model", "gpt-4.1", "--input", "100000", "--output", "2000", "--format", "csv"
    )
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[-1]["token_type"] == "total" and rows[-1]["usd"] == "0.216"


def test_estimate_long_context_batch_tier(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--model", "claude-sonnet-4-5-20250929", "--input", "400000", "--output", "10000"]
    _, out, _ = run(capsys, "estimate", *args, "--tier", "batch", "--context-window", "200k-1M")
    assert out.splitlines()[-1] == "1.3125"  # 0.4M x 3.00 + 0.01M x 11.25: batch halves 6.00 / 22.50


@pytest.mark.parametrize(("tier", "total"), [("fast", "0.43"), ("priority", "0.43"), ("ultrafast", "1.29")])
def test_estimate_fast_and_ultrafast_tiers_with_cache_writes(
    capsys: pytest.CaptureFixture[str], tier: str, total: str
) -> None:
    # OpenAI's Priority is its Fast tier since 2026-07-30: --tier priority gives the fast price.
    args = ["--model", "gpt-6.1-sol", "--input", "100000", "--cache-write", "10000", "--output", "1000"]
    code, out, _ = run(capsys, "estimate", *args, "--tier", tier, "--date", "2026-12-01")
    assert code == 0
    assert out.splitlines()[-1] == total


def test_estimate_unknown_model_exits_2_with_suggestions(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "estimate", "--model", "claude-sonet-4-5", "--input", "10")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert err.startswith(
        "spend-monitor: error: unknown model 'claude-sonet-4-5': did you mean claude-sonnet-4-5"
    )


def test_estimate_cached_tokens_above_input_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "estimate", "--model", "gpt-4.1", "--input", "10", "--cached-input", "20")
    assert code == 2
    assert "exceed --input (10)" in err


def test_estimate_negative_count_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "estimate", "--model", "gpt-4.1", "--input", "-5")
    assert code == 2
    assert "token counts are 0 or more" in err


def test_prices_lists_the_tiers_in_force_with_date_and_source(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "prices", "--model", "gpt-4.1-2025-04-14", "--format", "csv", "--date", "2026-11-23"
    )
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0
    assert [(r["model"], r["tier"], r["input"], r["cached_input"], r["output"]) for r in rows] == [
        ("gpt-4.1", "standard", "2", "0.5", "8"),
        ("gpt-4.1", "batch", "1", "0.25", "4"),
        ("gpt-4.1", "fast", "3.5", "0.875", "14"),
    ]
    assert {r["effective_from"] for r in rows} == {"2025-04-14"}
    assert all("reference-prices.yaml" in r["source"] for r in rows)


def test_prices_on_a_past_date_shows_the_price_then(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "prices", "--model", "gpt-4o", "--date", "2024-06-01", "--format", "json")
    standard = next(r for r in json.loads(out) if r["tier"] == "standard")
    assert (standard["input"], standard["output"], standard["effective_from"]) == ("5", "15", "2024-05-13")


def test_prices_filters_by_provider_and_glob(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(
        capsys, "prices", "--provider", "anthropic", "--model", "claude-opus-5*", "--format", "json"
    )
    assert {r["model"] for r in json.loads(out)} == {"claude-opus-5", "claude-opus-5-5"}


def test_prices_table_leaves_out_token_types_nobody_listed_prices(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "prices", "--model", "gpt-5")
    header = out.splitlines()[0].split()
    assert header[:7] == ["provider", "model", "tier", "context", "input", "cached_input", "output"]
    assert "output_image" not in header


def test_prices_unknown_provider_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "prices", "--provider", "opneai")
    assert code == 2
    assert "unknown provider 'opneai'; known: anthropic, google, openai" in err
