"""Pricer: exact costs of usage rows, discounts, units, and what stays unpriced (never $0)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from monitor.errors import PricingError
from monitor.pricing import Pricer, PriceTable
from monitor.records import TOKEN_INDEX, PricedRow, UsageRow, pico_to_usd, tokens_of

TABLE = PriceTable.bundled()
DAY = 86_400


def ts(day: str, hour: int = 0) -> int:
    return (
        int(datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=UTC).timestamp())
        + hour * 3600
    )


def row(model: str, provider: str = "openai", *, start: int | None = None, **fields: object) -> UsageRow:
    tokens = fields.pop("tokens", tokens_of(input=1000, output=100))
    return UsageRow(
        provider,
        fields.pop("account", "acct"),  # type: ignore[arg-type]
        fields.pop("endpoint", "completions"),  # type: ignore[arg-type]
        ts("2026-11-01") if start is None else start,
        DAY,
        model=model,
        tokens=tokens,  # type: ignore[arg-type]
        **fields,  # type: ignore[arg-type]
    )


def usd(priced: PricedRow) -> Decimal:
    return pico_to_usd(priced.total)


def test_tokens_times_list_price_is_exact() -> None:
    priced = Pricer(TABLE).price(row("gpt-4.1-2025-04-14", tokens=tokens_of(input=100_000, output=2_000)))
    assert usd(priced) == Decimal("0.216")
    assert priced.price_id == "openai/gpt-4.1/standard/2025-04-14"
    assert priced.unpriced_tokens == 0


@pytest.mark.parametrize(
    ("model", "expected"),
    [("gpt-4.1-nano", "9.00"), ("gpt-4o-mini", "13.50"), ("gpt-4.1-mini", "36.00")],
)
def test_a_month_of_daily_rows_sums_to_the_worked_example(model: str, expected: str) -> None:
    # pricing-facts.md: a month of 1M input + 500k output a day (30 days).
    pricer = Pricer(TABLE)
    rows = [
        row(model, start=ts("2026-11-01") + d * DAY, tokens=tokens_of(input=1_000_000, output=500_000))
        for d in range(30)
    ]
    assert sum(p.total for p in pricer.price_rows(rows)) == int(Decimal(expected) * 10**12)


def test_batch_flag_prices_at_the_batch_tier() -> None:
    priced = Pricer(TABLE).price(
        row("gpt-4.1", batch=True, tokens=tokens_of(input=1_000_000, output=1_000_000))
    )
    assert priced.price_id == "openai/gpt-4.1/batch/2025-04-14"
    assert usd(priced) == Decimal("5")  # 1.00 + 4.00


def test_anthropic_priority_on_demand_is_the_priority_tier_which_has_no_price() -> None:
    priced = Pricer(TABLE).price(row("claude-opus-4-1", "anthropic", service_tier="priority_on_demand"))
    assert priced.price_id is None
    assert priced.unpriced_tokens == 1100


def test_long_context_window_prices_the_whole_request_at_the_long_context_rate() -> None:
    tokens = tokens_of(input=300_000, cached_input=100_000, cache_write=100_000, output=10_000)
    priced = Pricer(TABLE).price(
        row("claude-sonnet-4-20250514", "anthropic", context_window="200k-1M", tokens=tokens)
    )
    assert priced.price_id == "anthropic/claude-sonnet-4/standard/>200k/2025-05-22"
    # 0.3M x 6.00 + 0.1M x 0.60 + 0.1M x 7.50 + 0.01M x 22.50
    assert usd(priced) == Decimal("1.8") + Decimal("0.06") + Decimal("0.75") + Decimal("0.225")


def test_discount_applies_per_token_type() -> None:
    pricer = Pricer(TABLE, {"reseller": Decimal("15")})
    priced = pricer.price(row("gpt-4.1", account="reseller", tokens=tokens_of(input=100_000, output=2_000)))
    assert priced.costs[TOKEN_INDEX["input"]] == int(Decimal("0.2") * Decimal("0.85") * 10**12)
    assert usd(priced) == Decimal("0.216") * Decimal("0.85")


def test_discount_is_only_for_its_account() -> None:
    pricer = Pricer(TABLE, {"reseller": Decimal("15")})
    assert usd(pricer.price(row("gpt-4.1", account="direct", tokens=tokens_of(input=100_000)))) == Decimal(
        "0.2"
    )


def test_discount_rounds_half_to_even_picodollar() -> None:
    # A price of 1 picodollar per token, so 12.5% off leaves exact halves to round.
    table = PriceTable.load(
        overrides=[
            {
                "provider": "acme",  # a provider without derivation rules
                "model": "tiny",
                "prices": [
                    {
                        "effective_from": "2026-01-01",
                        "source": "test",
                        "standard": {"input": "0.000001", "output": "0.000001"},
                    }
                ],
            }
        ]
    )
    pricer = Pricer(table, {"acct": Decimal("12.5")})
    priced = pricer.price(row("tiny", "acme", tokens=tokens_of(input=4, output=12)))
    assert priced.costs[TOKEN_INDEX["input"]] == 4  # 3.5 -> 4 (even)
    assert priced.costs[TOKEN_INDEX["output"]] == 10  # 10.5 -> 10 (even)


def test_unknown_model_is_unpriced_never_zero_and_warned_once(caplog: pytest.LogCaptureFixture) -> None:
    pricer = Pricer(TABLE)
    with caplog.at_level(logging.WARNING, logger="monitor.pricing.cost"):
        first = pricer.price(row("gpt-9-ultra", tokens=tokens_of(input=10, output=5)))
        pricer.price(row("gpt-9-ultra", start=ts("2026-11-02"), tokens=tokens_of(input=1)))
    assert (first.price_id, first.total, first.unpriced_tokens) == (None, 0, 15)
    assert pricer.unknown_models == {("openai", "gpt-9-ultra")}
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert "gpt-9-ultra" in warnings[0] and "pricing.overrides" in warnings[0]


def test_token_type_without_a_price_is_counted_unpriced_and_warned_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pricer = Pricer(TABLE)
    tokens = tokens_of(input=1_000_000, cache_write=500, output=0)
    with caplog.at_level(logging.WARNING, logger="monitor.pricing.cost"):
        priced = pricer.price(row("gpt-4.1", tokens=tokens))
        pricer.price(row("gpt-4.1", tokens=tokens))
    assert priced.price_id == "openai/gpt-4.1/standard/2025-04-14"
    assert (usd(priced), priced.unpriced_tokens) == (Decimal("2"), 500)
    assert len(caplog.records) == 1 and "cache_write" in caplog.records[0].getMessage()


def test_row_before_the_first_effective_date_is_unpriced() -> None:
    priced = Pricer(TABLE).price(row("gpt-5", start=ts("2025-08-06")))
    assert (priced.price_id, priced.unpriced_tokens) == (None, 1100)


def test_price_change_mid_month_applies_from_its_effective_day() -> None:
    override = {
        "provider": "openai",
        "model": "gpt-4.1",
        "prices": [
            {"effective_from": "2026-03-15", "source": "contract", "standard": {"input": 1, "output": 4}}
        ],
    }
    pricer = Pricer(PriceTable.load(overrides=[override]))
    tokens = tokens_of(input=1_000_000)
    before = pricer.price(row("gpt-4.1", start=ts("2026-03-14", hour=23), tokens=tokens))
    after = pricer.price(row("gpt-4.1", start=ts("2026-03-15", hour=0), tokens=tokens))
    assert (before.price_id, usd(before)) == ("openai/gpt-4.1/standard/2025-04-14", Decimal("2"))
    assert (after.price_id, usd(after)) == ("openai/gpt-4.1/standard/2026-03-15", Decimal("1"))


def test_web_search_units_are_priced_per_request() -> None:
    usage = row("claude-sonnet-4-5", "anthropic", tokens=tokens_of(), units=(("web_search_requests", 10),))
    priced = Pricer(TABLE).price(usage)
    assert (pico_to_usd(priced.unit_cost), priced.unpriced_units) == (Decimal("0.1"), ())  # $10 per 1,000


def test_row_without_a_model_is_priced_under_its_endpoint_name() -> None:
    # OpenAI's code_interpreter_sessions rows have no model; sessions cost $0.03 each.
    usage = row("", endpoint="code_interpreter_sessions", tokens=tokens_of(), units=(("sessions", 7),))
    priced = Pricer(TABLE).price(usage)
    assert (priced.price_id, pico_to_usd(priced.unit_cost)) == (
        "openai/code-interpreter/standard/2023-11-06",
        Decimal("0.21"),
    )


def test_row_without_a_model_on_an_unpriced_endpoint_stays_unpriced(caplog: pytest.LogCaptureFixture) -> None:
    pricer = Pricer(TABLE)
    with caplog.at_level(logging.WARNING, logger="monitor.pricing.cost"):
        priced = pricer.price(row("", endpoint="completions", tokens=tokens_of(input=50)))
    assert (priced.price_id, priced.unpriced_tokens) == (None, 50)
    assert "endpoint 'completions' report no model" in caplog.records[0].getMessage()


def test_units_without_a_price_are_counted_unpriced() -> None:
    usage = row("gpt-4.1", tokens=tokens_of(), units=(("web_search_requests", 3),))
    priced = Pricer(TABLE).price(usage)
    assert (priced.unit_cost, priced.unpriced_units) == (0, (("web_search_requests", 3),))


def test_fine_tuned_model_is_priced_at_fine_tuned_rates() -> None:
    usage = row("ft:gpt-4.1-mini-2025-04-14:org::x1", tokens=tokens_of(input=1_000_000, output=1_000_000))
    priced = Pricer(TABLE).price(usage)
    assert (priced.price_id, usd(priced)) == ("openai/ft:gpt-4.1-mini/standard/2025-04-14", Decimal("4"))


def test_price_rows_equals_pricing_each_row() -> None:
    rows = [
        row("gpt-4.1"),
        row("o3", service_tier="flex"),
        row("nope"),
        row("gpt-4.1", account="b", batch=True),
    ]
    assert Pricer(TABLE).price_rows(rows) == [Pricer(TABLE).price(r) for r in rows]


def test_discount_outside_0_to_100_is_rejected() -> None:
    with pytest.raises(PricingError, match="discount 120% is not a percentage between 0 and 100"):
        Pricer(TABLE, {"acct": Decimal("120")})
