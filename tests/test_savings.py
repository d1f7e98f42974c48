"""Cache savings and what-if estimates on hand-made ledgers priced by the real pricer and table.

Expected figures come from shared/pricing-facts.md: gpt-4.1 100,000 input + 2,000 output costs
$0.216, and $0.066 with all 100,000 input tokens cached, so caching them saved $0.15.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from test_drift_support import gpt41_input_override

from monitor.pricing import Pricer, PriceTable
from monitor.reconciliation import CumulativeSavings, SavingsRow, cache_savings, savings_by, what_if
from monitor.records import UsagePage, UsageRow, tokens_of, usd_to_pico
from monitor.store import Ledger

D1 = 1795132800  # 2026-11-20T00:00:00Z
DAY = 86400
HOUR = 3600


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger.open(tmp_path / "spend.db") as led:
        yield led


def use(
    ledger: Ledger, table: PriceTable, *rows: UsageRow, discounts: dict[str, Decimal] | None = None
) -> None:
    ledger.upsert_priced(Pricer(table, discounts).price_rows(rows), observed_at=1)


def row(
    model: str = "gpt-4.1-2025-04-14",
    *,
    hour: int = D1,
    account: str = "acct",
    project: str = "p",
    tier: str = "",
    **tokens: int,
) -> UsageRow:
    provider = "anthropic" if model.startswith("claude") else "openai"
    return UsageRow(
        provider,
        account,
        "completions",
        hour,
        HOUR,
        project=project,
        model=model,
        service_tier=tier,
        tokens=tokens_of(**tokens),
    )


def test_cached_tokens_save_the_difference_to_the_full_input_price(ledger: Ledger) -> None:
    table = PriceTable.bundled()
    use(ledger, table, row(cached_input=100_000, output=2_000))
    assert cache_savings(ledger, table) == [
        SavingsRow("openai", "acct", "gpt-4.1-2025-04-14", usd_to_pico("0.15"))
    ]


def test_savings_add_up_over_buckets_projects_and_hours(ledger: Ledger) -> None:
    table = PriceTable.bundled()
    use(ledger, table, row(cached_input=100_000), row(hour=D1 + HOUR, project="q", cached_input=300_000))
    assert savings_by(ledger, table) == {("openai", "acct", "gpt-4.1-2025-04-14"): usd_to_pico("0.60")}
    assert savings_by(ledger, table, ("project",)) == {
        ("p",): usd_to_pico("0.15"),
        ("q",): usd_to_pico("0.45"),
    }


def test_each_bucket_saves_at_the_price_in_force_at_its_start(ledger: Ledger) -> None:
    table = PriceTable.load(overrides=gpt41_input_override("2026-11-21", input_usd="2.50"))
    use(
        ledger,
        table,
        row(hour=D1 + 23 * HOUR, cached_input=100_000),
        row(hour=D1 + DAY, cached_input=100_000),
    )
    # (2.00 - 0.50) and then (2.50 - 0.50) per 1M tokens, 100,000 tokens each
    assert savings_by(ledger, table) == {("openai", "acct", "gpt-4.1-2025-04-14"): usd_to_pico("0.35")}


def test_the_accounts_discount_applies_to_the_savings(ledger: Ledger) -> None:
    table = PriceTable.bundled()
    discounts = {"acct": Decimal(20)}
    use(ledger, table, row(cached_input=100_000), discounts=discounts)
    assert savings_by(ledger, table, discounts=discounts) == {
        ("openai", "acct", "gpt-4.1-2025-04-14"): usd_to_pico("0.12")
    }


def test_anthropic_cache_reads_save_against_the_input_price(ledger: Ledger) -> None:
    table = PriceTable.bundled()
    use(
        ledger,
        table,
        row("claude-sonnet-4-5-20250929", tier="standard", cached_input=1_000_000, cache_write=1_000_000),
    )
    # cache reads cost 0.30 instead of 3.00; the cache-write premium is not part of the savings
    assert cache_savings(ledger, table)[0].saved_pico == usd_to_pico("2.70")


def test_unknown_models_and_uncached_usage_save_nothing(ledger: Ledger) -> None:
    table = PriceTable.bundled()
    use(ledger, table, row("mystery-model", cached_input=100_000), row(input=100_000))
    assert cache_savings(ledger, table) == []


def test_a_time_range_limits_the_savings(ledger: Ledger) -> None:
    table = PriceTable.bundled()
    use(ledger, table, row(cached_input=100_000), row(hour=D1 + DAY, cached_input=200_000))
    assert savings_by(ledger, table, start=D1 + DAY, end=D1 + 2 * DAY) == {
        ("openai", "acct", "gpt-4.1-2025-04-14"): usd_to_pico("0.30")
    }


def test_what_if_prices_the_same_tokens_at_batch_and_at_the_cheaper_model(ledger: Ledger) -> None:
    table = PriceTable.bundled()
    use(ledger, table, row(input=100_000, output=2_000))
    [estimate] = what_if(ledger, table, D1, D1 + DAY)
    assert estimate.actual_pico == usd_to_pico("0.216")
    assert estimate.batch_pico == usd_to_pico("0.108")
    assert estimate.flex_pico is None  # gpt-4.1 has no flex price
    assert (estimate.cheaper_model, estimate.cheaper_pico) == ("gpt-4.1-mini", usd_to_pico("0.0432"))


def test_what_if_gives_a_flex_price_where_the_model_has_one(ledger: Ledger) -> None:
    table = PriceTable.bundled()
    flex_models = [e.model for e in table.entries_in_force(D1) if e.provider == "openai" and e.tier == "flex"]
    assert flex_models
    entry = table.price_for("openai", flex_models[0], "flex", "", D1)
    assert entry is not None
    use(ledger, table, row(flex_models[0], input=1_000_000))
    [estimate] = what_if(ledger, table, D1, D1 + DAY)
    assert estimate.flex_pico == entry.rates[0] * 1_000_000


def test_what_if_is_per_account_project_and_model(ledger: Ledger) -> None:
    table = PriceTable.bundled()
    use(ledger, table, row(input=1), row(project="q", input=1), row("gpt-4.1-mini-2025-04-14", input=1))
    keys = [(w.account, w.project, w.model) for w in what_if(ledger, table, D1, D1 + DAY)]
    assert keys == [
        ("acct", "p", "gpt-4.1-2025-04-14"),
        ("acct", "p", "gpt-4.1-mini-2025-04-14"),
        ("acct", "q", "gpt-4.1-2025-04-14"),
    ]


# -- CumulativeSavings: the daemon's all-time savings, re-reading only what changed --------------


def write_page(ledger: Ledger, table: PriceTable, *rows: UsageRow, observed_at: int) -> None:
    """Write rows as the daemon does: one page per bucket, recording the buckets' observation."""
    for start in sorted({r.bucket_start for r in rows}):
        bucket = [r for r in rows if r.bucket_start == start]
        ledger.write_page(
            UsagePage(
                "openai", "acct", "completions", HOUR, (start,), tuple(bucket), observed_at, start + HOUR
            ),
            Pricer(table).price_rows(bucket),
        )


