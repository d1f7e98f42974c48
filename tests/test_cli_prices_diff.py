"""`spend-monitor prices diff` against the pinned genai-prices and LiteLLM extracts, and `prices` showing sources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.pricing.community import convert

DATA = Path(__file__).resolve().parent / "data"
GENAI = DATA / "genai-prices-0.2.3-extract.json"
LITELLM = DATA / "litellm-1.110.2-extract.json"
ON = ["--date", "2026-12-01"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def diff(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict[str, str]], str]:
    code, out, err = run(capsys, "prices", "diff", *argv, *ON, "--format", "json")
    return code, json.loads(out) if out else [], err


def test_diff_against_the_genai_prices_snapshot_lists_disagreements_and_exits_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, rows, err = diff(capsys, str(GENAI))
    assert code == 1
    assert err.strip() == f"{len(rows)} difference(s) against genai-prices"
    found = {(r["model"], r["tier"], r["context"], r["field"], r["table"], r["other"]) for r in rows}
    # genai-prices 0.2.3 has no ultrafast tier; the bundled gpt-6.1-sol has one.
    assert ("gpt-6.1-sol", "ultrafast", "", "input", "12", "") in found
    # the bundled table gives no web search fee for gpt-6.1-sol; genai-prices does ($10 / 1,000)
    assert ("gpt-6.1-sol", "", "", "units.web_search_requests", "", "0.01") in found
    missing = {r["model"] for r in rows if r["difference"].startswith("missing from the table")}
    assert missing == {"claude-3-sonnet", "gpt-4-turbo"}  # retired models the bundled table leaves out
    # where both agree there is no line: Claude Opus 5.5's standard, batch and fast prices
    assert not any(r["model"] == "claude-opus-5-5" for r in rows)


def test_diff_against_litellm_reads_its_per_token_fields_tiers_and_thresholds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, rows, _ = diff(capsys, "--against", "litellm", str(LITELLM))
    assert code == 1
    found = {(r["model"], r["tier"], r["field"], r["difference"]) for r in rows}
    assert ("claude-sonnet-5-5", "batch", "cache_write_1h", "only in the table") in found  # LiteLLM lacks it
    assert not any(r["model"] == "gpt-6.1-sol" for r in rows)  # all tiers and >272k prices agree


def test_a_price_file_that_matches_the_other_source_has_no_differences(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (astra,) = [e for e in convert(json.loads(GENAI.read_text())).entries if e["model"] == "gpt-6-astra"]
    mine = tmp_path / "mine.yaml"
    mine.write_text(json.dumps({"models": [astra]}), encoding="utf-8")  # JSON is YAML
    code, rows, err = diff(capsys, str(GENAI), "--file", str(mine))
    assert (code, rows, err.strip()) == (0, [], "no differences")


def test_a_price_file_that_disagrees_names_the_model_tier_and_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text(
        """
- provider: anthropic
  model: claude-opus-5-5
  prices:
    - effective_from: 2026-09-22
      source: our contract
      standard: {input: 3.60, cached_input: 0.20, cache_write: 5, cache_write_1h: 8, output: 20}
""",
        encoding="utf-8",
    )
    code, rows, _ = diff(capsys, str(GENAI), "--file", str(mine))
    assert code == 1
    by_field = {(r["tier"], r["field"]): (r["table"], r["other"], r["difference"]) for r in rows}
    assert by_field[("standard", "input")] == ("3.6", "4", "differs")
    assert by_field[("fast", "output")] == ("", "40", "only in the other source")
    assert not any(r["difference"].startswith("missing") for r in rows)  # a file is checked for its models


def test_litellm_needs_its_data_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "prices", "diff", "--against", "litellm")
    assert (code, out) == (2, "")
    assert "give its data file" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("content", "what"), [(b"{not json", "Expecting"), (b'{"a": 1}', "not genai-prices data")]
)
def test_a_file_that_is_not_the_sources_data_is_one_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes, what: str
) -> None:
    bad = tmp_path / "data.json"
    bad.write_bytes(content)
    code, out, err = run(capsys, "prices", "diff", str(bad))
    assert (code, out) == (2, "")
    assert err.startswith(f"spend-monitor: error: {bad}: ") and what in err and err.count("\n") == 1


def test_prices_shows_the_source_of_each_price(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "prices", "--model", "gpt-6.1-sol", "--format", "json", *ON)
    rows = json.loads(out)
    assert {(r["tier"], r["price_source"]) for r in rows if not r["context"]} == {
        (tier, "bundled") for tier in ("standard", "batch", "flex", "fast", "ultrafast")
    }


def test_prices_with_a_config_lists_the_community_sources_prices(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_KEY", "sk-ant-admin-test")
    config = tmp_path / "config.yaml"
    config.write_text(
        f"storage:\n  path: {tmp_path / 'spend.db'}\n"
        "providers:\n  - {name: anthropic-prod, type: anthropic, api_key: '${ANTHROPIC_KEY}'}\n"
        "pricing:\n  sources: [bundled, files, genai-prices]\n",
        encoding="utf-8",
    )
    code, out, _ = run(
        capsys, "prices", "--config", str(config), "--model", "gpt-4-turbo", "--format", "json", *ON
    )
    assert code == 0
    rows = json.loads(out)
    assert rows and {r["price_source"] for r in rows} == {"genai-prices"}
