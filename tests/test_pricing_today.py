"""Today's models, tiers and token types: fast and ultrafast, cache writes, per-model long context, dated changes.

Expected figures are the providers' published prices (USD per 1M tokens) as cited in the bundled entries:
developers.openai.com (GPT-6.1 Sol, GPT-6 Luna) and platform.claude.com (Claude Sonnet 5.5, Opus 5.5).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from monitor.errors import PricingError
from monitor.pricing import Pricer, PriceTable, estimate
from monitor.records import TOKEN_TYPES, UsageRow, pico_to_usd, tokens_of

TABLE = PriceTable.bundled()
DAY = 86_400


def at(day: str) -> int:
    return int(datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=UTC).timestamp())


DECEMBER = at("2026-12-01")
KINDS = ("input", "cached_input", "cache_write", "output")

# (provider, model, tier) -> USD per 1M of input, cached input, cache write (5m / 30 min), output.
PUBLISHED: dict[tuple[str, str, str], tuple[str, str, str, str]] = {
    ("openai", "gpt-6.1-sol", "standard"): ("2", "0.10", "2.50", "10"),
    ("openai", "gpt-6.1-sol", "batch"): ("1", "0.05", "1.25", "5"),
    ("openai", "gpt-6.1-sol", "flex"): ("1", "0.05", "1.25", "5"),
    ("openai", "gpt-6.1-sol", "fast"): ("4", "0.20", "5", "20"),
    ("openai", "gpt-6.1-sol", "ultrafast"): ("12", "0.60", "15", "60"),
    ("openai", "gpt-6-luna", "standard"): ("0.10", "0.01", "0.125", "0.50"),
    ("openai", "gpt-6-luna", "batch"): ("0.05", "0.005", "0.0625", "0.25"),
    ("openai", "gpt-6-luna", "flex"): ("0.05", "0.005", "0.0625", "0.25"),
    ("openai", "gpt-6-luna", "fast"): ("0.20", "0.02", "0.25", "1"),
    ("anthropic", "claude-sonnet-5-5", "standard"): ("2", "0.10", "2.50", "10"),
    ("anthropic", "claude-sonnet-5-5", "batch"): ("1", "0.05", "1.25", "5"),
    ("anthropic", "claude-opus-5-5", "standard"): ("4", "0.20", "5", "20"),
    ("anthropic", "claude-opus-5-5", "batch"): ("2", "0.10", "2.50", "10"),
    ("anthropic", "claude-opus-5-5", "fast"): ("8", "0.40", "10", "40"),
}
ONE_HOUR_WRITES = {"claude-sonnet-5-5": ("4", "2"), "claude-opus-5-5": ("8", "4")}


def row(model: str, provider: str = "openai", *, start: int = DECEMBER, **fields: object) -> UsageRow:
    tokens = fields.pop("tokens", tokens_of(input=1_000_000))
    return UsageRow(provider, "acct", "usage", start, DAY, model=model, tokens=tokens, **fields)  # type: ignore[arg-type]


def cost(usage: UsageRow, table: PriceTable = TABLE) -> Decimal:
    return pico_to_usd(Pricer(table).price(usage).total)


def tier_fields(provider: str, tier: str) -> dict[str, object]:
    if tier == "batch":
        return {"batch": True} if provider == "openai" else {"service_tier": "batch", "batch": True}
    return {"service_tier": "" if tier == "standard" else tier}


@pytest.mark.parametrize(("key", "prices"), list(PUBLISHED.items()), ids=["/".join(k) for k in PUBLISHED])
def test_each_token_type_of_each_tier_of_todays_models_at_one_million_tokens(
    key: tuple[str, str, str], prices: tuple[str, str, str, str]
) -> None:
    provider, model, tier = key
    for kind, price in zip(KINDS, prices, strict=True):
        usage = row(model, provider, tokens=tokens_of(**{kind: 1_000_000}), **tier_fields(provider, tier))
        assert cost(usage) == Decimal(price), (kind, price)


@pytest.mark.parametrize(("model", "prices"), list(ONE_HOUR_WRITES.items()))
def test_claude_one_hour_cache_writes_cost_twice_the_input_price(model: str, prices: tuple[str, str]) -> None:
    standard, batch = (Decimal(p) for p in prices)
    tokens = tokens_of(cache_write_1h=1_000_000)
    assert cost(row(model, "anthropic", tokens=tokens)) == standard
    assert cost(row(model, "anthropic", tokens=tokens, service_tier="batch", batch=True)) == batch


@pytest.mark.parametrize("word", ["priority", "fast", "Fast"])
def test_openai_priority_and_fast_rows_are_both_the_fast_tier(word: str) -> None:
    priced = Pricer(TABLE).price(row("gpt-6.1-sol", service_tier=word, tokens=tokens_of(input=1_000_000)))
    assert priced.price_id == "openai/gpt-6.1-sol/fast/2026-09-29"
    assert pico_to_usd(priced.total) == 4


def test_anthropic_priority_is_its_priority_tier_not_fast_mode() -> None:
    priced = Pricer(TABLE).price(row("claude-opus-5-5", "anthropic", service_tier="priority"))
    assert (priced.price_id, priced.unpriced_tokens) == (None, 1_000_000)


def test_a_tier_a_model_lacks_stays_unpriced_rather_than_standard() -> None:
    priced = Pricer(TABLE).price(row("gpt-6-luna", service_tier="ultrafast"))
    assert (priced.price_id, priced.total, priced.unpriced_tokens) == (None, 0, 1_000_000)


def test_openai_cache_writes_are_priced_at_the_models_cache_write_price() -> None:
    tokens = tokens_of(input=600_000, cached_input=300_000, cache_write=100_000, output=50_000)
    priced = Pricer(TABLE).price(row("gpt-6.1-sol-2026-09-29", service_tier="default", tokens=tokens))
    # 0.6 * 2.00 + 0.3 * 0.10 + 0.1 * 2.50 + 0.05 * 10.00
    assert pico_to_usd(priced.total) == Decimal("1.98")
    assert priced.costs[TOKEN_TYPES.index("cache_write")] == 250_000 * 10**6


def test_a_price_change_in_the_middle_of_a_month_prices_each_day_at_its_price() -> None:
    # Anthropic cut Sonnet 5.5 cache reads from 0.20 to 0.10 on 2026-10-07.
    pricer = Pricer(TABLE)
    tokens = tokens_of(cached_input=1_000_000)
    before = pricer.price(
        row("claude-sonnet-5-5", "anthropic", start=at("2026-10-06") + 23 * 3600, tokens=tokens)
    )
    after = pricer.price(row("claude-sonnet-5-5", "anthropic", start=at("2026-10-07"), tokens=tokens))
    assert (pico_to_usd(before.total), before.price_id) == (
        Decimal("0.2"),
        "anthropic/claude-sonnet-5-5/standard/2026-09-28",
    )
    assert (pico_to_usd(after.total), after.price_id) == (
        Decimal("0.1"),
        "anthropic/claude-sonnet-5-5/standard/2026-10-07",
    )


def test_usage_before_a_models_release_has_no_price() -> None:
    priced = Pricer(TABLE).price(row("gpt-6.1-sol", start=at("2026-09-28")))
    assert priced.price_id is None


def test_claude_5_5_has_one_price_across_its_whole_context_window() -> None:
    long = Pricer(TABLE).price(row("claude-sonnet-5-5", "anthropic", context_window="200k-1M"))
    assert (long.price_id, pico_to_usd(long.total)) == ("anthropic/claude-sonnet-5-5/standard/2026-10-07", 2)


def test_claude_sonnet_4_5_above_200k_tokens_takes_its_long_context_price() -> None:
    start = at("2026-11-01")
    long = Pricer(TABLE).price(row("claude-sonnet-4-5", "anthropic", context_window="200k-1M", start=start))
    assert (long.price_id, pico_to_usd(long.total)) == (
        "anthropic/claude-sonnet-4-5/standard/>200k/2025-09-29",
        6,
    )


def test_openai_rows_carry_no_context_window_so_long_prompts_are_priced_at_the_base_price() -> None:
    # OpenAI bills prompts above 272K at 2x input; its usage rows cannot say which requests were long.
    # The base price is used (never a guess) and the reconciliation with the bill shows the difference.
    priced = Pricer(TABLE).price(row("gpt-6.1-sol", tokens=tokens_of(input=1_000_000)))
    assert (priced.price_id, pico_to_usd(priced.total)) == ("openai/gpt-6.1-sol/standard/2026-09-29", 2)


def test_a_models_own_long_context_threshold_decides_which_bucket_is_long() -> None:
    # Claude Haiku 5.5 switches to its long-context price above 100,000 prompt tokens.
    haiku = {
        "provider": "anthropic",
        "model": "claude-haiku-5-5",
        "prices": [
            {
                "effective_from": "2026-10-07",
                "source": "https://platform.claude.com/docs/en/about-claude/pricing",
                "standard": {"input": "0.10", "cached_input": "0.01", "output": "0.50"},
                "long_context": {
                    "above_tokens": 100_000,
                    "standard": {"input": "0.50", "cached_input": "0.05", "output": "2.50"},
                },
            }
        ],
    }
    table = PriceTable.load(overrides=[haiku])
    assert cost(row("claude-haiku-5-5", "anthropic", context_window="200k-1M"), table) == Decimal("0.5")
    # Anthropic's "0-200k" bucket may hold prompts above 100K: the base price, and the bill tells.
    assert cost(row("claude-haiku-5-5", "anthropic", context_window="0-200k"), table) == Decimal("0.1")


@pytest.mark.parametrize(("tier", "total"), [("fast", "0.42"), ("ultrafast", "1.26"), ("priority", "0.42")])
def test_estimate_prices_the_fast_and_ultrafast_tiers(tier: str, total: str) -> None:
    result = estimate(TABLE, "gpt-6.1-sol", {"input": 100_000, "output": 1_000}, tier, at=DECEMBER)
    assert result.total == Decimal(total)


def test_estimate_refuses_a_tier_the_model_has_no_price_for() -> None:
    with pytest.raises(PricingError, match="has no ultrafast price"):
        estimate(TABLE, "gpt-6-luna", {"input": 1}, "ultrafast", at=DECEMBER)


# ---- inference geo -------------------------------------------------------------------------------


def test_a_us_inference_geo_costs_the_documented_multiple_of_every_token_price() -> None:
    tokens = tokens_of(input=1_000_000, cached_input=1_000_000, cache_write=1_000_000, output=1_000_000)
    priced = Pricer(TABLE).price(row("claude-opus-5-5", "anthropic", inference_geo="us", tokens=tokens))
    assert pico_to_usd(priced.total) == Decimal("32.12")  # 1.1 x (4 + 0.20 + 5 + 20)
    assert priced.price_id == "anthropic/claude-opus-5-5/standard/2026-09-22"


@pytest.mark.parametrize("geo", ["", "global", "not_available"])
def test_the_default_geos_cost_the_list_price(geo: str) -> None:
    assert cost(row("claude-opus-5-5", "anthropic", inference_geo=geo)) == 4


def test_the_geo_multiplier_leaves_web_search_fees_alone() -> None:
    usage = row("claude-opus-5-5", "anthropic", inference_geo="us", units=(("web_search_requests", 100),))
    priced = Pricer(TABLE).price(usage)
    assert pico_to_usd(priced.unit_cost) == 1  # $10 per 1,000 searches, wherever the model ran
    assert pico_to_usd(priced.total) == Decimal("5.4")


def test_a_discount_and_a_geo_multiplier_both_apply() -> None:
    priced = Pricer(TABLE, {"acct": Decimal(10)}).price(
        row("claude-opus-5-5", "anthropic", inference_geo="us")
    )
    assert pico_to_usd(priced.total) == Decimal("3.96")  # 4 x 1.1 x 0.9


def test_a_model_whose_block_lists_no_geo_multiplier_costs_the_same_in_every_geo() -> None:
    start = at("2026-11-01")
    us = cost(row("claude-sonnet-4-5", "anthropic", inference_geo="us", start=start))
    assert us == cost(row("claude-sonnet-4-5", "anthropic", start=start)) == 3


def test_estimate_applies_the_geo_multiplier() -> None:
    result = estimate(TABLE, "claude-sonnet-5-5", {"input": 1_000_000}, at=DECEMBER, inference_geo="us")
    assert (result.total, result.lines[0].usd_per_million) == (Decimal("2.2"), Decimal("2.2"))
