"""The provider simulator over real loopback HTTP: response shapes, paging, limits, grouping, the field
identities, and ground truth / bills against what a client actually fetches."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from test_simulator_support import (
    ALL_ANTHROPIC_GROUPS,
    ALL_OPENAI_GROUPS,
    ANTHROPIC_AUTH,
    ANTHROPIC_FIELDS,
    COMPLETIONS,
    COST_REPORT,
    COSTS,
    DAY,
    EMBEDDINGS,
    HOUR,
    MESSAGES,
    NOW,
    OPENAI_AUTH,
    OPENAI_TOKEN_FIELDS,
    TODAY,
    Clock,
    anthropic_buckets,
    iso,
    openai_buckets,
    price_anthropic_row,
    price_openai_row,
    rows_of,
)

from monitor.records import TOKEN_TYPES
from monitor.simulator import SEEDS_ANTHROPIC_MODELS, SEEDS_OPENAI_MODELS, Simulator

START = TODAY - 2 * DAY
COMPLETION_FIELDS = {
    "object",
    "input_tokens",
    "input_cached_tokens",
    "input_cache_write_tokens",
    "input_uncached_tokens",
    "output_tokens",
    "num_model_requests",
    *OPENAI_TOKEN_FIELDS,
    *ALL_OPENAI_GROUPS,
}
MAX_LIMIT = {"1m": 1440, "1h": 168, "1d": 31}
NUMBERS = sorted(COMPLETION_FIELDS - {"object", *ALL_OPENAI_GROUPS})


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    # The seeds' traffic: these tests price rows with the sheet alone (no geo, fast mode or dated change);
    # today's traffic has its own tests (test_simulator_today.py).
    with Simulator(
        seed=7,
        clock=Clock(),
        extra_token_types=True,
        openai_models=SEEDS_OPENAI_MODELS,
        anthropic_models=SEEDS_ANTHROPIC_MODELS,
    ) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as c:
        yield c


def completions(client: httpx.Client, sim: Simulator, groups: list[str], **params: Any) -> list[Any]:
    params = {"start_time": START, "end_time": NOW, "bucket_width": "1h", **params}
    params.setdefault("limit", MAX_LIMIT[params["bucket_width"]])
    return openai_buckets(client, sim, COMPLETIONS, **{"group_by[]": groups, **params})


# ---- OpenAI shapes -------------------------------------------------------------------------------------


def test_openai_completions_rows_have_every_current_field(client: httpx.Client, sim: Simulator) -> None:
    response = client.get(
        sim.openai_base_url + COMPLETIONS,
        params={"start_time": START, "bucket_width": "1d", "group_by[]": ALL_OPENAI_GROUPS},
        headers=OPENAI_AUTH,
    )
    body = response.json()
    assert set(body) == {"object", "data", "has_more", "next_page"} and body["object"] == "page"
    bucket = body["data"][0]
    assert set(bucket) == {"object", "start_time", "end_time", "results"} and bucket["object"] == "bucket"
    assert bucket["results"]
    for row in bucket["results"]:
        assert set(row) == COMPLETION_FIELDS
        assert row["object"] == "organization.usage.completions.result"
        assert all(type(row[field]) is int and row[field] >= 0 for field in NUMBERS)
        assert row["project_id"].startswith("proj_") and row["api_key_id"].startswith("key_")
        assert row["user_id"].startswith("user-") and isinstance(row["batch"], bool)


def test_openai_identities_hold_in_every_row(client: httpx.Client, sim: Simulator) -> None:
    rows = rows_of(completions(client, sim, ALL_OPENAI_GROUPS))
    for r in rows:
        assert (
            r["input_tokens"]
            == r["input_cached_tokens"] + r["input_cache_write_tokens"] + r["input_uncached_tokens"]
        )
        assert (
            r["input_uncached_tokens"]
            == r["input_text_tokens"] + r["input_audio_tokens"] + r["input_image_tokens"]
        )
        cached_parts = (
            r["input_cached_text_tokens"] + r["input_cached_audio_tokens"] + r["input_cached_image_tokens"]
        )
        assert r["input_cached_tokens"] == cached_parts
        assert (
            r["output_tokens"]
            == r["output_text_tokens"] + r["output_audio_tokens"] + r["output_image_tokens"]
        )
    # the identities are exercised by rows where every part is non-zero
    assert any(
        r["input_image_tokens"] and r["input_cache_write_tokens"] and r["input_cached_tokens"] for r in rows
    )


def test_the_generated_usage_has_batch_fast_fine_tuned_and_dated_models(
    client: httpx.Client, sim: Simulator
) -> None:
    rows = rows_of(completions(client, sim, ["model", "batch", "service_tier"]))
    kinds = {(r["model"], r["batch"], r["service_tier"]) for r in rows}
    assert ("gpt-4.1-mini-2025-04-14", True, "default") in kinds
    assert ("gpt-4.1-2025-04-14", False, "fast") in kinds  # OpenAI's Priority is called Fast since 2026-07-30
    assert any(model.startswith("ft:gpt-4.1-mini-2025-04-14:") for model, _, _ in kinds)
    assert {model for model, _, _ in kinds} >= {"gpt-4.1-nano-2025-04-14", "gpt-4.1-mini-2025-04-14"}


def test_dimensions_not_grouped_are_null(client: httpx.Client, sim: Simulator) -> None:
    rows = rows_of(completions(client, sim, ["model"]))
    assert rows and all(r["model"] for r in rows)
    assert all(r[g] is None for r in rows for g in ALL_OPENAI_GROUPS if g != "model")


def test_ungrouped_totals_equal_the_sum_of_grouped_rows(client: httpx.Client, sim: Simulator) -> None:
    params = {"bucket_width": "1d"}
    ungrouped = completions(client, sim, [], **params)
    grouped = completions(client, sim, ALL_OPENAI_GROUPS, **params)
    by_project = completions(client, sim, ["project_id"], **params)
    assert [b["start_time"] for b in ungrouped] == [b["start_time"] for b in grouped]
    for plain, full, projects in zip(ungrouped, grouped, by_project, strict=True):
        assert len(plain["results"]) == 1 and len({r["project_id"] for r in projects["results"]}) == len(
            projects["results"]
        )
        for field in NUMBERS:
            assert plain["results"][0][field] == sum(r[field] for r in full["results"])
            assert plain["results"][0][field] == sum(r[field] for r in projects["results"])


def test_repeated_group_by_is_accepted_like_the_bracket_form(client: httpx.Client, sim: Simulator) -> None:
    params = {"start_time": START, "bucket_width": "1d"}
    url = sim.openai_base_url + COMPLETIONS
    brackets = client.get(url, params={**params, "group_by[]": ["model", "project_id"]}, headers=OPENAI_AUTH)
    repeated = client.get(url, params={**params, "group_by": ["model", "project_id"]}, headers=OPENAI_AUTH)
    assert repeated.status_code == 200 and repeated.json() == brackets.json()
    assert all(r["project_id"] for r in rows_of(repeated.json()["data"]))


@pytest.mark.parametrize(
    "name",
    [
        "moderations",
        "images",
        "audio_speeches",
        "audio_transcriptions",
        "vector_stores",
        "code_interpreter_sessions",
        "file_search_calls",
        "web_search_calls",
    ],
)
def test_other_openai_usage_endpoints_answer_valid_empty_buckets(
    client: httpx.Client, sim: Simulator, name: str
) -> None:
    found = openai_buckets(
        client, sim, f"/organization/usage/{name}", start_time=START, group_by="project_id"
    )
    assert [b["start_time"] for b in found] == [START, START + DAY, START + 2 * DAY]
    assert all(b["results"] == [] and b["object"] == "bucket" for b in found)


def test_embeddings_rows_have_their_own_fields(client: httpx.Client, sim: Simulator) -> None:
    found = openai_buckets(
        client, sim, EMBEDDINGS, start_time=START, **{"group_by[]": ["model", "project_id"]}
    )
    rows = rows_of(found)
    assert rows and {r["model"] for r in rows} == {"text-embedding-3-small"}
    expected = {
        "object",
        "input_tokens",
        "num_model_requests",
        "project_id",
        "user_id",
        "api_key_id",
        "model",
    }
    assert all(set(r) == expected and r["object"] == "organization.usage.embeddings.result" for r in rows)


# ---- paging and limits ---------------------------------------------------------------------------------


def test_pages_cover_every_bucket_exactly_once(client: httpx.Client, sim: Simulator) -> None:
    params = {"start_time": START, "end_time": START + 30 * HOUR, "bucket_width": "1h", "limit": 7}
    bodies = []
    url = sim.openai_base_url + COMPLETIONS
    while True:
        body = client.get(url, params=params, headers=OPENAI_AUTH).json()
        bodies.append(body)
        if not body["has_more"]:
            break
        params["page"] = body["next_page"]
    starts = [b["start_time"] for body in bodies for b in body["data"]]
    assert starts == list(range(START, START + 30 * HOUR, HOUR))
    assert [len(body["data"]) for body in bodies] == [7, 7, 7, 7, 2]
    assert bodies[-1]["next_page"] is None and all(
        b["end_time"] - b["start_time"] == HOUR for b in bodies[0]["data"]
    )


def test_an_unaligned_start_snaps_to_the_bucket_boundary(client: httpx.Client, sim: Simulator) -> None:
    found = openai_buckets(client, sim, COMPLETIONS, start_time=START + 5 * HOUR + 17, bucket_width="1d")
    assert [b["start_time"] for b in found] == [START, START + DAY, START + 2 * DAY]


def test_buckets_stop_at_the_current_hour(client: httpx.Client, sim: Simulator) -> None:
    found = openai_buckets(client, sim, COMPLETIONS, start_time=NOW - 5 * HOUR, bucket_width="1h")
    current = NOW - NOW % HOUR
    assert [b["start_time"] for b in found] == list(range(current - 5 * HOUR, current + HOUR, HOUR))


@pytest.mark.parametrize(("width", "default"), [("1m", 60), ("1h", 24), ("1d", 7)])
def test_the_default_limit_depends_on_the_bucket_width(
    client: httpx.Client, sim: Simulator, width: str, default: int
) -> None:
    params = {"start_time": START - 20 * DAY, "bucket_width": width}
    body = client.get(sim.openai_base_url + COMPLETIONS, params=params, headers=OPENAI_AUTH).json()
    assert len(body["data"]) == default and body["has_more"]


@pytest.mark.parametrize(("width", "maximum"), [("1m", 1440), ("1h", 168), ("1d", 31)])
def test_a_limit_above_the_maximum_is_rejected(
    client: httpx.Client, sim: Simulator, width: str, maximum: int
) -> None:
    url = sim.openai_base_url + COMPLETIONS
    params = {"start_time": START - 60 * DAY, "bucket_width": width}
    assert client.get(url, params={**params, "limit": maximum}, headers=OPENAI_AUTH).status_code == 200
    refused = client.get(url, params={**params, "limit": maximum + 1}, headers=OPENAI_AUTH)
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "limit"


@pytest.mark.parametrize(
    ("path", "params", "param"),
    [
        (COMPLETIONS, {}, "start_time"),
        (COMPLETIONS, {"start_time": "yesterday"}, "start_time"),
        (COMPLETIONS, {"start_time": START, "bucket_width": "1w"}, "bucket_width"),
        (COMPLETIONS, {"start_time": START, "group_by[]": "line_item"}, "group_by"),
        (COMPLETIONS, {"start_time": START, "end_time": START}, "end_time"),
        (COMPLETIONS, {"start_time": START, "page": "page_garbage"}, "page"),
        (COSTS, {"start_time": START, "bucket_width": "1h"}, "bucket_width"),
        (COSTS, {"start_time": START, "limit": 181}, "limit"),
        (COSTS, {"start_time": START, "group_by[]": "model"}, "group_by"),
    ],
)
def test_openai_rejects_bad_parameters_with_400(
    client: httpx.Client, sim: Simulator, path: str, params: dict[str, Any], param: str
) -> None:
    response = client.get(sim.openai_base_url + path, params=params, headers=OPENAI_AUTH)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param and param in error["message"]


def test_costs_default_to_seven_daily_buckets_and_allow_180(client: httpx.Client, sim: Simulator) -> None:
    url = sim.openai_base_url + COSTS
    params = {"start_time": START - 300 * DAY}
    assert len(client.get(url, params=params, headers=OPENAI_AUTH).json()["data"]) == 7
    assert len(client.get(url, params={**params, "limit": 180}, headers=OPENAI_AUTH).json()["data"]) == 180


# ---- ground truth and bills -----------------------------------------------------------------------------


def test_openai_ground_truth_equals_the_fetched_tokens_and_their_price(
    client: httpx.Client, sim: Simulator
) -> None:
    truth = sim.ground_truth("openai", START, NOW)
    rows = rows_of(completions(client, sim, ["model", "batch", "service_tier", "project_id"]))
    embedded = rows_of(
        openai_buckets(client, sim, EMBEDDINGS, start_time=START, end_time=NOW, bucket_width="1h", limit=168)
    )
    tokens = Counter({t: 0 for t in TOKEN_TYPES})
    for row in rows:
        for field, token_type in OPENAI_TOKEN_FIELDS.items():
            tokens[token_type] += row[field]
    tokens["input"] += sum(r["input_tokens"] for r in embedded)
    assert dict(truth.tokens) == dict(tokens)
    assert truth.requests == sum(r["num_model_requests"] for r in rows + embedded)
    embedded_by_model = rows_of(
        openai_buckets(
            client,
            sim,
            EMBEDDINGS,
            start_time=START,
            end_time=NOW,
            bucket_width="1h",
            limit=168,
            **{"group_by[]": "model"},
        )
    )
    assert truth.cost_pico == sum(price_openai_row(sim, r) for r in rows + embedded_by_model) > 0
    assert truth.by_endpoint["embeddings"].tokens["input"] == sum(r["input_tokens"] for r in embedded)


def test_openai_ground_truth_breaks_down_by_project_model_and_day(
    client: httpx.Client, sim: Simulator
) -> None:
    truth = sim.ground_truth("openai", START, TODAY, endpoint="completions")
    days = completions(
        client, sim, ["project_id", "model", "batch", "service_tier"], bucket_width="1d", end_time=TODAY
    )
    per_pair: Counter[tuple[str, str]] = Counter()
    for row in rows_of(days):
        per_pair[(row["project_id"], row["model"])] += price_openai_row(sim, row)
    assert {k: v.cost_pico for k, v in truth.by_project_model.items()} == dict(per_pair)
    for day in days:
        expected = sum(r["output_text_tokens"] for r in day["results"])
        assert truth.by_day[day["start_time"]].tokens["output"] == expected
    assert sum(t.cost_pico for t in truth.by_model.values()) == truth.cost_pico


def test_openai_costs_in_dollars_equal_the_bill_and_the_ground_truth(
    client: httpx.Client, sim: Simulator
) -> None:
    found = openai_buckets(
        client, sim, COSTS, start_time=START, **{"group_by[]": ["project_id", "line_item"]}
    )
    results = rows_of(found)
    pico = [Decimal(r["amount"]["value"]) * 10**12 for r in results]
    assert all(p == p.to_integral_value() for p in pico) and {r["amount"]["currency"] for r in results} == {
        "usd"
    }
    bill = sim.billed("openai", START, NOW)
    assert sum(pico) == bill.total_pico == sim.ground_truth("openai", START, NOW).cost_pico
    by_item: Counter[str] = Counter()
    for r, p in zip(results, pico, strict=True):
        by_item[r["line_item"]] += int(p)
    assert dict(by_item) == dict(bill.by_line_item)
    assert "gpt-4.1-mini-2025-04-14, input" in by_item and "gpt-4.1-2025-04-14, output (batch)" in by_item
    assert all(r["quantity_unit"] == "tokens" and r["quantity"] > 0 for r in results)


def test_ungrouped_costs_are_one_line_per_day(client: httpx.Client, sim: Simulator) -> None:
    found = openai_buckets(client, sim, COSTS, start_time=START)
    bill = sim.billed("openai", START, NOW)
    for bucket in found:
        (line,) = bucket["results"]
        assert line["line_item"] is None and line["project_id"] is None and line["quantity"] is None
        assert Decimal(line["amount"]["value"]) * 10**12 == bill.by_day[bucket["start_time"]]


# ---- Anthropic ------------------------------------------------------------------------------------------


def messages(client: httpx.Client, sim: Simulator, groups: list[str], **params: Any) -> list[Any]:
    params = {"starting_at": iso(START), "ending_at": iso(TODAY), "bucket_width": "1h", **params}
    params.setdefault("limit", MAX_LIMIT[params["bucket_width"]])
    return anthropic_buckets(client, sim, MESSAGES, **{"group_by[]": groups, **params})


def test_anthropic_usage_rows_have_the_documented_shape(client: httpx.Client, sim: Simulator) -> None:
    found = messages(client, sim, ALL_ANTHROPIC_GROUPS, bucket_width="1d")
    assert [b["starting_at"] for b in found] == [iso(START), iso(START + DAY)]
    assert all(set(b) == {"starting_at", "ending_at", "results"} for b in found)
    rows = rows_of(found)
    expected = {
        "uncached_input_tokens",
        "cache_creation",
        "cache_read_input_tokens",
        "output_tokens",
        "server_tool_use",
    }
    for row in rows:
        # The newer group dimensions are present too, null when not grouped by.
        assert set(row) == expected | set(ALL_ANTHROPIC_GROUPS) | {"inference_geo", "speed"}
        assert set(row["cache_creation"]) == {"ephemeral_1h_input_tokens", "ephemeral_5m_input_tokens"}
        assert set(row["server_tool_use"]) == {"web_search_requests"}
    kinds = {(r["model"], r["service_tier"], r["context_window"]) for r in rows}
    assert ("claude-sonnet-4-5-20250929", "standard", "200k-1M") in kinds
    assert ("claude-haiku-4-5-20251001", "batch", "0-200k") in kinds
    assert all(window == "0-200k" for model, _, window in kinds if not model.startswith("claude-sonnet"))
    assert any(r["workspace_id"] is None for r in rows) and any(r["api_key_id"] is None for r in rows)
    assert any(
        r["cache_creation"]["ephemeral_1h_input_tokens"] and r["server_tool_use"]["web_search_requests"]
        for r in rows
    )


def test_anthropic_ground_truth_equals_the_fetched_tokens_and_their_price(
    client: httpx.Client, sim: Simulator
) -> None:
    truth = sim.ground_truth("anthropic", START, TODAY)
    rows = rows_of(messages(client, sim, ["model", "service_tier", "context_window"]))
    for kind, read in ANTHROPIC_FIELDS.items():
        counted = sum(read(r) for r in rows)
        assert (truth.tokens.get(kind) if kind in truth.tokens else truth.units.get(kind)) == counted
    assert truth.cost_pico == sum(price_anthropic_row(sim, r) for r in rows) > 0
    assert truth.requests == 0  # the legacy report has no request count


def test_anthropic_ungrouped_totals_equal_the_sum_of_grouped_rows(
    client: httpx.Client, sim: Simulator
) -> None:
    plain = messages(client, sim, [], bucket_width="1d")
    full = messages(client, sim, ALL_ANTHROPIC_GROUPS, bucket_width="1d")
    for one, many in zip(plain, full, strict=True):
        (row,) = one["results"]
        for read in ANTHROPIC_FIELDS.values():
            assert read(row) == sum(read(r) for r in many["results"])


def test_anthropic_cost_report_in_cents_equals_the_bill(client: httpx.Client, sim: Simulator) -> None:
    found = anthropic_buckets(
        client, sim, COST_REPORT, starting_at=iso(START), **{"group_by[]": ["workspace_id", "description"]}
    )
    results = rows_of(found)
    assert all(isinstance(r["amount"], str) and r["currency"] == "USD" for r in results)
    pico = [Decimal(r["amount"]) * 10**10 for r in results]
    assert all(p == p.to_integral_value() for p in pico)
    bill = sim.billed("anthropic", START, NOW)
    assert sum(pico) == bill.total_pico == sim.ground_truth("anthropic", START, NOW).cost_pico
    search = [r for r in results if r["cost_type"] == "web_search"]
    assert search and all(r["token_type"] is None and r["context_window"] is None for r in search)
    first = next(r for r in results if r["description"] == "Claude Sonnet 4.5 Usage - Input Tokens")
    assert (first["model"], first["token_type"], first["service_tier"], first["context_window"]) == (
        "claude-sonnet-4-5-20250929",
        "uncached_input_tokens",
        "standard",
        "0-200k",
    )


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (MESSAGES, {}),
        (MESSAGES, {"starting_at": "2026-11-01 00:00:00"}),
        (MESSAGES, {"starting_at": iso(START), "bucket_width": "1h", "limit": 169}),
        (MESSAGES, {"starting_at": iso(START), "group_by[]": "description"}),
        (COST_REPORT, {"starting_at": iso(START), "limit": 32}),
        (COST_REPORT, {"starting_at": iso(START), "bucket_width": "1h"}),
        (COST_REPORT, {"starting_at": iso(START), "group_by[]": "api_key_id"}),
    ],
)
def test_anthropic_rejects_bad_parameters_with_400(
    client: httpx.Client, sim: Simulator, path: str, params: dict[str, Any]
) -> None:
    response = client.get(sim.anthropic_base_url + path, params=params, headers=ANTHROPIC_AUTH)
    assert response.status_code == 400
    assert response.json()["type"] == "error" and response.json()["error"]["type"] == "invalid_request_error"


def test_anthropic_ending_at_keeps_only_buckets_that_have_ended(client: httpx.Client, sim: Simulator) -> None:
    found = messages(client, sim, [], starting_at=iso(START), ending_at=iso(START + 5 * HOUR + 30 * 60))
    assert [b["starting_at"] for b in found] == [iso(START + h * HOUR) for h in range(5)]


# ---- widths and determinism -----------------------------------------------------------------------------


def test_minutes_split_the_hour_evenly_with_the_remainder_first(client: httpx.Client, sim: Simulator) -> None:
    hour = START + 15 * HOUR
    (whole,) = completions(client, sim, ALL_OPENAI_GROUPS, start_time=hour, end_time=hour + HOUR)
    minutes = completions(
        client, sim, ALL_OPENAI_GROUPS, start_time=hour, end_time=hour + HOUR, bucket_width="1m", limit=60
    )
    assert len(minutes) == 60
    for row in whole["results"]:
        key = tuple(row[g] for g in ALL_OPENAI_GROUPS)
        parts = [r for m in minutes for r in m["results"] if tuple(r[g] for g in ALL_OPENAI_GROUPS) == key]
        for field in ("output_text_tokens", "input_text_tokens", "num_model_requests"):
            values = [r[field] for r in parts] + [0] * (60 - len(parts))
            assert sum(values) == row[field]
            assert values == sorted(values, reverse=True) and values[0] - values[-1] <= 1


def test_a_day_is_the_sum_of_its_hours(client: httpx.Client, sim: Simulator) -> None:
    (day,) = messages(client, sim, [], bucket_width="1d", starting_at=iso(START), ending_at=iso(START + DAY))
    hours = messages(client, sim, [], starting_at=iso(START), ending_at=iso(START + DAY))
    assert len(hours) == 24 and any(not h["results"] for h in hours)  # quiet night hours exist
    for read in ANTHROPIC_FIELDS.values():
        assert read(day["results"][0]) == sum(read(r) for h in hours for r in h["results"])


def _fetch_once(seed: int) -> bytes:
    with Simulator(seed=seed, clock=Clock()) as other, httpx.Client() as c:
        params = {"start_time": START, "bucket_width": "1h", "limit": 48, "group_by[]": ALL_OPENAI_GROUPS}
        return c.get(other.openai_base_url + COMPLETIONS, params=params, headers=OPENAI_AUTH).content


def test_the_same_seed_gives_the_same_answer_and_another_seed_a_different_one() -> None:
    assert _fetch_once(3) == _fetch_once(3)
    assert _fetch_once(3) != _fetch_once(4)
