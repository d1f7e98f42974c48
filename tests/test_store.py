"""The ledger's write semantics: observations replace buckets, cursors move with the page, totals stay exact."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_store_support import (
    ACCOUNT,
    ENDPOINT,
    HOUR,
    page_of,
    price,
    recomputed_totals,
    usage,
    usage_dump,
    write,
)

from monitor.errors import StoreError
from monitor.records import PricedRow
from monitor.store import Ledger

T0 = 1_717_200_000  # 2024-06-01T00:00:00Z


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger.open(tmp_path / "ledger.db") as opened:
        yield opened


def test_writing_the_same_page_twice_changes_nothing(ledger: Ledger) -> None:
    rows = [usage(T0, "p1", input=100, output=10), usage(T0 + HOUR, "p2", input=50)]
    write(ledger, rows, observed_at=1000)
    before = (usage_dump(ledger), ledger.totals(), ledger.cursors())

    write(ledger, rows, observed_at=1000)

    assert (usage_dump(ledger), ledger.totals(), ledger.cursors()) == before


def test_newer_observation_replaces_a_revised_row(ledger: Ledger) -> None:
    write(ledger, [usage(T0, "p1", input=100)], observed_at=1000)

    result = write(ledger, [usage(T0, "p1", input=250)], observed_at=2000)

    assert result.buckets_replaced == 1
    assert [r.tokens[0] for r, _ in ledger.iter_usage()] == [250]
    assert ledger.spend(T0, T0 + HOUR) == 250 * 2_000_000


def test_row_missing_from_a_newer_observation_is_removed(ledger: Ledger) -> None:
    write(ledger, [usage(T0, "p1", input=100), usage(T0, "p2", input=40)], observed_at=1000)

    write(ledger, [usage(T0, "p1", input=100)], observed_at=2000)

    assert [r.project for r, _ in ledger.iter_usage()] == ["p1"]
    assert [t["project"] for t in ledger.totals()] == ["p1"]


def test_empty_bucket_in_a_newer_observation_removes_its_rows(ledger: Ledger) -> None:
    write(ledger, [usage(T0, "p1", input=100)], observed_at=1000)

    write(ledger, [], observed_at=2000, buckets=[T0])

    assert list(ledger.iter_usage()) == []
    assert ledger.totals() == []


def test_older_observation_is_ignored(ledger: Ledger) -> None:
    write(ledger, [usage(T0, "p1", input=100)], observed_at=2000)

    result = write(ledger, [usage(T0, "p1", input=999), usage(T0, "p9", input=5)], observed_at=1000)

    assert (result.rows_written, result.rows_stale) == (0, 2)
    assert [(r.project, r.tokens[0]) for r, _ in ledger.iter_usage()] == [("p1", 100)]


def test_pages_of_one_observation_merge(ledger: Ledger) -> None:
    write(ledger, [usage(T0, "p1", input=100)], observed_at=1000, buckets=[T0])

    write(ledger, [usage(T0, "p2", input=30)], observed_at=1000, buckets=[T0])

    assert sorted(r.project for r, _ in ledger.iter_usage()) == ["p1", "p2"]
    assert ledger.spend(T0, T0 + HOUR) == 130 * 2_000_000


def test_stale_buckets_are_skipped_while_newer_ones_in_the_same_page_are_written(ledger: Ledger) -> None:
    write(ledger, [usage(T0, "p1", input=100)], observed_at=3000)

    result = write(ledger, [usage(T0, "p1", input=1), usage(T0 + HOUR, "p1", input=7)], observed_at=2000)

    assert (result.rows_written, result.rows_stale) == (1, 1)
    assert [(r.bucket_start, r.tokens[0]) for r, _ in ledger.iter_usage()] == [(T0, 100), (T0 + HOUR, 7)]


def test_cursor_moves_to_the_page_closed_until_and_never_back(ledger: Ledger) -> None:
    assert ledger.cursor(ACCOUNT, ENDPOINT) is None
    write(ledger, [usage(T0, input=1)], observed_at=1000, closed_until=T0 + 5 * HOUR)
    write(ledger, [usage(T0, input=1)], observed_at=2000, closed_until=T0 + 2 * HOUR)

    assert ledger.cursor(ACCOUNT, ENDPOINT) == T0 + 5 * HOUR
    assert ledger.cursors() == {(ACCOUNT, ENDPOINT): T0 + 5 * HOUR}


def test_failure_mid_transaction_leaves_neither_rows_nor_cursor(ledger: Ledger) -> None:
    write(ledger, [usage(T0, "p1", input=100)], observed_at=1000, closed_until=T0 + HOUR)
    before = (usage_dump(ledger), ledger.totals(), ledger.cursors())
    good = price(usage(T0, "p2", input=5))
    too_big = PricedRow(usage(T0, "p3", input=5), good.costs, 2**70, "test@1")  # beyond SQLite's int64
    page = page_of([good.usage, too_big.usage], observed_at=2000, closed_until=T0 + 9 * HOUR)

    with pytest.raises(StoreError, match=r"non-token cost .* beyond what one row can hold"):
        ledger.write_page(page, [good, too_big])

    assert (usage_dump(ledger), ledger.totals(), ledger.cursors()) == before


def test_row_of_another_account_in_a_page_is_refused(ledger: Ledger) -> None:
    stranger = usage(T0, account="other")
    with pytest.raises(StoreError, match="other/completions"):
        ledger.write_page(page_of([usage(T0)], 1000), [price(stranger)])


def test_upsert_priced_keeps_the_newer_row(ledger: Ledger) -> None:
    ledger.upsert_priced([price(usage(T0, input=10))], observed_at=2000)

    written = ledger.upsert_priced([price(usage(T0, input=99))], observed_at=1000)

    assert written == 0
    assert [r.tokens[0] for r, _ in ledger.iter_usage()] == [10]
    assert ledger.totals() == recomputed_totals(ledger)


def test_totals_equal_a_full_recomputation_after_random_writes(ledger: Ledger) -> None:
    rng = random.Random(7)
    for _ in range(40):
        buckets = rng.sample([T0 + i * HOUR for i in range(6)], rng.randint(0, 3))
        rows = [
            usage(
                b,
                f"p{rng.randint(1, 4)}",
                f"m{rng.randint(1, 3)}",
                input=rng.randint(0, 900),
                output=rng.randint(0, 90),
            )
            for b in buckets
            for _ in range(rng.randint(0, 4))
        ]
        write(ledger, rows, observed_at=rng.randint(1, 30), buckets=buckets)

    assert ledger.totals() == recomputed_totals(ledger)
    assert sum(t["cost_total"] for t in ledger.totals()) == ledger.spend(0, 2**40)


def test_totals_count_unpriced_tokens_and_cached_input(ledger: Ledger) -> None:
    write(
        ledger,
        [usage(T0, "p1", "mystery-model", input=70), usage(T0, "p1", input=10, cached=40, audio=3)],
        1000,
    )

    assert ledger.unpriced() == [
        {"provider": "openai", "account": ACCOUNT, "model": "gpt-x", "tokens": 3},
        {"provider": "openai", "account": ACCOUNT, "model": "mystery-model", "tokens": 70},
    ]
    by_model = {t["model"]: t for t in ledger.totals()}
    assert by_model["gpt-x"]["tokens"]["cached_input"] == 40
    assert by_model["gpt-x"]["costs"]["cached_input"] == 40 * 500_000


def test_units_round_trip(ledger: Ledger) -> None:
    row = usage(T0, units=(("images", 4), ("web_search_requests", 10)))
    write(ledger, [row], 1000)

    assert list(ledger.iter_usage()) == [(row, "test@1")]


def test_sums_past_int64_stay_exact_in_totals_and_queries(ledger: Ledger) -> None:
    huge = PricedRow(usage(T0, input=1), (6 * 10**18 + 7, *(0,) * 10), 3, "test@1")
    ledger.upsert_priced([huge], observed_at=1)
    ledger.upsert_priced([PricedRow(usage(T0 + HOUR, input=1), huge.costs, 3, "test@1")], observed_at=1)
    expected = 2 * (6 * 10**18 + 7 + 3)  # past 2**63 - 1

    (total,) = ledger.totals()
    assert (total["cost_total"], total["costs"]["input"], total["unit_cost"]) == (expected, expected - 6, 6)
    assert ledger.spend(0, 2**40) == expected
    (by_day,) = ledger.spend_by(["provider"], 0, 2**40)
    assert by_day["cost_total"] == expected
    assert sum(cost for *_, cost in ledger.hourly_spend(0, 2**40)) == expected


def test_a_row_past_int64_is_refused_naming_the_field_and_nothing_is_stored(ledger: Ledger) -> None:
    ledger.upsert_priced([price(usage(T0, input=1))], observed_at=1)
    before = (usage_dump(ledger), ledger.totals())
    costs = (5 * 10**18, *(0,) * 3, 5 * 10**18, *(0,) * 6)  # each cost fits ($5M), their total does not

    with pytest.raises(
        StoreError, match=r"p1\) has total cost \$10,000,000\.00, beyond what one row can hold"
    ):
        ledger.upsert_priced([PricedRow(usage(T0 + HOUR, input=1), costs, 0, "test@1")], observed_at=2)

    assert (usage_dump(ledger), ledger.totals()) == before


def test_record_poll_keeps_the_last_poll_per_endpoint(ledger: Ledger) -> None:
    ledger.record_poll(ACCOUNT, ENDPOINT, started=10, finished=12, ok=False, error="HTTP 503", rows=0)
    ledger.record_poll(ACCOUNT, ENDPOINT, started=20, finished=25, ok=True, rows=42)
    ledger.record_poll(ACCOUNT, "embeddings", started=20, finished=21, ok=True)

    polls = {(p.endpoint, p.started, p.ok, p.error, p.rows) for p in ledger.polls()}
    assert polls == {(ENDPOINT, 20, True, "", 42), ("embeddings", 20, True, "", 0)}


def test_account_providers_name_the_provider_of_each_account_with_usage(ledger: Ledger) -> None:
    assert ledger.account_providers() == {}
    write(ledger, [usage(T0, "p1", input=1)], 1000)

    assert ledger.account_providers() == {ACCOUNT: "openai"}


def test_coverage_starts_at_the_latest_first_bucket_of_the_accounts_endpoints(ledger: Ledger) -> None:
    write(ledger, [usage(T0 + HOUR, "p1", input=1)], 1000)
    ledger.write_page(page_of([], observed_at=1000, buckets=(T0 + 5 * HOUR,), endpoint="embeddings"), [])

    assert ledger.coverage_starts() == {ACCOUNT: T0 + 5 * HOUR}
