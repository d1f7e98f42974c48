"""The bundled price table against the reference sheet (tests/data, copied from shared/), and the table's dated lookups."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.pricing import PriceEntry, Pricer, PriceTable, normalise_tier
from monitor.records import UsageRow, pico_to_usd, tokens_of

REFERENCE = (
    Path(__file__).resolve().parent / "data" / "reference-prices.yaml"
)  # copy of shared/pricing/reference-prices.yaml
SHEET: dict[str, Any] = yaml.safe_load(REFERENCE.read_text(encoding="utf-8"))["models"]
TABLE = PriceTable.bundled()


def at(day: str) -> int:
    return int(datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=UTC).timestamp())


NOW = at("2026-11-23")

# Where the bundled table deliberately departs from the sheet's value, with the reason (each is also
# written in the entry's note). Keyed (model, tier, context, token_type) -> bundled value.
DEPARTURES = {
    # 1.109.1's 0.138 looks rounded; 1.80.0 has 0.1375, exactly half of the 0.275 standard price.
    ("o4-mini", "flex", "", "cached_input"): Decimal("0.1375"),
}
# The sheet's names for tier prices outside the main fields.
OTHER_FIELDS = {
    "cache_read_input_token_cost_priority": ("priority", "cached_input"),
    "cache_read_input_token_cost_flex": ("flex", "cached_input"),
    "cache_read_input_token_cost_batches": ("batch", "cached_input"),
    "cache_creation_input_token_cost_batches": ("batch", "cache_write"),
    "input_cost_per_audio_token": ("standard", "input_audio"),
}
MAIN_FIELDS = {"input": "input", "cached_input": "cached_input", "cache_write_5m": "cache_write"}
MAIN_FIELDS |= {"cache_write_1h": "cache_write_1h", "output": "output"}
TIER_PREFIXES = {"batch": "batch", "flex": "flex", "priority": "priority"}


def provider_of(sheet_model: dict[str, Any]) -> str:
    return str(sheet_model["provider"]).split()[0]


def entry(provider: str, model: str, tier: str, context: str = "") -> PriceEntry | None:
    window = "200k-1M" if context else ""
    # The sheet's "priority" columns are OpenAI's Fast tier since 2026-07-30.
    return TABLE.price_for(provider, model, normalise_tier(provider, tier, False), window, NOW)


def expected_prices(name: str, sheet: dict[str, Any]) -> dict[tuple[str, str, str], Decimal | None]:
    """(tier, context, token_type) -> price the sheet gives (None where it says no price)."""
    expected: dict[tuple[str, str, str], Decimal | None] = {}

    def put(tier: str, context: str, token_type: str, value: object) -> None:
        expected[(tier, context, token_type)] = None if value is None else Decimal(str(value))

    for field, token_type in MAIN_FIELDS.items():
        put("standard", "", token_type, sheet[field])
    for prefix, tier in TIER_PREFIXES.items():
        for token_type in ("input", "output"):
            put(tier, "", token_type, sheet[f"{prefix}_{token_type}"])
    for field, (tier, token_type) in OTHER_FIELDS.items():
        value = (sheet.get("other_litellm_prices_per_1m") or {}).get(field)
        if value is not None:
            put(tier, "", token_type, value)
    for above in sheet.get("tiers_above_tokens") or []:
        assert above["threshold_tokens"] == 200_000
        for field, value in above.items():
            if field == "threshold_tokens":
                continue
            tier, _, token_type = (
                field.partition("_") if field.split("_")[0] in TIER_PREFIXES else ("standard", "", field)
            )
            put(tier, ">200k", MAIN_FIELDS.get(token_type, token_type), value)
    return expected


def derived_by_rule(provider: str, tier: str, token_type: str, standard: Decimal | None) -> Decimal | None:
    """What the provider's stated rules give where the sheet has no price."""
    if tier == "batch" and provider in ("openai", "anthropic") and standard is not None:
        return standard / 2
    return None


@pytest.mark.parametrize("name", sorted(SHEET))
def test_bundled_prices_match_reference_sheet(name: str) -> None:
    sheet = SHEET[name]
    provider = provider_of(sheet)
    for (tier, context, token_type), listed in expected_prices(name, sheet).items():
        found = entry(provider, name, tier, context)
        got = None if found is None else found.usd_per_million(token_type)
        want = listed
        if listed is None:
            base = entry(provider, name, "standard", context)
            want = derived_by_rule(provider, tier, token_type, base and base.usd_per_million(token_type))
        want = DEPARTURES.get((name, tier, context, token_type), want)
        assert got == want, f"{name} {tier} {context or 'base'} {token_type}: table {got}, sheet {want}"


