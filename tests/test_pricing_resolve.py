"""Model name resolution and tier/context normalisation."""

from __future__ import annotations

import pytest

from monitor.pricing import PriceTable, context_floor, normalise_tier

TABLE = PriceTable.bundled()


def resolved(provider: str, name: str, table: PriceTable = TABLE) -> tuple[str, str, str] | None:
    found = table.resolve(provider, name)
    return None if found is None else (found.provider, found.model, found.rule)


def test_exact_name_resolves_to_itself() -> None:
    assert resolved("openai", "gpt-4.1") == ("openai", "gpt-4.1", "exact")


@pytest.mark.parametrize(
    ("provider", "name", "model"),
    [
        ("openai", "gpt-4.1-2025-04-14", "gpt-4.1"),
        ("openai", "gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("anthropic", "claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("anthropic", "claude-3-5-haiku-20241022", "claude-3-5-haiku"),
    ],
)
def test_dated_snapshot_resolves_to_its_base_model(provider: str, name: str, model: str) -> None:
    assert resolved(provider, name) == (provider, model, "snapshot")


def test_dated_snapshot_listed_in_the_table_keeps_its_own_entry() -> None:
    assert resolved("openai", "gpt-4o-2024-05-13") == ("openai", "gpt-4o-2024-05-13", "exact")


def test_dated_snapshot_of_a_table_alias_resolves_through_the_alias() -> None:
    assert resolved("anthropic", "claude-4-sonnet-20250514") == ("anthropic", "claude-sonnet-4", "snapshot")


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("ft:gpt-4.1-mini-2025-04-14:org::id123", "ft:gpt-4.1-mini"),
        ("ft:gpt-4.1-2025-04-14:my-org:suffix:BfXk9", "ft:gpt-4.1"),
        ("ft:gpt-4.1-nano-2025-04-14", "ft:gpt-4.1-nano"),
    ],
)
def test_fine_tune_resolves_to_the_fine_tuned_rates_of_its_base(name: str, model: str) -> None:
    found = TABLE.resolve("openai", name)
    assert found is not None
    assert (found.model, found.rule, found.fine_tuned) == (model, "fine-tune", True)


def test_fine_tune_of_a_model_without_fine_tuned_rates_is_unknown() -> None:
    assert TABLE.resolve("openai", "ft:gpt-5-mini-2025-08-07:org::abc") is None


def test_latest_suffix_resolves_only_where_the_table_lists_it() -> None:
    assert resolved("anthropic", "claude-3-7-sonnet-latest") == ("anthropic", "claude-3-7-sonnet", "alias")
    assert TABLE.resolve("anthropic", "claude-sonnet-4-5-latest") is None


def test_config_alias_maps_a_deployment_name_to_a_model() -> None:
    table = PriceTable.load(aliases={"my-deployment": "gpt-4.1-2025-04-14"})
    assert resolved("openai", "my-deployment", table) == ("openai", "gpt-4.1", "config alias")
    assert TABLE.resolve("openai", "my-deployment") is None


def test_model_of_another_provider_is_not_resolved() -> None:
    assert TABLE.resolve("anthropic", "gpt-4.1") is None


def test_empty_provider_searches_every_provider() -> None:
    assert resolved("", "gemini-2.5-pro") == ("google", "gemini-2.5-pro", "exact")


def test_unknown_name_is_not_guessed_by_prefix() -> None:
    assert TABLE.resolve("openai", "gpt-4.1-turbo") is None


def test_resolution_is_cached() -> None:
    assert TABLE.resolve("openai", "gpt-4.1-2025-04-14") is TABLE.resolve("openai", "gpt-4.1-2025-04-14")


@pytest.mark.parametrize(
    ("provider", "service_tier", "batch", "tier"),
    [
        ("openai", "", False, "standard"),
        ("openai", "default", False, "standard"),
        ("openai", "auto", False, "standard"),
        ("openai", "scale", False, "standard"),
        ("openai", "flex", False, "flex"),
        ("openai", "priority", False, "fast"),  # Priority was renamed Fast on 2026-07-30
        ("openai", "fast", False, "fast"),
        ("openai", "ultrafast", False, "ultrafast"),
        ("openai", "default", True, "batch"),
        ("anthropic", "standard", False, "standard"),
        ("anthropic", "batch", False, "batch"),
        ("anthropic", "priority", False, "priority"),
        ("anthropic", "priority_on_demand", False, "priority"),
        ("anthropic", "flex", False, "flex"),
        ("anthropic", "flex_discount", False, "flex"),
    ],
)
def test_provider_tier_words_normalise_to_pricing_tiers(
    provider: str, service_tier: str, batch: bool, tier: str
) -> None:
    assert normalise_tier(provider, service_tier, batch) == tier


def test_unknown_tier_word_is_kept_so_it_matches_no_price() -> None:
    assert normalise_tier("openai", "Enterprise", False) == "enterprise"


@pytest.mark.parametrize(
    ("window", "floor"),
    [("", 0), ("0-200k", 0), ("200k-1M", 200_000), (">200k", 200_000), ("garbage", 0)],
)
def test_context_window_bucket_gives_its_smallest_prompt_size(window: str, floor: int) -> None:
    assert context_floor(window) == floor
