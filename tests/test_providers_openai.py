"""OpenAIProvider: request parameters, the token field mapping of both completions shapes, the
non-token endpoints, hostile payloads, pagination into UsagePages, and exact costs.

Expected numbers come from provider-apis.md (the §1.7 example, the §1.5 identities, the legacy
definitions) or are worked out by hand in the test, not computed by the code under test.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from monitor.errors import ProviderResponseError
from monitor.providers.openai import OpenAIProvider
from monitor.records import TOKEN_TYPES, BilledCost, UsagePage, tokens_of

SECRET = "sk-admin-openaiSECRET0123456789abcdef"
DAY = 86400
DAY0 = 1795132800  # 2026-11-20T00:00:00Z, the spec example's first bucket
LATER = DAY0 + 30 * DAY
Handler = Callable[[httpx.Request], httpx.Response]


def paged(*pages: list[dict[str, Any]], seen: list[httpx.Request] | None = None) -> Handler:
    """Serve `pages` (lists of buckets) in order, chained by the cursors c1, c2, ..."""

    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        index = int(request.url.params.get("page", "c0")[1:])
        more = index + 1 < len(pages)
        body = {
            "object": "page",
            "data": pages[index],
            "has_more": more,
            "next_page": f"c{index + 1}" if more else None,
        }
        return httpx.Response(200, json=body)

    return handler


def bucket(start: int, *results: dict[str, Any], width: int = DAY) -> dict[str, Any]:
    return {"object": "bucket", "start_time": start, "end_time": start + width, "results": list(results)}


def completion(**fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "object": "organization.usage.completions.result",
        "input_tokens": 0,
        "output_tokens": 0,
        "num_model_requests": 1,
    }
    row.update(fields)
    return row


def provider(handler: Handler, **kwargs: Any) -> OpenAIProvider:
    options: dict[str, Any] = {
        "account": "openai-prod",
        "api_key": SECRET,
        "base_url": "https://api.openai.test/v1",
        "bucket_width": "1d",
        "sleep": lambda _s: None,
        "transport": httpx.MockTransport(handler),
        "max_attempts": 2,
    }
    options.update(kwargs)
    return OpenAIProvider(**options)


def fetch(handler: Handler, endpoint: str = "completions", **kwargs: Any) -> list[UsagePage]:
    return list(
        provider(handler, **kwargs).fetch_usage(endpoint, DAY0, DAY0 + DAY, observed_at=123, now=LATER)
    )


def only_row_tokens(*results: dict[str, Any], endpoint: str = "completions") -> dict[str, int]:
    pages = fetch(paged([bucket(DAY0, *results)]), endpoint)
    (row,) = pages[0].rows
    return {name: n for name, n in zip(TOKEN_TYPES, row.tokens, strict=True) if n}


# -- requests ------------------------------------------------------------------------------------


def test_usage_request_carries_bearer_key_aligned_window_width_limit_and_bracketed_group_by() -> None:
    seen: list[httpx.Request] = []
    p = provider(paged([], seen=seen))
    list(p.fetch_usage("completions", DAY0 + 5000, DAY0 + DAY + 10, observed_at=1, now=LATER))
    request = seen[0]
    assert request.url.path == "/v1/organization/usage/completions"
    assert request.headers["authorization"] == f"Bearer {SECRET}"
    params = request.url.params
    assert (params["start_time"], params["end_time"]) == (str(DAY0), str(DAY0 + 2 * DAY))
    assert (params["bucket_width"], params["limit"]) == ("1d", "31")
    assert b"group_by[]=model&group_by[]=project_id" in request.url.query
    assert sorted(params.get_list("group_by[]")) == sorted(
        ["model", "project_id", "user_id", "api_key_id", "batch", "service_tier"]
    )


@pytest.mark.parametrize(
    ("endpoint", "group_by"),
    [
        ("embeddings", {"model", "project_id", "user_id", "api_key_id"}),
        ("moderations", {"model", "project_id", "user_id", "api_key_id"}),
        ("audio_speeches", {"model", "project_id", "user_id", "api_key_id"}),
        ("audio_transcriptions", {"model", "project_id", "user_id", "api_key_id"}),
        ("images", {"model", "project_id", "user_id", "api_key_id", "size", "source"}),
        ("vector_stores", {"project_id"}),
        ("code_interpreter_sessions", {"project_id"}),
        ("file_search_calls", {"project_id", "user_id", "api_key_id"}),
        ("web_search_calls", {"model", "project_id", "user_id", "api_key_id", "context_level"}),
    ],
)
def test_each_endpoint_groups_by_its_price_dimensions(endpoint: str, group_by: set[str]) -> None:
    seen: list[httpx.Request] = []
    fetch(paged([], seen=seen), endpoint)
    assert seen[0].url.path == f"/v1/organization/usage/{endpoint}"
    assert set(seen[0].url.params.get_list("group_by[]")) == group_by


@pytest.mark.parametrize(("width", "limit"), [("1m", "1440"), ("1h", "168"), ("1d", "31")])
def test_limit_is_the_maximum_buckets_per_page_for_the_width(width: str, limit: str) -> None:
    seen: list[httpx.Request] = []
    fetch(paged([], seen=seen), bucket_width=width)
    assert seen[0].url.params["limit"] == limit
    assert seen[0].url.params["bucket_width"] == width


def test_start_is_aligned_down_to_the_hour_for_hourly_buckets() -> None:
    seen: list[httpx.Request] = []
    p = provider(paged([], seen=seen), bucket_width="1h")
    list(p.fetch_usage("completions", DAY0 + 3 * 3600 + 59, DAY0 + 4 * 3600, observed_at=1, now=LATER))
    assert seen[0].url.params["start_time"] == str(DAY0 + 3 * 3600)


# -- completions: current shape ------------------------------------------------------------------

SPEC_EXAMPLE_ROW = completion(
    input_tokens=1250000,
    input_cached_tokens=600000,
    input_cache_write_tokens=50000,
    input_uncached_tokens=600000,
    output_tokens=180000,
    input_text_tokens=590000,
    output_text_tokens=180000,
    input_cached_text_tokens=600000,
    input_audio_tokens=0,
    input_cached_audio_tokens=0,
    output_audio_tokens=0,
    input_image_tokens=10000,
    input_cached_image_tokens=0,
    output_image_tokens=0,
    num_model_requests=4200,
    project_id="proj_9a1bC2dE3fG4hI5j",
    user_id=None,
    api_key_id=None,
    model="gpt-4.1-mini-2025-04-14",
    batch=None,
    service_tier=None,
)

# Every modality non-zero; the §1.5 identities hold: uncached 400 = 300 + 40 + 60,
# cached 200 = 150 + 30 + 20, input 700 = 200 + 100 + 400, output 100 = 80 + 15 + 5.
FULL_SPLIT = {
    "input_tokens": 700,
    "input_cached_tokens": 200,
    "input_cache_write_tokens": 100,
    "input_uncached_tokens": 400,
    "input_text_tokens": 300,
    "input_audio_tokens": 40,
    "input_image_tokens": 60,
    "input_cached_text_tokens": 150,
    "input_cached_audio_tokens": 30,
    "input_cached_image_tokens": 20,
    "output_tokens": 100,
    "output_text_tokens": 80,
    "output_audio_tokens": 15,
    "output_image_tokens": 5,
}
FULL_SPLIT_TOKENS = {
    "input": 300,
    "input_audio": 40,
    "input_image": 60,
    "cached_input": 150,
    "cached_input_audio": 30,
    "cached_input_image": 20,
    "cache_write": 100,
    "output": 80,
    "output_audio": 15,
    "output_image": 5,
}


def test_current_shape_maps_the_spec_example_row() -> None:
    pages = fetch(paged([bucket(DAY0, SPEC_EXAMPLE_ROW)]))
    (row,) = pages[0].rows
    assert row.tokens == tokens_of(
        input=590000, cached_input=600000, cache_write=50000, input_image=10000, output=180000
    )
    assert row.requests == 4200
    assert (row.project, row.model, row.api_key, row.user, row.service_tier, row.batch) == (
        "proj_9a1bC2dE3fG4hI5j",
        "gpt-4.1-mini-2025-04-14",
        "",
        "",
        "",
        False,
    )


def test_current_shape_maps_every_modality_to_its_token_type() -> None:
    assert only_row_tokens(completion(**FULL_SPLIT)) == FULL_SPLIT_TOKENS


def test_current_shape_tokens_add_up_to_the_reported_totals() -> None:
    tokens = only_row_tokens(completion(**FULL_SPLIT))
    assert sum(tokens.values()) == FULL_SPLIT["input_tokens"] + FULL_SPLIT["output_tokens"]


def test_text_counts_are_derived_when_the_text_split_is_absent() -> None:
    fields = {k: v for k, v in FULL_SPLIT.items() if "text" not in k}
    assert only_row_tokens(completion(**fields)) == FULL_SPLIT_TOKENS


def test_uncached_input_is_derived_from_the_totals_when_only_cache_writes_are_reported() -> None:
    fields = {k: v for k, v in FULL_SPLIT.items() if "text" not in k and k != "input_uncached_tokens"}
    assert only_row_tokens(completion(**fields)) == FULL_SPLIT_TOKENS


def test_any_field_of_the_current_shape_marks_the_row_as_current() -> None:
    # Uncached input and cache writes are zero and left out; output_text_tokens still marks the
    # current shape, where output_tokens (25) includes the audio (5) rather than adding to it.
    row = completion(
        input_tokens=60,
        input_cached_tokens=60,
        output_tokens=25,
        output_text_tokens=20,
        output_audio_tokens=5,
    )
    assert only_row_tokens(row) == {"cached_input": 60, "output": 20, "output_audio": 5}


def test_a_derived_count_that_goes_negative_rejects_the_page() -> None:
    row = completion(input_tokens=100, input_uncached_tokens=100, input_audio_tokens=150)
    with pytest.raises(ProviderResponseError, match="input_uncached_tokens - input_audio_tokens") as caught:
        fetch(paged([bucket(DAY0, row)]))
    assert "data[0].results[0]" in str(caught.value)


# -- completions: legacy shape -------------------------------------------------------------------


def test_legacy_shape_takes_cached_tokens_out_of_input() -> None:
    row = completion(
        input_tokens=1000,
        input_cached_tokens=400,
        output_tokens=200,
        input_audio_tokens=50,
        output_audio_tokens=20,
    )
    assert only_row_tokens(row) == {
        "input": 600,
        "cached_input": 400,
        "input_audio": 50,
        "output": 200,
        "output_audio": 20,
    }


def test_the_dec_2024_row_with_null_dimensions_is_read() -> None:
    row = {
        "object": "organization.usage.completions.result",
        "input_tokens": 5000,
        "input_cached_tokens": 1000,
        "output_tokens": 700,
        "num_model_requests": 12,
        "project_id": None,
        "user_id": None,
        "api_key_id": None,
        "model": None,
        "batch": None,
    }
    pages = fetch(paged([bucket(DAY0, row)]))
    (usage,) = pages[0].rows
    assert usage.tokens == tokens_of(input=4000, cached_input=1000, output=700)
    assert (usage.project, usage.model, usage.batch, usage.service_tier, usage.context_window) == (
        "",
        "",
        False,
        "",
        "",
    )


def test_legacy_cached_tokens_above_input_are_rejected() -> None:
    with pytest.raises(ProviderResponseError, match="input_tokens - input_cached_tokens"):
        fetch(paged([bucket(DAY0, completion(input_tokens=10, input_cached_tokens=11))]))


def test_null_optional_token_fields_read_as_zero() -> None:
    row = completion(input_tokens=50, output_tokens=5, input_cached_tokens=None, input_audio_tokens=None)
    assert only_row_tokens(row) == {"input": 50, "output": 5}


def test_unknown_extra_fields_are_ignored() -> None:
    row = completion(
        input_tokens=50, output_tokens=5, reasoning_tokens=999, inference_geo={"x": [1]}, speed="fast"
    )
    assert only_row_tokens(row) == {"input": 50, "output": 5}


def test_dimensions_are_copied_from_the_group_fields() -> None:
    row = completion(
        project_id="proj_a",
        api_key_id="key_b",
        user_id="user_c",
        model="gpt-4.1",
        batch=True,
        service_tier="flex",
    )
    (usage,) = fetch(paged([bucket(DAY0, row)]))[0].rows
    assert (usage.project, usage.api_key, usage.user, usage.model, usage.batch, usage.service_tier) == (
        "proj_a",
        "key_b",
        "user_c",
        "gpt-4.1",
        True,
        "flex",
    )
    assert (usage.provider, usage.account, usage.endpoint, usage.bucket_start, usage.bucket_width) == (
        "openai",
        "openai-prod",
        "completions",
        DAY0,
        DAY,
    )


# -- hostile payloads ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"input_tokens": -5}, "input_tokens"),
        ({"output_tokens": 10**18}, "output_tokens"),
        ({"input_cached_tokens": 1.5}, "input_cached_tokens"),
        ({"num_model_requests": "12"}, "num_model_requests"),
        ({"output_audio_tokens": True}, "output_audio_tokens"),
        ({"input_tokens": None}, "input_tokens"),
        ({"model": 5}, "model"),
        ({"project_id": ["p"]}, "project_id"),
        ({"batch": "yes"}, "batch"),
        ({"object": "organization.usage.embeddings.result"}, "object"),
    ],
)
def test_a_hostile_value_rejects_the_page_naming_the_field(change: dict[str, Any], field: str) -> None:
    row = completion(input_tokens=10, output_tokens=1)
    row.update(change)
    with pytest.raises(ProviderResponseError) as caught:
        fetch(paged([bucket(DAY0, row)]))
    message = str(caught.value)
    assert f"data[0].results[0].{field}" in message
    assert message.startswith("openai-prod: completions: ")
    assert SECRET not in message


def test_a_missing_required_count_is_rejected() -> None:
    row = completion()
    del row["num_model_requests"]
    with pytest.raises(ProviderResponseError, match="num_model_requests"):
        fetch(paged([bucket(DAY0, row)]))


@pytest.mark.parametrize(
    ("broken", "field"),
    [
        ({"object": "bucket", "start_time": DAY0 + 1, "end_time": DAY0 + DAY, "results": []}, "not aligned"),
        ({"object": "bucket", "start_time": DAY0, "end_time": DAY0, "results": []}, "before it starts"),
        ({"object": "bucket", "start_time": str(DAY0), "end_time": DAY0 + DAY, "results": []}, "start_time"),
        ({"object": "bucket", "start_time": DAY0, "end_time": DAY0 + DAY, "results": None}, "results"),
        ("bucket", "data[0]"),
    ],
)
def test_a_malformed_bucket_rejects_the_page(broken: Any, field: str) -> None:
    with pytest.raises(ProviderResponseError, match=re.escape(field)):
        fetch(paged([broken]))


def test_a_rejected_payload_counts_as_a_bad_response() -> None:
    p = provider(paged([bucket(DAY0, completion(input_tokens=-1))]))
    with pytest.raises(ProviderResponseError):
        list(p.fetch_usage("completions", DAY0, DAY0 + DAY, observed_at=1, now=LATER))
    assert p.stats.errors["bad_response"] == 1


# -- non-token endpoints -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "result", "requests", "units"),
    [
        (
            "images",
            {"images": 4, "num_model_requests": 2, "size": "1024x1024", "source": "image.generation"},
            2,
            (("images", 4),),
        ),
        ("audio_speeches", {"characters": 1200, "num_model_requests": 3}, 3, (("characters", 1200),)),
        ("audio_transcriptions", {"seconds": 95, "num_model_requests": 4}, 4, (("seconds", 95),)),
        ("vector_stores", {"usage_bytes": 10_485_760}, 0, (("bytes", 10_485_760),)),
        ("code_interpreter_sessions", {"num_sessions": 7}, 0, (("sessions", 7),)),
        ("file_search_calls", {"num_requests": 11}, 0, (("file_search_requests", 11),)),
        (
            "web_search_calls",
            {"num_requests": 9, "num_model_requests": 5, "context_level": "high"},
            5,
            (("web_search_requests", 9),),
        ),
    ],
)
def test_non_token_endpoints_map_their_quantity_to_units(
    endpoint: str, result: dict[str, Any], requests: int, units: tuple[tuple[str, int], ...]
) -> None:
    objects = {"file_search_calls": "file_searches", "web_search_calls": "web_searches"}
    item = {
        "object": f"organization.usage.{objects.get(endpoint, endpoint)}.result",
        "project_id": "proj_x",
        **result,
    }
    (row,) = fetch(paged([bucket(DAY0, item)]), endpoint)[0].rows
    assert (row.units, row.requests, row.tokens, row.project) == (units, requests, tokens_of(), "proj_x")


@pytest.mark.parametrize("endpoint", ["embeddings", "moderations"])
def test_embeddings_and_moderations_input_tokens_are_input(endpoint: str) -> None:
    item = {"object": f"organization.usage.{endpoint}.result", "input_tokens": 640, "num_model_requests": 8}
    (row,) = fetch(paged([bucket(DAY0, item)]), endpoint)[0].rows
    assert (row.tokens, row.requests, row.units) == (tokens_of(input=640), 8, ())


def test_a_zero_quantity_gives_no_unit() -> None:
    item = {"object": "organization.usage.code_interpreter_sessions.result", "num_sessions": 0}
    (row,) = fetch(paged([bucket(DAY0, item)]), "code_interpreter_sessions")[0].rows
    assert row.units == ()


def test_image_rows_split_only_by_size_are_summed_into_one_row() -> None:
    base = {"object": "organization.usage.images.result", "model": "dall-e-3", "project_id": "p"}
    small = {**base, "images": 3, "num_model_requests": 3, "size": "1024x1024"}
    large = {**base, "images": 2, "num_model_requests": 1, "size": "1024x1792"}
    (row,) = fetch(paged([bucket(DAY0, small, large)]), "images")[0].rows
    assert (row.units, row.requests) == ((("images", 5),), 4)


def test_the_file_search_result_object_is_file_searches() -> None:
    item = {"object": "organization.usage.file_search_calls.result", "num_requests": 1}
    with pytest.raises(ProviderResponseError, match=re.escape("organization.usage.file_searches.result")):
        fetch(paged([bucket(DAY0, item)]), "file_search_calls")


# -- pages ---------------------------------------------------------------------------------------


def test_every_bucket_is_listed_including_empty_ones() -> None:
    pages = fetch(
        paged([bucket(DAY0, completion(input_tokens=1)), bucket(DAY0 + DAY), bucket(DAY0 + 2 * DAY)])
    )
    assert pages[0].buckets == (DAY0, DAY0 + DAY, DAY0 + 2 * DAY)
    assert len(pages[0].rows) == 1


def test_closed_until_is_the_end_of_the_newest_closed_bucket() -> None:
    p = provider(paged([bucket(DAY0), bucket(DAY0 + DAY), bucket(DAY0 + 2 * DAY)]))
    now = DAY0 + 2 * DAY + 600  # inside the third bucket
    (page,) = p.fetch_usage("completions", DAY0, now, observed_at=1, now=now)
    assert page.closed_until == DAY0 + 2 * DAY


def test_closed_until_is_the_first_bucket_start_when_none_has_closed() -> None:
    p = provider(paged([bucket(DAY0 + DAY)]))
    now = DAY0 + DAY + 60
    (page,) = p.fetch_usage("completions", DAY0 + DAY, now, observed_at=1, now=now)
    assert page.closed_until == DAY0 + DAY


def test_every_page_becomes_one_usage_page_sharing_observed_at() -> None:
    seen: list[httpx.Request] = []
    handler = paged(
        [bucket(DAY0, completion(input_tokens=1))],
        [bucket(DAY0 + DAY, completion(input_tokens=2))],
        [bucket(DAY0 + 2 * DAY, completion(input_tokens=3))],
        seen=seen,
    )
    pages = list(
        provider(handler).fetch_usage("completions", DAY0, DAY0 + 3 * DAY, observed_at=777, now=LATER)
    )
    assert [p.buckets for p in pages] == [(DAY0,), (DAY0 + DAY,), (DAY0 + 2 * DAY,)]
    assert [p.rows[0].tokens[0] for p in pages] == [1, 2, 3]
    assert {p.observed_at for p in pages} == {777}
    assert [r.url.params.get("page") for r in seen] == [None, "c1", "c2"]


def test_a_truncated_page_is_never_yielded() -> None:
    good = paged([bucket(DAY0, completion(input_tokens=1))], [bucket(DAY0 + DAY)])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("page") == "c1":
            return httpx.Response(200, content=b'{"object": "page", "data": [{"object": "bucket", "start_ti')
        return good(request)

    yielded: list[UsagePage] = []
    with pytest.raises(ProviderResponseError, match="not valid JSON"):
        for page in provider(handler).fetch_usage(
            "completions", DAY0, DAY0 + 2 * DAY, observed_at=1, now=LATER
        ):
            yielded.append(page)
    assert [p.buckets for p in yielded] == [(DAY0,)]


def test_endpoints_can_be_limited_and_keep_the_provider_order() -> None:
    p = provider(paged([]), endpoints=("images", "completions"))
    assert p.endpoints == ("completions", "images")
    with pytest.raises(ValueError, match="not polled"):
        list(p.fetch_usage("embeddings", DAY0, DAY0 + DAY, observed_at=1, now=LATER))


def test_an_unknown_endpoint_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="completion_s"):
        provider(paged([]), endpoints=("completion_s",))


# -- costs ---------------------------------------------------------------------------------------


def cost(value: Any, currency: str = "usd", **fields: Any) -> dict[str, Any]:
    return {"object": "organization.costs.result", "amount": {"value": value, "currency": currency}, **fields}


def costs_of(*results: dict[str, Any]) -> list[BilledCost]:
    p = provider(paged([bucket(DAY0, *results)]))
    return [c for page in p.fetch_costs(DAY0, DAY0 + DAY, now=LATER) for c in page]


def raw_costs_of(body: bytes) -> list[BilledCost]:
    """Costs from a literal JSON body, so numbers reach the parser exactly as the provider wrote them."""
    p = provider(lambda _r: httpx.Response(200, content=body))
    return [c for page in p.fetch_costs(DAY0, DAY0 + DAY, now=LATER) for c in page]


def test_costs_request_daily_buckets_by_project_line_item_and_api_key() -> None:
    seen: list[httpx.Request] = []
    p = provider(paged([], seen=seen))
    list(p.fetch_costs(DAY0 + 100, DAY0 + 3 * DAY, now=LATER))
    params = seen[0].url.params
    assert seen[0].url.path == "/v1/organization/costs"
    assert (params["start_time"], params["bucket_width"], params["limit"]) == (str(DAY0), "1d", "180")
    assert params.get_list("group_by[]") == ["project_id", "line_item", "api_key_id"]


def test_costs_never_ask_past_today() -> None:
    seen: list[httpx.Request] = []
    now = DAY0 + DAY + 3600
    list(provider(paged([], seen=seen)).fetch_costs(DAY0, DAY0 + 40 * DAY, now=now))
    assert seen[0].url.params["end_time"] == str(DAY0 + 2 * DAY)


def test_cost_amounts_are_dollars_converted_to_picodollars() -> None:
    (line,) = costs_of(cost(0.9375, project_id="proj_a", line_item="gpt-4.1-mini-2025-04-14, input"))
    assert line == BilledCost(
        provider="openai",
        account="openai-prod",
        day_start=DAY0,
        project="proj_a",
        line_item="gpt-4.1-mini-2025-04-14, input",
        amount_pico=937_500_000_000,
        model="gpt-4.1-mini-2025-04-14",
        token_type="input",
    )


def test_a_line_item_with_quantity_says_its_model_kind_tier_and_count() -> None:
    (line,) = costs_of(
        cost(
            0.144,
            project_id="proj_a",
            line_item="gpt-4.1-mini-2025-04-14, output (batch)",
            quantity=180000,
            quantity_unit="tokens",
        )
    )
    assert (line.model, line.token_type, line.service_tier) == ("gpt-4.1-mini-2025-04-14", "output", "batch")
    assert (line.quantity, line.quantity_unit) == (180000, "tokens")


def test_a_line_in_another_currency_is_kept_as_such_not_refused() -> None:
    (line,) = costs_of(
        cost(12.5, currency="eur", line_item="gpt-4.1, input", quantity=1000, quantity_unit="tokens")
    )
    assert (line.currency, line.amount_pico) == ("EUR", 12_500_000_000_000)


@pytest.mark.parametrize("quantity", [-1, "12", True, 10**19])
def test_a_quantity_that_is_not_a_count_rejects_the_page(quantity: Any) -> None:
    with pytest.raises(ProviderResponseError, match="quantity"):
        costs_of(cost(1, line_item="gpt-4.1, input", quantity=quantity, quantity_unit="tokens"))


def test_cost_amounts_keep_digits_a_float_would_lose() -> None:
    body = (
        b'{"object":"page","has_more":false,"next_page":null,"data":[{"object":"bucket","start_time":1795132800,'
        b'"end_time":1795219200,"results":[{"object":"organization.costs.result",'
        b'"amount":{"value":1234567.123456789012,"currency":"usd"}}]}]}'
    )
    (line,) = raw_costs_of(body)
    assert line.amount_pico == 1_234_567_123_456_789_012


@pytest.mark.parametrize(
    ("value", "pico"),
    [
        (b"0.13080438340307526", 130_804_383_403),
        (b"0.0000000000005", 0),
        (b"0.0000000000015", 2),
        (b"-2.5", -2_500_000_000_000),
    ],
)
def test_sub_picodollar_digits_are_rounded_half_even(value: bytes, pico: int) -> None:
    body = (
        b'{"object":"page","has_more":false,"next_page":null,"data":[{"object":"bucket","start_time":1795132800,'
        b'"end_time":1795219200,"results":[{"amount":{"value":' + value + b',"currency":"usd"}}]}]}'
    )
    (line,) = raw_costs_of(body)
    assert line.amount_pico == pico


def test_null_project_and_line_item_are_empty() -> None:
    (line,) = costs_of(cost(0.06, project_id=None, line_item=None, api_key_id=None))
    assert (line.project, line.line_item, line.amount_pico) == ("", "", 60_000_000_000)


@pytest.mark.parametrize(
    ("result", "field"),
    [
        (cost(1, currency=""), "currency"),
        (cost("0.5"), "amount.value"),
        (cost(True), "amount.value"),
        (cost(10**13), "amount.value"),
        ({"object": "organization.costs.result", "amount": None}, "amount"),
    ],
)
def test_a_bad_cost_line_rejects_the_page(result: dict[str, Any], field: str) -> None:
    with pytest.raises(ProviderResponseError, match=field):
        costs_of(copy.deepcopy(result))


def test_costs_are_returned_one_list_per_page() -> None:
    handler = paged([bucket(DAY0, cost(1), cost(2))], [bucket(DAY0 + DAY, cost(3))])
    pages = list(provider(handler).fetch_costs(DAY0, DAY0 + 2 * DAY, now=LATER))
    assert [[c.amount_pico for c in page] for page in pages] == [[10**12, 2 * 10**12], [3 * 10**12]]
    assert [c.day_start for c in pages[1]] == [DAY0 + DAY]