@pytest.mark.parametrize("name", sorted(n for n in SHEET if SHEET[n].get("fine_tuned")))
def test_fine_tuned_prices_match_reference_sheet(name: str) -> None:
    sheet = SHEET[name]["fine_tuned"]
    for tier, token_type, field in [
        ("standard", "input", "input"),
        ("standard", "cached_input", "cached_input"),
        ("standard", "output", "output"),
        ("batch", "input", "batch_input"),
        ("batch", "cached_input", "batch_cached_input"),
        ("batch", "output", "batch_output"),
    ]:
        found = entry("openai", f"ft:{name}", tier)
        assert found is not None
        assert found.usd_per_million(token_type) == Decimal(str(sheet[field])), (tier, token_type)


@pytest.mark.parametrize("name", sorted(SHEET))
def test_reference_aliases_resolve_to_their_price(name: str) -> None:
    sheet = SHEET[name]
    # Sheet aliases priced differently from the table on purpose (see the entries' notes): LiteLLM's
    # claude-3-5-haiku-latest (1.00/5.00; Anthropic lists Haiku 3.5 at 0.80/4.00) and Vertex's
    # gemini-2.0-flash-001 (0.15/0.60; the table prices the Gemini API).
    skip = {"claude-3-5-haiku-latest", "gemini-2.0-flash-001"}
    for alias in sheet["aliases"]:
        if alias["name"] in skip:
            continue
        found = TABLE.price_for(provider_of(sheet), alias["name"], "standard", "", NOW)
        assert found is not None, alias["name"]
        for token_type in ("input", "output", "cached_input"):
            want = alias[token_type]
            assert found.usd_per_million(token_type) == (None if want is None else Decimal(str(want))), (
                alias["name"],
                token_type,
            )


def test_every_entry_cites_a_source_and_an_effective_date() -> None:
    entries = TABLE.entries_in_force(NOW)
    assert len({(e.provider, e.model) for e in entries}) >= len(SHEET)
    for e in entries:
        assert e.source.strip(), e.id
        assert e.effective_from <= date(2026, 11, 23), e.id
        assert e.id.endswith(e.effective_from.isoformat())


def test_gpt_4o_price_changed_with_the_2024_08_06_snapshot() -> None:
    before = TABLE.price_for("openai", "gpt-4o", "standard", "", at("2024-08-05"))
    after = TABLE.price_for("openai", "gpt-4o", "standard", "", at("2024-08-06"))
    assert before is not None and after is not None
    assert (before.usd_per_million("input"), before.usd_per_million("output")) == (5, 15)
    assert (after.usd_per_million("input"), after.usd_per_million("output")) == (Decimal("2.5"), 10)
    assert before.id == "openai/gpt-4o/standard/2024-05-13"


def usd(provider: str, model: str, moment: datetime, **tokens: int) -> Decimal:
    """The cost of one usage row priced through the engine (Pricer), as the poller's rows are."""
    row = UsageRow(
        provider=provider, account="acme", endpoint="completions", bucket_start=int(moment.timestamp()),
        bucket_width=3600, model=model, tokens=tokens_of(**tokens),
    )  # fmt: skip
    priced = Pricer(TABLE).price(row)
    assert priced.price_id is not None and priced.unpriced_tokens == 0
    return pico_to_usd(priced.total)


MILLION = 1_000_000


def test_sonnet_5_5_cache_reads_halve_from_2026_10_07_mid_month() -> None:
    before = datetime(2026, 10, 6, 23, tzinfo=UTC)
    after = datetime(2026, 10, 7, 0, tzinfo=UTC)
    assert usd("anthropic", "claude-sonnet-5-5", before, cached_input=MILLION) == Decimal("0.2")
    assert usd("anthropic", "claude-sonnet-5-5", after, cached_input=MILLION) == Decimal("0.1")
    # every other price of the sheet stays as it was
    assert usd("anthropic", "claude-sonnet-5-5-20260928", after, input=MILLION, output=MILLION) == 12


