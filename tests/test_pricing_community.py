"""The community source (genai-prices data) converted to table entries, and the chain of price sources.

Uses the pinned extract of genai-prices 0.2.3 in tests/data (see its README).
"""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from monitor.errors import PricingError
from monitor.pricing import CommunityPrices, Pricer, PriceTable
from monitor.pricing.community import NO_START, convert, specs_of
from monitor.pricing.sources import layer_groups, source_problems
from monitor.records import UsageRow, pico_to_usd, tokens_of

SNAPSHOT = Path(__file__).resolve().parent / "data" / "genai-prices-0.2.3-extract.json"
RAW: list[dict[str, Any]] = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
DAY = 86_400


def at(day: str) -> int:
    return int(datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=UTC).timestamp())


def community(raw: object = RAW) -> CommunityPrices:
    specs, problems = specs_of(convert(raw, "genai-prices 0.2.3"))
    assert specs, problems
    digest = hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest()
    return CommunityPrices(tuple(specs), "genai-prices 0.2.3", digest)


CHAIN = PriceTable.load(sources=["bundled", "files", "genai-prices"], community=community())


def entry_of(raw_model: str, provider: str = "openai") -> dict[str, Any]:
    (found,) = [e for e in convert(RAW).entries if (e["provider"], e["model"]) == (provider, raw_model)]
    return found


def row(model: str, provider: str = "openai", *, start: int | None = None, **fields: object) -> UsageRow:
    tokens = fields.pop("tokens", tokens_of(input=1_000_000))
    start = at("2026-12-01") if start is None else start
    return UsageRow(provider, "acct", "usage", start, DAY, model=model, tokens=tokens, **fields)  # type: ignore[arg-type]


def one_model(provider: str, model: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"id": provider, "name": provider, "api_pattern": "x", "models": [{"match": {}, **model}]}]


# ---- conversion ------------------------------------------------------------------------------------


def test_a_tier_the_source_lists_only_from_a_date_has_no_price_before_it_rather_than_standard() -> None:
    # genai-prices lists gpt-6.1-sol's fast prices from 2026-10-12 and would bill earlier fast usage
    # at the standard price; the conversion leaves the fast tier out of the earlier block.
    blocks = entry_of("gpt-6.1-sol")["prices"]
    assert [b["effective_from"] for b in blocks] == [NO_START.isoformat(), "2026-10-12", "2026-10-14"]
    assert "fast" not in blocks[0] and "batch" not in blocks[1]
    assert blocks[1]["fast"] == {"input": "4", "cached_input": "0.2", "cache_write": "5", "output": "20"}


def test_openai_priority_and_anthropic_fast_mode_variants_become_the_fast_tier() -> None:
    sol = entry_of("gpt-6.1-sol")["prices"][-1]
    fable = entry_of("claude-fable-5-2", "anthropic")["prices"][-1]
    assert sol["fast"]["input"] == "4"
    assert fable["fast"] == {
        "input": "16",
        "cached_input": "0.4",
        "cache_write": "20",
        "cache_write_1h": "32",
        "output": "80",
    }
    assert "priority" not in sol  # OpenAI's Priority is its Fast tier


def test_tiered_prices_become_the_models_own_long_context_threshold() -> None:
    sol = entry_of("gpt-6.1-sol")["prices"][0]["long_context"]
    haiku = entry_of("claude-haiku-5-5", "anthropic")["prices"][0]["long_context"]
    assert (sol["above_tokens"], sol["standard"]["input"], sol["standard"]["output"]) == (272_000, "4", "15")
    assert (haiku["above_tokens"], haiku["standard"]["input"]) == (100_000, "0.5")


def test_a_variant_gets_only_the_prices_it_lists_never_the_standard_ones() -> None:
    raw = one_model(
        "openai",
        {
            "id": "m",
            "prices": {"input_mtok": "2", "output_mtok": "8", "cache_read_mtok": "0.5"},
            "price_variants": [{"when": {"service_tier": "flex"}, "prices": {"input_mtok": "1"}}],
        },
    )
    (block,) = convert(raw).entries[0]["prices"]
    assert block["flex"] == {"input": "1"}


def test_time_of_day_prices_are_left_out_with_the_reason() -> None:
    raw = one_model(
        "openai",
        {
            "id": "night-owl",
            "prices": [
                {"prices": {"input_mtok": "1"}},
                {
                    "constraint": {"start_time": "16:30:00", "end_time": "00:30:00"},
                    "prices": {"input_mtok": "0.5"},
                },
            ],
        },
    )
    converted = convert(raw)
    assert converted.entries == ()
    assert converted.problems == (
        "openai/night-owl: prices that depend on the time of day are not supported",
    )


@pytest.mark.parametrize("garbage", ["<html>", {"providers": []}, [1, 2]])
def test_data_that_is_not_genai_prices_data_is_refused(garbage: object) -> None:
    with pytest.raises(ValueError, match="not genai-prices data"):
        convert(garbage)


def test_prices_that_are_not_numbers_leave_the_model_out() -> None:
    raw = copy.deepcopy(RAW)
    raw[1]["models"][0]["prices"] = {"input_mtok": "free"}
    converted = convert(raw)
    assert any("is not a number" in p for p in converted.problems)
    assert raw[1]["models"][0]["id"] not in {e["model"] for e in converted.entries}


