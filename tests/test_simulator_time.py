"""The simulator over time: the open hour grows, late buckets appear, revisions raise counts, history has
a start, and a changed price changes the bills from its effective date on."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from test_simulator_support import (
    ALL_OPENAI_GROUPS,
    COMPLETIONS,
    DAY,
    HOUR,
    NOW,
    TODAY,
    Clock,
    openai_buckets,
)

from monitor.simulator import Simulator

NUMERIC = ("input_text_tokens", "input_cached_text_tokens", "output_text_tokens", "num_model_requests")
FIRST_HOUR = TODAY - DAY  # a Tuesday
BUSY_HOURS = [day + h * HOUR for day in (TODAY - 3 * DAY, TODAY - DAY) for h in range(8, 20)]
"""Daytime hours of a Sunday and a Tuesday: never idle."""


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as c:
        yield c


def hour_rows(client: httpx.Client, sim: Simulator, hour: int) -> dict[tuple[Any, ...], dict[str, Any]]:
    found = openai_buckets(
        client,
        sim,
        COMPLETIONS,
        start_time=hour,
        end_time=hour + HOUR,
        bucket_width="1h",
        **{"group_by[]": ALL_OPENAI_GROUPS},
    )
    assert [b["start_time"] for b in found] == [hour]
    return {tuple(r[g] for g in ALL_OPENAI_GROUPS): r for r in found[0]["results"]}


def test_the_open_hour_grows_with_the_clock_and_closed_hours_do_not(client: httpx.Client) -> None:
    clock = Clock(FIRST_HOUR + 14 * HOUR + 600)
    with Simulator(seed=5, clock=clock) as sim:
        open_hour, closed = FIRST_HOUR + 14 * HOUR, FIRST_HOUR + 13 * HOUR
        early, closed_early = hour_rows(client, sim, open_hour), hour_rows(client, sim, closed)
        clock.now += 1800
        later, closed_later = hour_rows(client, sim, open_hour), hour_rows(client, sim, closed)
        clock.now = open_hour + HOUR
        final = hour_rows(client, sim, open_hour)
    assert closed_early == closed_later
    assert set(early) <= set(later) == set(final)
    for key, row in later.items():
        for field in NUMERIC:
            assert early.get(key, {}).get(field, 0) <= row[field] <= final[key][field]
    total = sum(r["output_text_tokens"] for r in final.values())
    assert sum(r["output_text_tokens"] for r in early.values()) < total * 0.3  # 10 of 60 minutes
    assert sum(r["output_text_tokens"] for r in later.values()) > total * 0.5  # 40 of 60 minutes


def test_ground_truth_counts_the_open_hour_as_reported(client: httpx.Client) -> None:
    clock = Clock(FIRST_HOUR + 10 * HOUR + 1234)
    with Simulator(seed=5, clock=clock) as sim:
        rows = hour_rows(client, sim, FIRST_HOUR + 10 * HOUR)
        truth = sim.ground_truth(
            "openai", FIRST_HOUR + 10 * HOUR, FIRST_HOUR + 11 * HOUR, endpoint="completions"
        )
    assert truth.tokens["output"] == sum(r["output_text_tokens"] for r in rows.values()) > 0


def _hour_totals(
    client: httpx.Client, sim: Simulator, clock: Clock, hours: list[int], after: int
) -> list[int]:
    """Total output tokens of each hour, each seen `after` seconds after it closed."""
    totals = []
    for hour in hours:
        clock.now = hour + HOUR + after
        totals.append(sum(r["output_text_tokens"] for r in hour_rows(client, sim, hour).values()))
    return totals


def test_late_buckets_are_empty_until_three_hours_after_they_close(client: httpx.Client) -> None:
    hours = BUSY_HOURS
    clock, on_time_clock = Clock(), Clock()
    with (
        Simulator(seed=2, clock=clock, late_buckets=True) as sim,
        Simulator(seed=2, clock=on_time_clock) as on_time,
    ):
        soon = _hour_totals(client, sim, clock, hours, after=60)
        late = _hour_totals(client, sim, clock, hours, after=3 * HOUR)
        expected = _hour_totals(client, on_time, on_time_clock, hours, after=60)
        clock.now = hours[-1] + 4 * HOUR
        truth = [
            sim.ground_truth("openai", h, h + HOUR, endpoint="completions").tokens["output"] for h in hours
        ]
    assert all(expected) and late == expected == truth
    missing = [i for i, total in enumerate(soon) if total == 0]
    assert missing and len(missing) < len(hours) / 2
    assert all(soon[i] == expected[i] for i in range(len(hours)) if i not in missing)


def test_revisions_raise_some_hours_a_little_one_to_two_hours_after_close(client: httpx.Client) -> None:
    hours = BUSY_HOURS
    clock = Clock()
    with Simulator(seed=3, clock=clock, revisions=True) as sim:
        first = _hour_totals(client, sim, clock, hours, after=60)
        within_an_hour = _hour_totals(client, sim, clock, hours, after=HOUR - 60)
        final = _hour_totals(client, sim, clock, hours, after=2 * HOUR)
        truth = [
            sim.ground_truth("openai", h, h + HOUR, endpoint="completions").tokens["output"] for h in hours
        ]
    assert first == within_an_hour and final == truth
    raised = [i for i in range(len(hours)) if final[i] != first[i]]
    assert raised and len(raised) < len(hours) / 2
    assert all(first[i] < final[i] <= first[i] * 1.06 for i in raised)


def test_there_is_no_usage_before_the_history_start(client: httpx.Client) -> None:
    with Simulator(seed=1, clock=Clock(), start=FIRST_HOUR + 12 * HOUR) as sim:
        found = openai_buckets(client, sim, COMPLETIONS, start_time=FIRST_HOUR, bucket_width="1h", limit=24)
        truth = sim.ground_truth("openai", FIRST_HOUR, FIRST_HOUR + 12 * HOUR)
    assert all(not b["results"] for b in found[:12]) and all(b["results"] for b in found[12:])
    assert truth.cost_pico == 0


def _standard_input_tokens(client: httpx.Client, sim: Simulator, model: str, start: int, end: int) -> int:
    found = openai_buckets(
        client,
        sim,
        COMPLETIONS,
        start_time=start,
        end_time=end,
        bucket_width="1d",
        **{"group_by[]": ["model", "batch", "service_tier"]},
    )
    return sum(
        r["input_text_tokens"]
        for b in found
        for r in b["results"]
        if r["model"] == model and not r["batch"] and r["service_tier"] == "default"
    )


def test_a_changed_price_changes_the_bill_by_exactly_the_difference(client: httpx.Client) -> None:
    model, start, end = "gpt-4.1-mini-2025-04-14", TODAY - 3 * DAY, TODAY
    with Simulator(seed=9, clock=Clock()) as sim:
        before = sim.billed("openai", start, end)
        sim.set_price(model, "input", Decimal("0.55"))
        after = sim.billed("openai", start, end)
        tokens = _standard_input_tokens(client, sim, model, start, end)
        assert sim.prices[(model, "standard", "", "input")] == Decimal("0.55")
    assert tokens > 0
    assert after.total_pico - before.total_pico == tokens * (Decimal("0.55") - Decimal("0.4")) * 10**6


def test_a_dated_price_change_leaves_earlier_days_alone(client: httpx.Client) -> None:
    model, start = "claude-haiku-4-5-20251001", TODAY - 3 * DAY
    with Simulator(seed=9, clock=Clock()) as sim:
        before = sim.billed("anthropic", start, NOW)
        sim.set_price(model, "output", Decimal(6), effective_from=TODAY - DAY)
        after = sim.billed("anthropic", start, NOW)
    changed = {day for day in before.by_day if before.by_day[day] != after.by_day[day]}
    assert changed == {TODAY - DAY, TODAY}
    assert all(after.by_day[day] > before.by_day[day] for day in changed)


def test_an_unknown_price_is_refused() -> None:
    sim = Simulator(seed=1, clock=Clock())
    with pytest.raises(ValueError, match="no price"):
        sim.set_price("gpt-9", "input", Decimal(1))
    with pytest.raises(ValueError, match="at most 6 decimals"):
        sim.set_price("gpt-4.1-2025-04-14", "input", Decimal("0.0000001"))


def test_a_model_without_a_price_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="no price for OpenAI model 'gpt-9'"):
        Simulator(openai_models=["gpt-9"], clock=Clock())
