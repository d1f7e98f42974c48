"""Ledger read queries: spend in a range, by dimensions, per bucket, in a calendar period, within a Scope."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from test_store_support import HOUR, price, usage

from monitor.periods import to_unix
from monitor.records import PricedRow
from monitor.store import Ledger, Scope

USD = 10**12
INPUT = 2_000_000  # picodollars per input token in test_store_support.RATES

# 2024-03-31 is the spring-forward day in Berlin; 22:30 UTC that day is 00:30 on April 1 in Berlin.
MARCH_31_2230Z = to_unix(datetime(2024, 3, 31, 22, 30, tzinfo=UTC))
APRIL_2_UTC = to_unix(datetime(2024, 4, 2, 10, tzinfo=UTC))
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    rows = [
        usage(1000 * HOUR, "proj_a", "gpt-4.1", input=100, account="openai-prod"),
        usage(1000 * HOUR, "proj_a", "gpt-4.1-mini", input=10, account="openai-prod"),
        usage(1000 * HOUR, "proj_b", "gpt-4.1", input=1, account="openai-prod", api_key="key_1"),
        usage(1001 * HOUR, "proj_b", "gpt-4o", input=1000, account="openai-dev"),
        usage(
            1001 * HOUR, "wrk_1", "claude-sonnet-4", input=10000, account="anthropic", provider="anthropic"
        ),
    ]
    with Ledger.open(tmp_path / "ledger.db") as opened:
        opened.upsert_priced([price(r) for r in rows], observed_at=1)
        yield opened


ALL = (0, 2**40)


def test_spend_without_scope_sums_everything(ledger: Ledger) -> None:
    assert ledger.spend(*ALL) == 11111 * INPUT


def test_spend_range_is_half_open_on_bucket_start(ledger: Ledger) -> None:
    assert ledger.spend(1000 * HOUR, 1001 * HOUR) == 111 * INPUT
    assert ledger.spend(1001 * HOUR, 1002 * HOUR) == 11000 * INPUT


@pytest.mark.parametrize(
    ("scope", "tokens"),
    [
        (Scope(provider=("openai",)), 1111),
        (Scope(account=("openai-*",)), 1111),
        (Scope(account=("openai-prod", "anthropic")), 10111),
        (Scope(model=("gpt-4.1*",)), 111),
        (Scope(model=("gpt-4.1",)), 101),
        (Scope(project=("proj_?",), model=("gpt-4.1",)), 101),
        (Scope(api_key=("key_*",)), 1),
        (Scope(model=("GPT-4.1",)), 0),  # GLOB is case-sensitive, like the provider's model names
    ],
)
def test_spend_within_a_scope_matches_globs(ledger: Ledger, scope: Scope, tokens: int) -> None:
    assert ledger.spend(*ALL, scope) == tokens * INPUT


def test_scope_accepts_a_single_pattern_string(ledger: Ledger) -> None:
    assert Scope(model="gpt-4o") == Scope(model=("gpt-4o",))  # type: ignore[arg-type]


def test_spend_by_groups_and_sorts_by_the_dimensions(ledger: Ledger) -> None:
    rows = ledger.spend_by(["account", "project"], *ALL, Scope(provider=("openai",)))

    assert [(r["account"], r["project"], r["cost_total"]) for r in rows] == [
        ("openai-dev", "proj_b", 1000 * INPUT),
        ("openai-prod", "proj_a", 110 * INPUT),
        ("openai-prod", "proj_b", 1 * INPUT),
    ]
    assert rows[1]["tokens"]["input"] == 110
    assert rows[1]["costs"]["input"] == 110 * INPUT
    assert rows[1]["requests"] == 2


def test_spend_by_rejects_an_unknown_dimension(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="colour"):
        ledger.spend_by(["colour"], *ALL)


def test_spend_by_day_needs_a_timezone(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="timezone"):
        ledger.spend_by(["day"], *ALL)


def test_hourly_spend_lists_each_bucket_and_dimension(ledger: Ledger) -> None:
    assert ledger.hourly_spend(*ALL, ["provider"]) == [
        (1000 * HOUR, "openai", 111 * INPUT),
        (1001 * HOUR, "anthropic", 10000 * INPUT),
        (1001 * HOUR, "openai", 1000 * INPUT),
    ]


@pytest.fixture
def dst_ledger(tmp_path: Path) -> Iterator[Ledger]:
    rows = [usage(MARCH_31_2230Z - 30 * 60, input=1), usage(APRIL_2_UTC, input=2)]
    with Ledger.open(tmp_path / "dst.db") as opened:
        opened.upsert_priced([price(r) for r in rows], observed_at=1)
        yield opened


def test_spend_in_period_follows_the_local_calendar(dst_ledger: Ledger) -> None:
    at = datetime(2024, 4, 15, tzinfo=UTC)
    # The 22:00Z bucket of March 31 is already April 1 (00:00 CEST) in Berlin.
    assert dst_ledger.spend_in_period("month", at, BERLIN) == 3 * INPUT
    assert dst_ledger.spend_in_period("month", at, ZoneInfo("UTC")) == 2 * INPUT


def test_spend_by_day_labels_local_days(dst_ledger: Ledger) -> None:
    rows = dst_ledger.spend_by(["day"], *ALL, tz=BERLIN)
    assert [(r["day"], r["cost_total"]) for r in rows] == [
        ("2024-04-01", 1 * INPUT),
        ("2024-04-02", 2 * INPUT),
    ]


def test_spend_by_hour_labels_local_hours_with_their_offset(dst_ledger: Ledger) -> None:
    rows = dst_ledger.spend_by(["hour"], *ALL, tz=ZoneInfo("America/New_York"))
    assert [r["hour"] for r in rows] == ["2024-03-31T18:00:00-04:00", "2024-04-02T06:00:00-04:00"]


def test_spend_beyond_sqlite_int64_is_exact(tmp_path: Path) -> None:
    four_million_usd = 4_000_000 * USD  # three of these exceed 2**63 picodollars
    rows = [
        PricedRow(usage(day * 24 * HOUR, f"p{day}", input=1), (four_million_usd, *(0,) * 10), 7, "big@1")
        for day in range(3)
    ]
    with Ledger.open(tmp_path / "big.db") as ledger:
        ledger.upsert_priced(rows, observed_at=1)

        assert ledger.spend(*ALL) == 3 * four_million_usd + 21
        assert [r["cost_total"] for r in ledger.spend_by(["provider"], *ALL)] == [3 * four_million_usd + 21]