def test_gpt_5_6_sol_promotion_prices_each_side_of_2026_08_21_and_ends_on_2026_12_01() -> None:
    before = datetime(2026, 8, 20, 23, tzinfo=UTC)
    after = datetime(2026, 8, 21, 0, tzinfo=UTC)
    ended = datetime(2026, 12, 1, 0, tzinfo=UTC)
    assert usd("openai", "gpt-5.6-sol", before, input=MILLION, output=MILLION) == 35
    assert usd("openai", "gpt-5.6", after, input=MILLION, output=MILLION) == 24
    assert usd("openai", "gpt-5.6-sol", ended, input=MILLION, output=MILLION) == 35


def test_gpt_4o_2024_05_13_keeps_its_launch_price() -> None:
    found = TABLE.price_for("openai", "gpt-4o-2024-05-13", "standard", "", NOW)
    assert found is not None
    assert (found.model, found.usd_per_million("input"), found.usd_per_million("output")) == (
        "gpt-4o-2024-05-13",
        5,
        15,
    )


def test_no_price_before_a_model_launched() -> None:
    assert TABLE.price_for("openai", "gpt-5", "standard", "", at("2025-08-06")) is None
    assert all(e.model != "gpt-5" for e in TABLE.entries_in_force(at("2025-08-06")))


def test_tier_with_neither_price_nor_rule_has_no_price() -> None:
    assert TABLE.price_for("openai", "gpt-4.1", "flex", "", NOW) is None
    assert TABLE.price_for("anthropic", "claude-opus-4", "priority", "", NOW) is None
    assert TABLE.price_for("google", "gemini-2.0-flash", "batch", "", NOW) is None


def test_anthropic_batch_is_half_of_standard_for_every_token_type() -> None:
    standard = entry("anthropic", "claude-opus-4", "standard")
    batch = entry("anthropic", "claude-opus-4", "batch")
    assert standard is not None and batch is not None
    for token_type in ("input", "cached_input", "cache_write", "cache_write_1h", "output"):
        assert batch.usd_per_million(token_type) * 2 == standard.usd_per_million(token_type)  # type: ignore[operator]


def test_long_context_window_takes_the_long_context_price() -> None:
    long = TABLE.price_for("anthropic", "claude-sonnet-4-5", "standard", "200k-1M", NOW)
    short = TABLE.price_for("anthropic", "claude-sonnet-4-5", "standard", "0-200k", NOW)
    assert long is not None and short is not None
    assert (long.context, long.usd_per_million("input"), long.usd_per_million("output")) == (
        ">200k",
        6,
        Decimal("22.5"),
    )
    assert long.usd_per_million("cache_write_1h") == 12  # the 2x-input rule on the long-context input price
    assert (short.context, short.usd_per_million("input")) == ("", 3)


def test_long_context_tier_without_that_tier_has_no_price() -> None:
    assert TABLE.price_for("google", "gemini-2.5-pro", "flex", "", NOW) is not None
    assert TABLE.price_for("google", "gemini-2.5-pro", "flex", "200k-1M", NOW) is None


def test_model_without_long_context_prices_keeps_its_price_above_200k() -> None:
    assert TABLE.price_for("openai", "gpt-4.1", "standard", "200k-1M", NOW) == entry(
        "openai", "gpt-4.1", "standard"
    )


def test_family_cheaper_walks_down_each_family() -> None:
    def chain(model: str) -> list[str]:
        found: list[str] = [model]
        while (nxt := TABLE.family_cheaper(found[-1])) is not None:
            found.append(nxt)
        return found

    assert chain("gpt-4.1-2025-04-14") == ["gpt-4.1-2025-04-14", "gpt-4.1-mini", "gpt-4.1-nano"]
    assert chain("gpt-5") == ["gpt-5", "gpt-5-mini", "gpt-5-nano"]
    assert chain("o3") == ["o3", "o4-mini"]
    assert chain("claude-opus-4-20250514") == [
        "claude-opus-4-20250514",
        "claude-sonnet-4",
        "claude-haiku-4-5",
    ]
    assert TABLE.family_cheaper("no-such-model") is None


def test_models_lists_base_and_fine_tuned_models() -> None:
    models = TABLE.models()
    assert {"gpt-4.1", "ft:gpt-4.1", "claude-sonnet-4-5", "gemini-2.5-pro"} <= set(models)
    assert models == sorted(models)


def test_bundled_version_is_the_table_date() -> None:
    assert TABLE.version == "2026-12-07"
    assert PriceTable.load() is TABLE
