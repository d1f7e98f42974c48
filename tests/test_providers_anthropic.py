"""AnthropicProvider: headers and RFC 3339 parameters, the usage report's token mapping, hostile
payloads, and the cost report's cents (a 100x error there is the classic bug).

Expected numbers come from the documented examples in provider-apis.md §3 or are worked by hand.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from monitor.errors import ProviderAuthError, ProviderResponseError
from monitor.providers.anthropic import AnthropicProvider
from monitor.records import BilledCost, UsagePage, tokens_of

SECRET = "sk-ant-admin01-anthropicSECRET0123456789"
DAY = 86400
DAY0 = 1795132800  # 2026-11-20T00:00:00Z
LATER = DAY0 + 30 * DAY
Handler = Callable[[httpx.Request], httpx.Response]


def iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def paged(*pages: list[dict[str, Any]], seen: list[httpx.Request] | None = None) -> Handler:
    """Serve `pages` (lists of buckets) in order, chained by cursors; Anthropic has no `object` key."""

    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        index = int(request.url.params.get("page", "page_0")[5:])
        more = index + 1 < len(pages)
        body = {"data": pages[index], "has_more": more, "next_page": f"page_{index + 1}" if more else None}
        return httpx.Response(200, json=body)

    return handler


def bucket(start: int, *results: dict[str, Any], width: int = DAY) -> dict[str, Any]:
    return {"starting_at": iso(start), "ending_at": iso(start + width), "results": list(results)}


def usage(**fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "uncached_input_tokens": 0,
        "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0},
        "cache_read_input_tokens": 0,
        "output_tokens": 0,
        "server_tool_use": {"web_search_requests": 0},
        "api_key_id": None,
        "workspace_id": None,
        "model": None,
        "service_tier": None,
        "context_window": None,
    }
    row.update(fields)
    return row


DOC_EXAMPLE = usage(
    uncached_input_tokens=1500,
    cache_creation={"ephemeral_1h_input_tokens": 1000, "ephemeral_5m_input_tokens": 500},
    cache_read_input_tokens=200,
    output_tokens=500,
    server_tool_use={"web_search_requests": 10},
    api_key_id="apikey_01Rj2N8SVvo6BePZj99NhmiT",
    workspace_id="wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ",
    model="claude-sonnet-4-20250514",
    service_tier="standard",
    context_window="0-200k",
)


def provider(handler: Handler, **kwargs: Any) -> AnthropicProvider:
    options: dict[str, Any] = {
        "account": "anthropic",
        "api_key": SECRET,
        "base_url": "https://api.anthropic.test",
        "bucket_width": "1d",
        "sleep": lambda _s: None,
        "transport": httpx.MockTransport(handler),
        "max_attempts": 2,
    }
    options.update(kwargs)
    return AnthropicProvider(**options)


def fetch(handler: Handler, **kwargs: Any) -> list[UsagePage]:
    return list(
        provider(handler, **kwargs).fetch_usage("messages", DAY0, DAY0 + DAY, observed_at=5, now=LATER)
    )


def only_row(*results: dict[str, Any]) -> Any:
    (row,) = fetch(paged([bucket(DAY0, *results)]))[0].rows
    return row


# -- requests ------------------------------------------------------------------------------------


def test_usage_request_sends_admin_key_version_and_rfc3339_window() -> None:
    seen: list[httpx.Request] = []
    p = provider(paged([], seen=seen), bucket_width="1h")
    list(p.fetch_usage("messages", DAY0 + 3 * 3600 + 5, DAY0 + 5 * 3600 + 1, observed_at=1, now=LATER))
    request = seen[0]
    assert request.url.path == "/v1/organizations/usage_report/messages"
    assert request.headers["x-api-key"] == SECRET
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in request.headers
    params = request.url.params
    assert params["starting_at"] == "2026-11-20T03:00:00Z"
    assert params["ending_at"] == "2026-11-20T06:00:00Z"
    assert (params["bucket_width"], params["limit"]) == ("1h", "168")
    assert set(params.get_list("group_by[]")) == {
        "model",
        "workspace_id",
        "api_key_id",
        "service_tier",
        "context_window",
        "inference_geo",
        "speed",
    }
    assert b"group_by[]=" in request.url.query
    assert request.headers["anthropic-beta"] == "fast-mode-2026-02-01"  # grouping by speed needs it


def test_fast_mode_rows_are_the_fast_tier() -> None:
    row = only_row(usage(output_tokens=3, model="claude-opus-5-5", service_tier="standard", speed="fast"))
    assert (row.service_tier, row.batch) == ("fast", False)


def test_fast_mode_on_another_tier_keeps_both_words_so_no_single_price_matches() -> None:
    row = only_row(usage(output_tokens=3, model="claude-opus-5-5", service_tier="priority", speed="fast"))
    assert row.service_tier == "priority+fast"


def test_standard_speed_leaves_the_tier_alone() -> None:
    row = only_row(usage(output_tokens=3, service_tier="batch", speed="standard"))
    assert (row.service_tier, row.batch) == ("batch", True)


def test_the_inference_geo_is_kept_as_reported() -> None:
    row = only_row(usage(output_tokens=3, inference_geo="us"))
    assert row.inference_geo == "us"
    assert row.key[-1] == "us"


def test_the_configured_anthropic_version_is_sent() -> None:
    seen: list[httpx.Request] = []
    fetch(paged([], seen=seen), anthropic_version="2025-01-01")
    assert seen[0].headers["anthropic-version"] == "2025-01-01"


@pytest.mark.parametrize(("width", "limit"), [("1m", "1440"), ("1h", "168"), ("1d", "31")])
def test_limit_is_the_maximum_for_the_width(width: str, limit: str) -> None:
    seen: list[httpx.Request] = []
    fetch(paged([], seen=seen), bucket_width=width)
    assert seen[0].url.params["limit"] == limit


# -- usage report --------------------------------------------------------------------------------


def test_the_documented_example_row_maps_to_token_types() -> None:
    row = only_row(DOC_EXAMPLE)
    assert row.tokens == tokens_of(
        input=1500, cache_write=500, cache_write_1h=1000, cached_input=200, output=500
    )
    assert row.units == (("web_search_requests", 10),)
    assert row.requests == 0
    assert (row.project, row.api_key, row.model, row.service_tier, row.context_window, row.batch) == (
        "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ",
        "apikey_01Rj2N8SVvo6BePZj99NhmiT",
        "claude-sonnet-4-20250514",
        "standard",
        "0-200k",
        False,
    )
    assert (row.provider, row.account, row.endpoint, row.bucket_start, row.bucket_width, row.user) == (
        "anthropic",
        "anthropic",
        "messages",
        DAY0,
        DAY,
        "",
    )


def test_default_workspace_and_workbench_usage_have_empty_project_and_key() -> None:
    row = only_row(usage(output_tokens=3, model="claude-sonnet-4-5-20250929"))
    assert (row.project, row.api_key, row.model) == ("", "", "claude-sonnet-4-5-20250929")


def test_no_web_searches_means_no_units() -> None:
    assert only_row(usage(output_tokens=1)).units == ()


def test_the_batch_tier_sets_the_batch_flag() -> None:
    row = only_row(usage(service_tier="batch"))
    assert (row.service_tier, row.batch) == ("batch", True)


def test_missing_nested_cache_and_tool_objects_read_as_zero() -> None:
    row = usage(uncached_input_tokens=7, output_tokens=2)
    del row["cache_creation"]
    row["server_tool_use"] = None
    assert only_row(row).tokens == tokens_of(input=7, output=2)


def test_unknown_extra_fields_are_ignored() -> None:
    row = usage(uncached_input_tokens=7, inference_geo="us", speed="fast", cache_creation_input_tokens=999)
    assert only_row(row).tokens == tokens_of(input=7)


def test_every_bucket_is_listed_and_closed_until_follows_now() -> None:
    p = provider(paged([bucket(DAY0, DOC_EXAMPLE), bucket(DAY0 + DAY), bucket(DAY0 + 2 * DAY)]))
    now = DAY0 + 2 * DAY + 1
    (page,) = p.fetch_usage("messages", DAY0, now, observed_at=9, now=now)
    assert page.buckets == (DAY0, DAY0 + DAY, DAY0 + 2 * DAY)
    assert page.closed_until == DAY0 + 2 * DAY
    assert page.observed_at == 9


def test_pages_are_followed_with_the_cursor() -> None:
    seen: list[httpx.Request] = []
    handler = paged([bucket(DAY0, DOC_EXAMPLE)], [bucket(DAY0 + DAY, DOC_EXAMPLE)], seen=seen)
    pages = list(provider(handler).fetch_usage("messages", DAY0, DAY0 + 2 * DAY, observed_at=1, now=LATER))
    assert [p.buckets for p in pages] == [(DAY0,), (DAY0 + DAY,)]
    assert [r.url.params.get("page") for r in seen] == [None, "page_1"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"uncached_input_tokens": -1}, "results[0].uncached_input_tokens"),
        ({"output_tokens": 2.5}, "results[0].output_tokens"),
        ({"cache_read_input_tokens": None}, "results[0].cache_read_input_tokens"),
        ({"cache_creation": [1]}, "results[0].cache_creation"),
        ({"cache_creation": {"ephemeral_5m_input_tokens": "5"}}, "cache_creation.ephemeral_5m_input_tokens"),
        ({"server_tool_use": {"web_search_requests": 10**16}}, "server_tool_use.web_search_requests"),
        ({"workspace_id": 12}, "results[0].workspace_id"),
    ],
)
def test_a_hostile_value_rejects_the_page_naming_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ProviderResponseError) as caught:
        only_row(usage(**change))
    assert field in str(caught.value)
    assert str(caught.value).startswith("anthropic: messages: page 1.data[0]")
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("starting_at", "problem"),
    [("2026-11-20T00:00:00", "RFC 3339"), ("yesterday", "RFC 3339"), ("2026-11-20T00:00:01Z", "not aligned")],
)
def test_a_bad_bucket_time_is_rejected(starting_at: str, problem: str) -> None:
    broken = {"starting_at": starting_at, "ending_at": iso(DAY0 + DAY), "results": []}
    with pytest.raises(ProviderResponseError, match=re.escape(problem)):
        fetch(paged([broken]))


def test_a_numeric_offset_is_accepted_as_utc() -> None:
    shifted = {
        "starting_at": "2026-11-20T01:00:00+01:00",
        "ending_at": "2026-11-21T00:00:00+00:00",
        "results": [],
    }
    assert fetch(paged([shifted]))[0].buckets == (DAY0,)


def test_an_auth_failure_names_the_account_not_the_key() -> None:
    body = {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}
    p = provider(lambda _r: httpx.Response(401, json=body), key_hint="providers[1].api_key")
    with pytest.raises(ProviderAuthError) as caught:
        list(p.fetch_usage("messages", DAY0, DAY0 + DAY, observed_at=1, now=LATER))
    assert str(caught.value).startswith("anthropic: the admin key was rejected (HTTP 401")
    assert "providers[1].api_key" in str(caught.value)
    assert SECRET not in str(caught.value)


# -- cost report ---------------------------------------------------------------------------------


def cost_line(amount: Any, currency: str = "USD", **fields: Any) -> dict[str, Any]:
    line: dict[str, Any] = {
        "currency": currency,
        "amount": amount,
        "workspace_id": None,
        "description": None,
        "cost_type": None,
        "context_window": None,
        "model": None,
        "service_tier": None,
        "token_type": None,
    }
    line.update(fields)
    return line


def costs_of(*lines: dict[str, Any]) -> list[BilledCost]:
    p = provider(paged([bucket(DAY0, *lines)]))
    return [c for page in p.fetch_costs(DAY0, DAY0 + DAY, now=LATER) for c in page]


def test_cost_request_asks_daily_buckets_by_workspace_and_description() -> None:
    seen: list[httpx.Request] = []
    list(provider(paged([], seen=seen)).fetch_costs(DAY0 + 7, DAY0 + 3 * DAY, now=LATER))
    params = seen[0].url.params
    assert seen[0].url.path == "/v1/organizations/cost_report"
    assert (params["starting_at"], params["ending_at"]) == ("2026-11-20T00:00:00Z", "2026-11-23T00:00:00Z")
    assert (params["bucket_width"], params["limit"]) == ("1d", "31")
    assert params.get_list("group_by[]") == ["workspace_id", "description"]


def test_the_documented_cost_line_is_read_in_cents() -> None:
    line = cost_line(
        "123.78912",
        workspace_id="wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ",
        description="Claude Sonnet 4 Usage - Input Tokens",
        cost_type="tokens",
        context_window="0-200k",
        model="claude-sonnet-4-20250514",
        service_tier="standard",
        token_type="uncached_input_tokens",
    )
    assert costs_of(line) == [
        BilledCost(
            provider="anthropic",
            account="anthropic",
            day_start=DAY0,
            project="wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ",
            line_item="Claude Sonnet 4 Usage - Input Tokens",
            amount_pico=1_237_891_200_000,  # 123.78912 cents = $1.2378912
            model="claude-sonnet-4-20250514",
            token_type="input",
            service_tier="standard",
            context_window="0-200k",
        )
    ]


@pytest.mark.parametrize(
    ("cents", "pico"),
    [
        ("17198.23758", 171_982_375_800_000),  # $171.98, checked against the Console by a third party
        ("1500", 15_000_000_000_000),  # $15
        ("0.1", 1_000_000_000),  # a tenth of a cent
        ("0", 0),
    ],
)
def test_cents_become_picodollars_exactly(cents: str, pico: int) -> None:
    (line,) = costs_of(cost_line(cents))
    assert line.amount_pico == pico


@pytest.mark.parametrize(
    ("token_type", "expected"),
    [
        ("uncached_input_tokens", "input"),
        ("output_tokens", "output"),
        ("cache_read_input_tokens", "cached_input"),
        ("cache_creation.ephemeral_5m_input_tokens", "cache_write"),
        ("cache_creation.ephemeral_1h_input_tokens", "cache_write_1h"),
        ("some_new_kind", "some_new_kind"),
        (None, ""),
    ],
)
def test_cost_token_types_are_named_like_token_types(token_type: str | None, expected: str) -> None:
    (line,) = costs_of(cost_line("1", token_type=token_type))
    assert line.token_type == expected


def test_a_web_search_line_counts_web_search_requests() -> None:
    line = cost_line("25", model="claude-sonnet-4-5-20250929", cost_type="web_search", description="x")
    (read,) = costs_of(line)
    assert (read.model, read.token_type) == ("claude-sonnet-4-5-20250929", "web_search_requests")


def test_a_line_in_another_currency_is_kept_as_such_not_refused() -> None:
    (line,) = costs_of(cost_line("1500", currency="eur"))
    assert (line.currency, line.amount_pico) == ("EUR", 15_000_000_000_000)  # 1500 cents = 15 EUR


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (cost_line(123.78912), "amount"),
        (cost_line("12,5"), "amount"),
        (cost_line("NaN"), "amount"),
        (cost_line("1e30"), "amount"),
        (cost_line("1", currency=""), "currency"),
        (cost_line("1", description=7), "description"),
    ],
)
def test_a_bad_cost_line_rejects_the_page(line: dict[str, Any], field: str) -> None:
    with pytest.raises(ProviderResponseError, match=re.escape(f"results[0].{field}")):
        costs_of(line)
