"""The simulator's default traffic of December 2026: today's models, tiers, cache writes, fast mode and geos."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from test_simulator_support import (
    ANTHROPIC_AUTH,
    COMPLETIONS,
    COST_REPORT,
    DAY,
    MESSAGES,
    TODAY,
    Clock,
    anthropic_buckets,
    iso,
    openai_buckets,
    rows_of,
)

from monitor.simulator import DEFAULT_ANTHROPIC_MODELS, DEFAULT_OPENAI_MODELS, Simulator

START = TODAY - 2 * DAY
OPENAI_GROUPS = ["model", "batch", "service_tier"]
CLAUDE_GROUPS = ["model", "service_tier", "context_window", "inference_geo", "speed"]
FAST_BETA = {"anthropic-beta": "fast-mode-2026-02-01"}


def at(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp())


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(seed=7, clock=Clock()) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as c:
        yield c


def completions(client: httpx.Client, sim: Simulator, start: int, end: int) -> list[dict[str, Any]]:
    params = {"start_time": start, "end_time": end, "bucket_width": "1d", "group_by[]": OPENAI_GROUPS}
    return rows_of(openai_buckets(client, sim, COMPLETIONS, **params))


def messages(client: httpx.Client, sim: Simulator, **headers: str) -> httpx.Response:
    params = {
        "starting_at": iso(START),
        "ending_at": iso(TODAY),
        "bucket_width": "1d",
        "group_by[]": CLAUDE_GROUPS,
    }
    return client.get(sim.anthropic_base_url + MESSAGES, params=params, headers={**ANTHROPIC_AUTH, **headers})


def test_the_default_models_are_todays_with_some_gpt_4_1() -> None:
    assert DEFAULT_OPENAI_MODELS[:2] == ("gpt-6.1-sol", "gpt-6-luna")
    assert "gpt-4.1-2025-04-14" in DEFAULT_OPENAI_MODELS
    assert DEFAULT_ANTHROPIC_MODELS[:2] == ("claude-sonnet-5-5", "claude-opus-5-5")


def test_gpt_6_1_sol_runs_on_the_default_fast_and_batch_tiers_with_cache_writes(
    client: httpx.Client, sim: Simulator
) -> None:
    found = completions(client, sim, START, TODAY)
    kinds = {(r["model"], r["batch"], r["service_tier"]) for r in found}
    assert {
        ("gpt-6.1-sol", False, "default"),
        ("gpt-6.1-sol", False, "fast"),
        ("gpt-6.1-sol", True, "default"),
    } <= kinds
    for tier in ((False, "default"), (False, "fast"), (True, "default")):
        sol = [r for r in found if (r["model"], r["batch"], r["service_tier"]) == ("gpt-6.1-sol", *tier)]
        assert sum(r["input_cache_write_tokens"] for r in sol) > 0, tier
    # GPT-4.1 has no published cache-write price: its traffic writes nothing to the cache
    assert all(r["input_cache_write_tokens"] == 0 for r in found if r["model"].startswith("gpt-4.1"))


def test_fast_rows_said_priority_before_openai_renamed_the_tier(client: httpx.Client) -> None:
    clock = Clock(at("2026-07-31T12:00:00"))
    first = at("2026-07-28T00:00:00")
    with Simulator(seed=7, clock=clock, start=first) as july:
        params = {
            "start_time": first,
            "end_time": first + 3 * DAY,
            "bucket_width": "1d",
            "group_by[]": OPENAI_GROUPS,
        }
        found = openai_buckets(client, july, COMPLETIONS, **params)
    words = {
        (b["start_time"], r["service_tier"])
        for b in found
        for r in b["results"]
        if r["service_tier"] != "default"
    }
    renamed = at("2026-07-30T00:00:00")
    assert {word for day, word in words if day < renamed} == {"priority"}
    assert {word for day, word in words if day >= renamed} == {"fast"}


def test_no_usage_of_a_model_before_its_release(client: httpx.Client) -> None:
    clock = Clock(at("2026-10-01T12:00:00"))
    with Simulator(seed=7, clock=clock, start=at("2026-09-26T00:00:00")) as autumn:
        before = completions(client, autumn, at("2026-09-26T00:00:00"), at("2026-09-29T00:00:00"))
        found = completions(client, autumn, at("2026-09-29T00:00:00"), at("2026-10-01T00:00:00"))
    assert "gpt-6.1-sol" not in {r["model"] for r in before}  # released at DevDay 2026-09-29
    assert "gpt-6-luna" in {r["model"] for r in before}  # released 2026-09-22
    assert {r["model"] for r in found} >= {"gpt-6-luna", "gpt-6.1-sol"}


def test_claude_5_5_has_fast_mode_us_inference_and_both_cache_writes(
    client: httpx.Client, sim: Simulator
) -> None:
    found = rows_of(messages(client, sim, **FAST_BETA).json()["data"])
    kinds = {(r["model"], r["service_tier"], r["inference_geo"], r["speed"]) for r in found}
    assert ("claude-opus-5-5", "standard", "global", "fast") in kinds
    assert ("claude-sonnet-5-5", "standard", "us", "standard") in kinds
    assert not any(model == "claude-sonnet-5-5" and speed == "fast" for model, _, _, speed in kinds)
    sonnet = [r for r in found if r["model"] == "claude-sonnet-5-5"]
    assert sum(r["cache_creation"]["ephemeral_5m_input_tokens"] for r in sonnet) > 0
    assert sum(r["cache_creation"]["ephemeral_1h_input_tokens"] for r in sonnet) > 0


def test_grouping_by_speed_needs_the_fast_mode_beta_header(client: httpx.Client, sim: Simulator) -> None:
    response = messages(client, sim)
    assert response.status_code == 400
    assert "fast-mode-2026-02-01" in response.json()["error"]["message"]


def test_the_bill_names_fast_mode_and_us_inference_and_equals_ground_truth(
    client: httpx.Client, sim: Simulator
) -> None:
    found = rows_of(
        anthropic_buckets(client, sim, COST_REPORT, starting_at=iso(START), **{"group_by[]": ["description"]})
    )
    descriptions = {r["description"] for r in found}
    assert "Claude Opus 5.5 Fast Mode Usage - Output Tokens" in descriptions
    assert "Claude Sonnet 5.5 Usage - Input Tokens (US)" in descriptions
    bill = sim.billed("anthropic", START, TODAY)
    assert bill.total_pico == sim.ground_truth("anthropic", START, TODAY).cost_pico


def test_us_inference_costs_1_1_times_and_the_sonnet_cache_read_cut_is_dated(sim: Simulator) -> None:
    before, after = at("2026-10-06T00:00:00"), at("2026-10-07T00:00:00")
    assert sim.price_at("claude-sonnet-5-5", "cached_input", before) == Decimal("0.2")
    assert sim.price_at("claude-sonnet-5-5", "cached_input", after) == Decimal("0.1")
    assert sim.price_at("claude-sonnet-5-5", "input", after, inference_geo="us") == Decimal("2.2")
    assert sim.price_at(
        "claude-opus-5-5", "input", after, service_tier="fast", inference_geo="us"
    ) == Decimal("8.8")
    assert sim.price_at("gpt-6.1-sol", "cache_write", after, service_tier="fast") == 5