def test_community_prices_are_never_derived_by_billing_rules() -> None:
    raw = one_model("anthropic", {"id": "claude-new", "prices": {"input_mtok": "4", "output_mtok": "20"}})
    table = PriceTable.load(sources=["genai-prices"], community=community(raw))
    entry = table.price_for("anthropic", "claude-new", "standard", "", at("2026-12-01"))
    assert entry is not None
    assert entry.usd_per_million("cache_write") is None  # a price file would derive 1.25x input
    assert table.price_for("anthropic", "claude-new", "batch", "", at("2026-12-01")) is None


# ---- the chain -------------------------------------------------------------------------------------


def test_a_model_known_only_to_the_community_source_is_priced_from_it() -> None:
    priced = Pricer(CHAIN).price(
        row("claude-3-sonnet-20240229", "anthropic", tokens=tokens_of(output=1_000_000))
    )
    assert (priced.price_source, priced.price_id) == (
        "genai-prices",
        "anthropic/claude-3-sonnet/standard/1970-01-01",  # genai-prices gives no start date
    )
    assert pico_to_usd(priced.total) == 15


def test_the_bundled_table_prices_the_models_it_lists_and_the_community_copy_is_not_kept() -> None:
    priced = Pricer(CHAIN).price(row("gpt-6.1-sol"))
    assert (priced.price_source, priced.price_id) == ("bundled", "openai/gpt-6.1-sol/standard/2026-09-29")
    community_layer = CHAIN.layers[-1]
    assert community_layer.name == "genai-prices"
    assert not community_layer.knows("openai", "gpt-6.1-sol")
    assert community_layer.knows("openai", "gpt-4-turbo")


def test_a_tier_the_community_source_lacks_stays_unpriced_rather_than_standard() -> None:
    priced = Pricer(CHAIN).price(row("gpt-4-turbo", service_tier="ultrafast"))
    assert (priced.price_id, priced.total, priced.unpriced_tokens) == (None, 0, 1_000_000)


def test_a_geo_the_community_source_cannot_price_stays_unpriced() -> None:
    pricer = Pricer(CHAIN)
    assert pricer.price(row("claude-3-sonnet", "anthropic", inference_geo="us")).price_id is None
    assert (
        pricer.price(row("claude-3-sonnet", "anthropic", inference_geo="global")).price_source
        == "genai-prices"
    )


def test_a_dated_community_price_change_in_the_middle_of_a_month() -> None:
    # genai-prices: OpenAI cut gpt-5.6-sol's input price from 5 to 4 on 2026-08-21.
    pricer = Pricer(CHAIN)
    before = pricer.price(row("gpt-5.6-sol", start=at("2026-08-20") + 23 * 3600))
    after = pricer.price(row("gpt-5.6-sol", start=at("2026-08-21")))
    assert (pico_to_usd(before.total), pico_to_usd(after.total)) == (5, 4)


def test_the_community_source_first_prices_the_models_it_lists() -> None:
    table = PriceTable.load(sources=["genai-prices", "bundled"], community=community())
    priced = Pricer(table).price(row("gpt-6.1-sol", service_tier="fast", start=at("2026-10-01")))
    assert priced.price_id is None  # genai-prices has no fast price for it before 2026-10-12
    assert Pricer(table).price(row("gpt-4.1-mini")).price_source == "bundled"  # not in the extract


def test_without_community_data_the_chain_has_only_the_table() -> None:
    table = PriceTable.load(sources=["bundled", "genai-prices"])
    assert table.sources == ("table",)
    assert Pricer(table).price(row("gpt-4-turbo")).price_id is None


def test_the_pricing_version_names_the_community_data() -> None:
    assert CHAIN.version.startswith(PriceTable.bundled().version + "+genai-prices.")


def test_prices_in_force_list_each_model_once_with_its_source() -> None:
    entries = CHAIN.entries_in_force(at("2026-12-01"))
    by_model = {(e.model, e.tier, e.context): e.origin for e in entries}
    assert by_model[("gpt-6.1-sol", "standard", "")] == "bundled"
    assert by_model[("gpt-4-turbo", "standard", "")] == "genai-prices"
    assert sum(1 for e in entries if (e.model, e.tier, e.context) == ("gpt-6.1-sol", "standard", "")) == 1


def test_table_sources_next_to_each_other_are_one_layer() -> None:
    assert layer_groups(["bundled", "files", "genai-prices"]) == [("bundled", "files"), ("genai-prices",)]
    assert layer_groups(["bundled", "genai-prices", "files"]) == [("bundled",), ("genai-prices",), ("files",)]


def test_the_bill_is_no_layer_of_the_table() -> None:
    assert layer_groups(["bundled", "files", "bill"]) == [("bundled", "files")]
    assert PriceTable.load(sources=["bundled", "files", "bill"]) is PriceTable.bundled()


@pytest.mark.parametrize(
    ("sources", "problem"),
    [
        (
            ["bundled", "genai"],
            "pricing.sources[1]: unknown price source 'genai'; did you mean 'genai-prices'?",
        ),
        (["bundled", "bill", "genai-prices"], "pricing.sources[2]: 'genai-prices' comes after 'bill'"),
        (["files", "files"], "pricing.sources[1]: 'files' is listed twice; keep one"),
        ([], "pricing.sources: empty; list at least one of bundled, files, genai-prices, bill"),
    ],
)
def test_a_source_list_that_cannot_work_is_one_clear_error(sources: list[str], problem: str) -> None:
    (found,) = source_problems(sources)
    assert found.startswith(problem)
    with pytest.raises(PricingError, match=r"pricing\.sources"):
        PriceTable.load(sources=sources)


def test_decimal_prices_stay_exact_through_the_conversion() -> None:
    luna = entry_of("gpt-6-luna")["prices"][-1]
    assert Decimal(luna["batch"]["cache_write"]) == Decimal("0.0625")