def test_cumulative_savings_equal_a_fresh_computation_after_each_kind_of_write(ledger: Ledger) -> None:
    table = PriceTable.bundled()
    savings = CumulativeSavings(table)
    assert savings.rows(ledger) == cache_savings(ledger, table) == []
    write_page(
        ledger, table, row(cached_input=100_000), row(hour=D1 + DAY, cached_input=50_000), observed_at=10
    )
    assert savings.rows(ledger) == cache_savings(ledger, table)
    write_page(ledger, table, row(hour=D1 + DAY, cached_input=80_000), observed_at=20)  # a revised bucket
    assert savings.rows(ledger) == cache_savings(ledger, table)
    use(ledger, table, row(hour=D1 + 2 * HOUR, model="gpt-4.1-mini", cached_input=7_000))  # no observation
    assert savings.rows(ledger) == cache_savings(ledger, table)
    assert [r.model for r in savings.rows(ledger)] == ["gpt-4.1-2025-04-14", "gpt-4.1-mini"]


def test_cumulative_savings_reread_only_the_days_observed_since_the_last_call(ledger: Ledger) -> None:
    table = PriceTable.bundled()
    savings = CumulativeSavings(table)
    write_page(ledger, table, row(cached_input=100_000), observed_at=10)
    savings.rows(ledger)
    write_page(ledger, table, row(hour=D1 + DAY, cached_input=100_000), observed_at=20)
    assert savings.rows(ledger) == [SavingsRow("openai", "acct", "gpt-4.1-2025-04-14", usd_to_pico("0.30"))]
    assert (savings.full_reads, savings.partial_reads) == (1, 1)


def test_cumulative_savings_read_everything_again_when_totals_disagree(ledger: Ledger) -> None:
    table = PriceTable.bundled()
    savings = CumulativeSavings(table)
    write_page(ledger, table, row(cached_input=100_000), observed_at=10)
    savings.rows(ledger)
    use(ledger, table, row(hour=D1 + HOUR, cached_input=100_000))  # bypasses the observations
    assert savings.rows(ledger) == [SavingsRow("openai", "acct", "gpt-4.1-2025-04-14", usd_to_pico("0.30"))]
    assert savings.full_reads == 2
