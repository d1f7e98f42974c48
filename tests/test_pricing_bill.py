"""Deriving rates from billed lines (pricing/bill.py) and pricing rows with them (Pricer.use_bill): exact
rates, lines that give none counted with their reason, never a division by zero, the table first."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from monitor.pricing import Pricer, PriceTable
from monitor.pricing.bill import (
    CREDIT,
    CURRENCY,
    NO_TOKENS,
    PARTIAL_DAY,
    UNMATCHED,
    UNREADABLE,
    UsageSums,
    derive,
)
from monitor.pricing.bill_rates import BillRates
from monitor.records import TOKEN_INDEX, BilledCost, UsageRow, tokens_of

DAY = 86_400
D1 = 1_796_083_200  # 2026-12-01T00:00:00Z
ONE_M = 1_000_000


def openai_line(
    item: str, dollars: str, quantity: int | None, unit: str = "tokens", **fields: str
) -> BilledCost:
    model, _, rest = item.partition(", ")
    kind, _, tier = rest.partition(" (")
    return BilledCost(
        "openai",
        "oa",
        D1,
        fields.get("project", "p1"),
        item,
        int(Decimal(dollars) * 10**12),
        model=model,
        token_type=fields.get("token_type", kind),
        service_tier=tier.rstrip(")"),
        quantity=None if quantity is None else Decimal(quantity),
        quantity_unit=unit if quantity is not None else "",
        currency=fields.get("currency", "USD"),
    )


def claude_line(kind: str, dollars: str, **fields: str) -> BilledCost:
    return BilledCost(
        "anthropic",
        "an",
        int(fields.get("day", D1)),
        "",
        f"Claude Preview Usage - {kind}",
        int(Decimal(dollars) * 10**12),
        model="claude-preview",
        token_type=kind,
        service_tier="standard",
        context_window="0-200k",
    )


def used(**tokens: int) -> UsageSums:
    sums = UsageSums()
    for kind, count in tokens.items():
        sums.tokens[TOKEN_INDEX[kind]] = count
    return sums


CLAUDE_KEY = ("an", "claude-preview", "standard", "0-200k", D1)


def test_an_openai_line_item_gives_its_amount_over_its_quantity_in_either_token_unit() -> None:
    derived = derive(
        [
            openai_line("gpt-7-preview, input", "2.25", 750_000),
            openai_line("gpt-7-preview, output", "1.8", 100, "1000_tokens"),
        ],
        {},
        coverage={},
    )
    rates = {r.token_type: r.rate for r in derived.rates}
    assert rates == {"input": Fraction(3_000_000), "output": Fraction(18_000_000)}  # $3 and $18 per 1M


def test_the_lines_of_several_projects_add_up_to_one_rate() -> None:
    lines = [
        openai_line("gpt-7-preview, input", "3", ONE_M, project="a"),
        openai_line("gpt-7-preview, input", "1", 3 * ONE_M, project="b"),
    ]
    [rate] = derive(lines, {}, coverage={}).rates
    assert rate.rate == Fraction(1_000_000)  # $4 for 4M tokens


def test_an_anthropic_line_gives_the_days_amount_over_the_ledgers_tokens() -> None:
    [rate] = derive([claude_line("input", "2.5")], {CLAUDE_KEY: used(input=ONE_M)}, coverage={"an": D1}).rates
    assert (rate.rate, rate.counted) == (Fraction(2_500_000), False)


def test_a_day_the_ledger_holds_only_part_of_gives_no_rate_from_the_ledgers_tokens() -> None:
    derived = derive(
        [claude_line("input", "2.5")], {CLAUDE_KEY: used(input=ONE_M)}, coverage={"an": D1 + 3600}
    )
    assert derived.rates == () and [p.reason for p in derived.problems] == [PARTIAL_DAY]


@pytest.mark.parametrize(
    ("line", "usage", "reason"),
    [
        (openai_line("gpt-7-preview, input", "1.5", 0), {}, NO_TOKENS),
        (claude_line("input", "1.5"), {}, UNMATCHED),
        (claude_line("input", "1.5"), {CLAUDE_KEY: used(output=5)}, UNMATCHED),
        (openai_line("gpt-7-preview, input", "1.5", 10, currency="EUR"), {}, CURRENCY),
        (openai_line("Text tokens, input", "1.5", 10, token_type=""), {}, UNREADABLE),
        (claude_line("input", "-1.5"), {CLAUDE_KEY: used(input=5)}, CREDIT),
    ],
    ids=["zero-tokens-with-a-charge", "no-usage", "no-usage-of-that-kind", "euros", "unreadable", "credit"],
)
def test_a_line_that_gives_no_rate_is_counted_with_its_reason_never_divided_by_zero(
    line: BilledCost, usage: dict[tuple[str, str, str, str, int], UsageSums], reason: str
) -> None:
    derived = derive([line], usage, coverage={})
    assert derived.rates == ()
    [problem] = derived.problems
    assert problem.reason == reason and problem.line_item == line.line_item
    assert line.line_item[:20] in problem.text()


def test_an_openai_line_nothing_in_the_ledger_matches_keeps_its_rate_and_is_reported() -> None:
    derived = derive([openai_line("gpt-7-preview, input (regional)", "3", ONE_M)], {}, coverage={})
    assert [r.tier for r in derived.rates] == ["regional"]  # an unknown tier word prices no row
    assert [p.reason for p in derived.problems] == [UNMATCHED]


def test_a_free_line_for_zero_tokens_is_no_problem() -> None:
    assert derive([openai_line("gpt-7-preview, input", "0", 0)], {}, coverage={}) == derive(
        [], {}, coverage={}
    )


def row(model: str = "claude-preview", account: str = "an", **fields: object) -> UsageRow:
    return UsageRow(
        "anthropic",
        account,
        "messages",
        D1 + 7200,
        3600,
        model=model,
        service_tier="standard",
        context_window="0-200k",
        tokens=tokens_of(input=3, output=1),
        **fields,  # type: ignore[arg-type]
    )


def billed_pricer(*kinds: tuple[str, str, int], discount: str = "0") -> Pricer:
    derived = derive(
        [claude_line(kind, dollars) for kind, dollars, _ in kinds],
        {CLAUDE_KEY: used(**{kind: count for kind, _, count in kinds})},
        coverage={},
    )
    pricer = Pricer(PriceTable.bundled(), {"an": Decimal(discount)})
    pricer.use_bill(BillRates(derived.rates))
    return pricer


def test_a_row_is_priced_at_its_days_rates_rounded_half_even_per_token_kind_and_names_the_bill() -> None:
    # $1 for 3M input tokens: 1/3 micro-dollar per token; 3 tokens cost exactly 1 microdollar.
    priced = billed_pricer(("input", "1", 3 * ONE_M), ("output", "0.000002", 1)).price(row())
    assert priced.costs[TOKEN_INDEX["input"]] == 1_000_000
    assert priced.costs[TOKEN_INDEX["output"]] == 2_000_000
    assert (priced.price_source, priced.price_id) == (
        "billed 2026-12-01",
        "bill/an/claude-preview/standard/0-200k/2026-12-01",
    )
    assert priced.unpriced_tokens == 0


def test_a_token_kind_the_bill_has_no_rate_for_stays_unpriced() -> None:
    priced = billed_pricer(("input", "1", ONE_M)).price(row())
    assert (priced.costs[TOKEN_INDEX["input"]], priced.unpriced_tokens) == (3_000_000, 1)


def test_the_accounts_discount_never_applies_to_a_bills_rate() -> None:
    priced = billed_pricer(("input", "1", ONE_M), ("output", "1", ONE_M), discount="20").price(row())
    assert priced.total == 4_000_000


def test_another_account_or_another_day_has_no_rate_from_this_bill() -> None:
    pricer = billed_pricer(("input", "1", ONE_M), ("output", "1", ONE_M))
    assert pricer.price(row(account="other")).price_id is None
    assert pricer.price(UsageRow(**{**_fields(row()), "bucket_start": D1 + DAY})).price_id is None


def test_a_source_of_the_table_prices_before_the_bill() -> None:
    pricer = Pricer(PriceTable.bundled())
    rate = derive(
        [
            BilledCost(
                "anthropic", "an", D1, "", "x", 10**12, "claude-opus-5-5", "input", "standard", "0-200k"
            )
        ],
        {("an", "claude-opus-5-5", "standard", "0-200k", D1): used(input=1)},
        coverage={},
    ).rates
    pricer.use_bill(BillRates(rate))
    assert pricer.price(row(model="claude-opus-5-5")).price_source == "bundled"


def _fields(r: UsageRow) -> dict[str, object]:
    return {name: getattr(r, name) for name in UsageRow.__slots__}  # type: ignore[attr-defined]
