"""The calculator: pricing-facts.md's worked examples exactly, and its refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from monitor.errors import PricingError, UnknownModelError
from monitor.pricing import PriceTable, estimate

TABLE = PriceTable.bundled()
NOW = 1_795_392_000  # 2026-11-23

# pricing-facts.md, "Worked examples (a calculator must reproduce these exactly)": billed tokens per
# type -> USD. "100,000 tokens a day split 2:1 for 30 days" is 2,000,000 input + 1,000,000 output;
# "a month of 1M input + 500k output a day (30 days)" is 30,000,000 input + 15,000,000 output.
WORKED_EXAMPLES = [
    ("gpt-4.1", {"input": 100_000, "output": 2_000}, "0.216"),
    ("gpt-4.1", {"cached_input": 100_000, "output": 2_000}, "0.066"),
    ("gpt-4.1-mini", {"input": 1_000_000}, "0.40"),
    ("gpt-4.1-mini", {"output": 30_000}, "0.048"),
    ("gpt-4.1", {"input": 2_000_000, "output": 1_000_000}, "12.00"),
    ("gpt-4.1-mini", {"input": 2_000_000, "output": 1_000_000}, "2.40"),
    ("gpt-4.1-nano", {"input": 2_000_000, "output": 1_000_000}, "0.60"),
    ("gpt-4.1-nano", {"input": 30_000_000, "output": 15_000_000}, "9.00"),
    ("gpt-4o-mini", {"input": 30_000_000, "output": 15_000_000}, "13.50"),
    ("gpt-4.1-mini", {"input": 30_000_000, "output": 15_000_000}, "36.00"),
]


@pytest.mark.parametrize(("model", "tokens", "usd"), WORKED_EXAMPLES)
def test_worked_example_is_reproduced_exactly(model: str, tokens: dict[str, int], usd: str) -> None:
    assert estimate(TABLE, model, tokens, at=NOW).total == Decimal(usd)


def test_breakdown_lists_each_token_type_with_its_price() -> None:
    result = estimate(TABLE, "gpt-4.1", {"input": 100_000, "output": 2_000}, at=NOW)
    assert [(ln.token_type, ln.tokens, ln.usd_per_million, ln.cost) for ln in result.lines] == [
        ("input", 100_000, Decimal(2), Decimal("0.2")),
        ("output", 2_000, Decimal(8), Decimal("0.016")),
    ]
    assert result.entry.id == "openai/gpt-4.1/standard/2025-04-14"


def test_tier_and_discount_change_the_estimate() -> None:
    result = estimate(
        TABLE, "gpt-4.1", {"input": 1_000_000, "output": 1_000_000}, "fast", at=NOW, discount=Decimal(10)
    )
    assert result.total == (Decimal("3.5") + Decimal(14)) * Decimal("0.9")


def test_openai_priority_tier_is_estimated_as_fast_its_name_since_2026_07_30() -> None:
    tokens = {"input": 1_000_000, "output": 1_000_000}
    priority = estimate(TABLE, "gpt-4.1", tokens, "priority", at=NOW)
    assert priority.entry.tier == "fast"
    assert priority.total == estimate(TABLE, "gpt-4.1", tokens, "fast", at=NOW).total


def test_dated_estimate_uses_the_price_then() -> None:
    launch = 1_715_558_400  # 2024-05-13
    assert estimate(TABLE, "gpt-4o", {"input": 1_000_000}, at=launch).total == Decimal(5)


def test_unknown_model_suggests_close_names() -> None:
    with pytest.raises(UnknownModelError) as caught:
        estimate(TABLE, "gpt-4.1-mni", {"input": 1}, at=NOW)
    message = str(caught.value)
    assert message.startswith("unknown model 'gpt-4.1-mni': did you mean gpt-4.1-mini")
    assert "pricing.overrides" in message and "\n" not in message


def test_tier_without_price_is_refused_naming_the_priced_tiers() -> None:
    with pytest.raises(
        PricingError,
        match=r"^openai/gpt-4.1 has no flex price on 2026-11-23 \(priced tiers then: standard, batch, fast\)$",
    ):
        estimate(TABLE, "gpt-4.1", {"input": 1}, "flex", at=NOW)


def test_token_type_without_price_is_refused() -> None:
    with pytest.raises(
        PricingError, match=r"^openai/gpt-4.1/standard/2025-04-14 has no price for output_audio tokens$"
    ):
        estimate(TABLE, "gpt-4.1", {"output_audio": 5}, at=NOW)


def test_unknown_token_type_is_refused() -> None:
    with pytest.raises(PricingError, match=r"^unknown token type 'reasoning'"):
        estimate(TABLE, "gpt-4.1", {"reasoning": 5}, at=NOW)
