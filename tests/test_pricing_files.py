"""Price files and config overrides: the shared format, merging, and one clear message per mistake."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.errors import PricingError
from monitor.pricing import PriceTable, check_price_entries
from monitor.pricing.table import BUNDLED_PATH

NOW = 1_795_392_000  # 2026-11-23


def model_entry(**block: Any) -> dict[str, Any]:
    prices = {"effective_from": "2026-01-01", "source": "https://example.com/prices", **block}
    return {"provider": "openai", "model": "my-model", "prices": [prices]}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "extra-prices.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(PricingError) as caught:
        PriceTable.load(extra_files=[path])
    return str(caught.value)


def test_bundled_entries_pass_the_same_checks_as_overrides() -> None:
    data = yaml.safe_load(BUNDLED_PATH.read_text(encoding="utf-8"))
    assert check_price_entries(data["models"], "models") == []


def test_override_entry_prices_a_new_model() -> None:
    table = PriceTable.load(overrides=[model_entry(standard={"input": 1.5, "output": 6})])
    entry = table.price_for("openai", "my-model", "standard", "", NOW)
    assert entry is not None
    assert (entry.usd_per_million("input"), entry.usd_per_million("output")) == (Decimal("1.5"), 6)


def test_openai_priority_prices_in_a_file_are_the_fast_tier_renamed_on_2026_07_30() -> None:
    table = PriceTable.load(overrides=[model_entry(standard={"input": 1}, priority={"input": 2})])
    fast = table.price_for("openai", "my-model", "fast", "", NOW)
    assert fast is not None and fast.usd_per_million("input") == 2
    assert table.price_for("openai", "my-model", "priority", "", NOW) is None


def test_anthropic_priority_tier_keeps_its_name() -> None:
    entry = {**model_entry(standard={"input": 1}, priority={"input": 2}), "provider": "anthropic"}
    table = PriceTable.load(overrides=[entry])
    priority = table.price_for("anthropic", "my-model", "priority", "", NOW)
    assert priority is not None and priority.usd_per_million("input") == 2


def test_float_from_a_plain_yaml_load_is_read_as_written() -> None:
    # The config loader uses yaml.safe_load, so override prices arrive as floats.
    overrides = yaml.safe_load(
        "- {provider: openai, model: m, prices: [{effective_from: 2026-01-01, source: s, standard: {input: 0.875}}]}"
    )
    entry = PriceTable.load(overrides=overrides).price_for("openai", "m", "standard", "", NOW)
    assert entry is not None and entry.rates[0] == 875_000


def test_extra_file_accepts_a_mapping_with_models(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "version: mine\nmodels:\n  - provider: openai\n    model: m\n    prices:\n      - {effective_from: 2026-01-01, source: s, standard: {input: 0.10}}\n",
    )
    assert PriceTable.load(extra_files=[path]).resolve("openai", "m") is not None


def test_extra_file_accepts_a_bare_list(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "- provider: openai\n  model: m\n  prices:\n    - {effective_from: 2026-01-01, source: s, standard: {input: 0.10}}\n",
    )
    assert PriceTable.load(extra_files=[path]).resolve("openai", "m") is not None


def test_later_block_with_the_same_date_replaces_the_bundled_one() -> None:
    override = {
        "provider": "openai",
        "model": "gpt-4.1",
        "prices": [
            {
                "effective_from": "2025-04-14",
                "source": "our contract",
                "standard": {"input": 1.8, "output": 7.2},
            }
        ],
    }
    table = PriceTable.load(overrides=[override])
    entry = table.price_for("openai", "gpt-4.1", "standard", "", NOW)
    assert entry is not None
    assert (entry.source, entry.usd_per_million("input")) == ("our contract", Decimal("1.8"))
    assert table.price_for("openai", "gpt-4.1", "priority", "", NOW) is None  # a block is a complete sheet


def test_overrides_change_the_pricing_version() -> None:
    table = PriceTable.load(overrides=[model_entry(standard={"input": 1})])
    assert table.version.startswith(PriceTable.bundled().version + "+local.")
    assert table.version != PriceTable.load(overrides=[model_entry(standard={"input": 2})]).version


def test_anthropic_rules_fill_cache_write_and_batch_prices_of_an_override() -> None:
    entry = {**model_entry(standard={"input": 4, "output": 20}), "provider": "anthropic"}
    table = PriceTable.load(overrides=[entry])
    standard = table.price_for("anthropic", "my-model", "standard", "", NOW)
    batch = table.price_for("anthropic", "my-model", "batch", "", NOW)
    assert standard is not None and batch is not None
    assert [standard.usd_per_million(t) for t in ("cache_write", "cache_write_1h")] == [5, 8]
    assert [batch.usd_per_million(t) for t in ("input", "cache_write", "output")] == [2, Decimal("2.5"), 10]


def test_an_anthropic_cache_read_price_is_never_derived_from_input() -> None:
    # The 0.1x rule no longer holds (Claude Sonnet 5.5 reads at 0.05x): a file must write it.
    entry = {**model_entry(standard={"input": 4, "output": 20}), "provider": "anthropic"}
    standard = PriceTable.load(overrides=[entry]).price_for("anthropic", "my-model", "standard", "", NOW)
    assert standard is not None
    assert standard.usd_per_million("cached_input") is None


def test_price_that_is_not_a_number_names_its_key_path() -> None:
    entry = model_entry(standard={"input": 1})
    entry["prices"].append({"effective_from": "2026-02-01", "source": "s", "standard": {"input": "1.2.3"}})
    assert check_price_entries([entry], "pricing.overrides") == [
        "pricing.overrides[0].prices[1].standard.input: '1.2.3' is not a number"
    ]


def test_price_with_more_than_six_decimals_names_the_file_and_key(tmp_path: Path) -> None:
    message = load_error(
        tmp_path,
        "- provider: openai\n  model: m\n  prices:\n    - {effective_from: 2026-01-01, source: s, standard: {input: 0.1234567}}\n",
    )
    assert (
        message
        == f"{tmp_path / 'extra-prices.yaml'}: entries[0].prices[0].standard.input: 0.1234567 has more than 6 decimals; prices are exact to 1e-6 USD"
    )


def test_negative_price_is_rejected() -> None:
    assert check_price_entries([model_entry(standard={"output": -1})], "o") == [
        "o[0].prices[0].standard.output: -1 is negative; prices are 0 or more"
    ]


def test_missing_source_asks_for_a_citation() -> None:
    entry = model_entry(standard={"input": 1})
    del entry["prices"][0]["source"]
    assert check_price_entries([entry], "o") == [
        "o[0].prices[0].source: missing; cite where the price comes from (URL or document)"
    ]


def test_missing_effective_date_is_rejected() -> None:
    entry = model_entry(standard={"input": 1})
    del entry["prices"][0]["effective_from"]
    assert check_price_entries([entry], "o") == [
        "o[0].prices[0].effective_from: missing; give the date the price took effect (YYYY-MM-DD)"
    ]


def test_effective_date_that_is_not_a_date_is_rejected() -> None:
    assert check_price_entries([model_entry(effective_from="14/04/2025", standard={"input": 1})], "o") == [
        "o[0].prices[0].effective_from: '14/04/2025' is not a date (YYYY-MM-DD)"
    ]


def test_misspelt_token_type_gets_a_suggestion() -> None:
    assert check_price_entries([model_entry(standard={"cached-input": 1})], "o") == [
        "o[0].prices[0].standard.cached-input: unknown token type 'cached-input'; did you mean 'cached_input'?"
    ]


def test_unknown_key_in_a_price_block_is_rejected() -> None:
    assert check_price_entries([model_entry(standard={"input": 1}, standrd={"input": 1})], "o") == [
        "o[0].prices[0].standrd: unknown key 'standrd'; did you mean 'standard'?"
    ]


def test_price_block_without_any_price_is_rejected() -> None:
    assert check_price_entries([model_entry()], "o") == [
        "o[0].prices[0]: no prices: give at least one of standard, batch, flex, priority, fast, ultrafast or units"
    ]


def test_model_without_price_blocks_is_rejected() -> None:
    assert check_price_entries([{"provider": "openai", "model": "m", "prices": []}], "o") == [
        "o[0].prices: expected a non-empty list of dated price blocks"
    ]


def test_two_blocks_with_the_same_date_are_rejected() -> None:
    entry = model_entry(standard={"input": 1})
    entry["prices"].append(dict(entry["prices"][0]))
    assert check_price_entries([entry], "o") == [
        "o[0].prices[1].effective_from: 2026-01-01 appears twice for my-model"
    ]


def test_overrides_that_are_not_a_list_are_rejected() -> None:
    assert check_price_entries({"gpt-4.1": 2}, "pricing.overrides") == [
        "pricing.overrides: expected a list of model entries, got dict"
    ]


def test_long_context_needs_a_positive_threshold() -> None:
    block = {"standard": {"input": 1}, "long_context": {"above_tokens": "200k", "standard": {"input": 2}}}
    assert check_price_entries([model_entry(**block)], "o") == [
        "o[0].prices[0].long_context.above_tokens: '200k' is not a positive whole number of tokens"
    ]


def test_cheaper_model_must_exist() -> None:
    entry = {**model_entry(standard={"input": 1}), "cheaper": "my-model-mini"}
    with pytest.raises(
        PricingError,
        match=r"^pricing.overrides\[0\].cheaper: 'my-model-mini' is not a openai model in the table$",
    ):
        PriceTable.load(overrides=[entry])


def test_check_reports_a_rule_derived_price_that_is_not_exact() -> None:
    entry = {**model_entry(standard={"input": "0.000001"}), "provider": "anthropic"}
    assert check_price_entries([entry], "o") == [
        f"o[0].prices[0].standard.{token_type}: the derived price ({rule}x input) is not exact to 6 decimals "
        "of USD per 1M; give it explicitly"
        for token_type, rule in (("cache_write", "1.25"),)
    ] + [
        "o[0].prices[0].batch.input: the derived price (0.5x standard) is not exact to 6 decimals of USD per 1M; give it explicitly"
    ]


def test_rule_derived_price_that_is_not_exact_must_be_given() -> None:
    with pytest.raises(PricingError) as caught:
        PriceTable.load(overrides=[model_entry(standard={"input": "0.000001"})])
    assert str(caught.value) == (
        "pricing.overrides[0].prices[0].batch.input: the derived price (0.5x standard) is not exact to 6 decimals "
        "of USD per 1M; give it explicitly"
    )


def test_invalid_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    message = load_error(tmp_path, "models:\n  - provider: openai\n    model: [unclosed\n")
    assert message.startswith(f"{tmp_path / 'extra-prices.yaml'}:4:1: invalid YAML: ")


def test_missing_price_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(PricingError, match=r"nope\.yaml: cannot read price file: No such file or directory$"):
        PriceTable.load(extra_files=[tmp_path / "nope.yaml"])


def test_unknown_top_level_key_in_a_file_is_rejected(tmp_path: Path) -> None:
    message = load_error(tmp_path, "version: x\nmodel: []\n")
    assert message == f"{tmp_path / 'extra-prices.yaml'}: unknown key 'model'; did you mean 'models'?"


def test_several_problems_are_reported_together() -> None:
    problems = check_price_entries([model_entry(standard={"input": "x", "output": -2}), "gpt-4.1"], "o")
    assert problems == [
        "o[0].prices[0].standard.input: 'x' is not a number",
        "o[0].prices[0].standard.output: -2 is negative; prices are 0 or more",
        "o[1]: expected a model entry (a mapping), got str",
    ]
