"""Channel rows (a relay, OpenRouter, Azure OpenAI) name upstream models: they are priced at the upstream
model's list price, and a relay group's share of list price applies where no discount_percent is set."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from monitor.errors import PricingError
from monitor.pricing import Pricer, PriceTable
from monitor.records import UsageRow, tokens_of

TABLE = PriceTable.bundled()
NOV = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp())


def resolved(provider: str, name: str, table: PriceTable = TABLE) -> tuple[str, str, str] | None:
    found = table.resolve(provider, name)
    return None if found is None else (found.provider, found.model, found.rule)


@pytest.mark.parametrize(
    ("channel", "name", "expected"),
    [
        ("newapi", "gpt-4.1", ("openai", "gpt-4.1", "upstream")),
        ("newapi", "claude-sonnet-4-5-20250929", ("anthropic", "claude-sonnet-4-5", "upstream")),
        ("openrouter", "openai/gpt-4.1-mini", ("openai", "gpt-4.1-mini", "upstream")),
        ("openrouter", "openai/gpt-4.1-2025-04-14", ("openai", "gpt-4.1", "upstream")),
        ("openrouter", "anthropic/claude-sonnet-4.5", ("anthropic", "claude-sonnet-4-5", "upstream")),
        ("openrouter", "anthropic/claude-3.5-haiku", ("anthropic", "claude-3-5-haiku", "upstream")),
        ("openrouter", "google/gemini-2.5-pro", ("google", "gemini-2.5-pro", "upstream")),
        ("azure_openai", "gpt-4.1-nano", ("openai", "gpt-4.1-nano", "upstream")),
    ],
)
def test_a_channel_row_resolves_to_the_upstream_model(
    channel: str, name: str, expected: tuple[str, str, str]
) -> None:
    assert resolved(channel, name) == expected


def test_a_version_written_with_a_dot_keeps_it_when_the_table_does() -> None:
    assert resolved("openrouter", "openai/gpt-4.1") == ("openai", "gpt-4.1", "upstream")


def test_an_unknown_upstream_model_stays_unknown() -> None:
    assert resolved("openrouter", "mistralai/mistral-large") is None
    assert resolved("newapi", "gpt-7-preview") is None


def test_the_first_party_providers_still_resolve_only_their_own_models() -> None:
    assert resolved("openai", "claude-sonnet-4-5") is None
    assert resolved("anthropic", "gpt-4.1") is None


def row(provider: str, model: str, project: str = "default", account: str = "relay") -> UsageRow:
    return UsageRow(
        provider,
        account,
        "log",
        NOV,
        3600,
        project=project,
        model=model,
        tokens=tokens_of(input=1_000_000, cached_input=1_000_000, output=1_000_000),
    )


def test_a_channel_row_costs_the_upstream_list_price() -> None:
    priced = Pricer(TABLE).price(row("openrouter", "openai/gpt-4.1"))
    assert priced.price_id == "openai/gpt-4.1/standard/2025-04-14"
    assert priced.total == (2_000_000 + 500_000 + 8_000_000) * 10**6  # $2 + $0.50 + $8


def test_a_relay_group_pays_its_share_of_list_price() -> None:
    pricer = Pricer(TABLE)
    pricer.set_shares("relay", {"vip": Decimal("0.7")})
    assert pricer.price(row("newapi", "gpt-4.1", project="vip")).total == 7_350_000 * 10**6  # 70% of $10.50
    assert pricer.price(row("newapi", "gpt-4.1", project="default")).total == 10_500_000 * 10**6


def test_shares_belong_to_their_account_and_are_replaced_whole() -> None:
    pricer = Pricer(TABLE)
    pricer.set_shares("relay", {"vip": Decimal("0.5")})
    pricer.set_shares("relay", {"svip": Decimal("0.5")})
    assert pricer.price(row("newapi", "gpt-4.1", project="vip")).total == 10_500_000 * 10**6
    assert pricer.price(row("newapi", "gpt-4.1", project="vip", account="other")).total == 10_500_000 * 10**6


def test_discount_percent_overrides_the_group_share() -> None:
    pricer = Pricer(TABLE, {"relay": Decimal(20)})
    pricer.set_shares("relay", {"vip": Decimal("0.5")})
    assert pricer.price(row("newapi", "gpt-4.1", project="vip")).total == 8_400_000 * 10**6  # 80%


def test_a_negative_share_is_refused() -> None:
    with pytest.raises(PricingError, match="share of list price of 'vip'"):
        Pricer(TABLE).set_shares("relay", {"vip": Decimal("-0.1")})
