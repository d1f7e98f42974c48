"""OpenRouterProvider against hand-written answers (httpx.MockTransport), shaped as the OpenAPI spec in
OpenRouterTeam/typescript-sdk @cb9393a8 (shared/channel-apis.md §2): activity rows per upstream
provider, exact dollars, the 30-day window, today from the keys, balances from credits and key limits."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from monitor.errors import ProviderAuthError, ProviderResponseError
from monitor.providers.http_options import HttpOptions
from monitor.providers.openrouter import OpenRouterProvider
from monitor.records import tokens_of

KEY = "sk-or-v1-managementSECRET0123456789abcdef"
DAY = 86400
TODAY = 1795564800  # 2026-11-25
NOW = TODAY + 10 * 3600


def iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).date().isoformat()


def activity(
    day: int, model: str = "openai/gpt-4.1", provider: str = "OpenAI", **fields: Any
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "date": iso(day),
        "model": model,
        "model_permaslug": model + "-2025-04-14",
        "endpoint_id": "e",
        "provider_name": provider,
        "usage": 0.5,
        "byok_usage_inference": 0,
        "requests": 3,
        "prompt_tokens": 1000,
        "completion_tokens": 200,
        "reasoning_tokens": 50,
    }
    row.update(fields)
    return row


def account(
    rows: list[dict[str, Any]],
    keys: list[dict[str, Any]] | None = None,
    seen: list[httpx.Request] | None = None,
) -> httpx.MockTransport:
    keys = (
        keys
        if keys is not None
        else [{"name": "prod", "usage_daily": 1.25, "limit": 300, "limit_remaining": 120.5}]
    )

    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        if request.url.path == "/api/v1/activity":
            return httpx.Response(200, json={"data": rows})
        if request.url.path == "/api/v1/keys":
            offset = int(request.url.params.get("offset", "0"))
            return httpx.Response(200, json={"data": keys[offset : offset + 100]})
        if request.url.path == "/api/v1/credits":
            return httpx.Response(200, json={"data": {"total_credits": 100, "total_usage": 37.125}})
        return httpx.Response(404, json={"error": {"code": 404, "message": "Not Found"}})

    return httpx.MockTransport(handler)


def provider(transport: httpx.MockTransport) -> OpenRouterProvider:
    return OpenRouterProvider(
        account="router",
        api_key=KEY,
        base_url="https://openrouter.test/api/v1",
        http=HttpOptions(sleep=lambda _s: None, transport=transport),
        key_hint="providers[3].api_key",
    )


def test_a_models_rows_from_two_upstream_providers_are_one_usage_row_and_two_bill_lines() -> None:
    rows = [activity(TODAY - DAY), activity(TODAY - DAY, provider="Azure", usage=0.25, requests=1)]
    p = provider(account(rows))
    (page,) = p.fetch_usage("activity", TODAY - 2 * DAY, NOW, observed_at=NOW * 1000, now=NOW)
    (row,) = page.rows
    assert row.tokens == tokens_of(input=2000, output=400)  # reasoning is part of completion_tokens
    assert (row.model, row.requests, row.bucket_start, row.bucket_width) == (
        "openai/gpt-4.1",
        4,
        TODAY - DAY,
        DAY,
    )
    assert page.buckets == (TODAY - 2 * DAY, TODAY - DAY) and page.closed_until == TODAY
    completed, today = p.fetch_costs(TODAY - 2 * DAY, NOW, now=NOW)
    assert sorted((c.line_item, c.amount_pico) for c in completed) == [
        ("Azure", 250 * 10**9),
        ("OpenAI", 500 * 10**9),
    ]
    assert [(c.day_start, c.line_item, c.amount_pico) for c in today] == [
        (TODAY, "today so far: key prod", 1_250 * 10**9)
    ]


def test_dollars_are_read_exactly_never_through_a_float() -> None:
    p = provider(account([activity(TODAY - DAY, usage=0.123456789012)]))
    (completed, _today) = p.fetch_costs(TODAY - DAY, NOW, now=NOW)
    assert [c.amount_pico for c in completed] == [123_456_789_012]


def test_activity_is_read_once_per_poll_for_usage_and_costs() -> None:
    seen: list[httpx.Request] = []
    p = provider(account([activity(TODAY - DAY)], seen=seen))
    list(p.fetch_usage("activity", TODAY - DAY, NOW, observed_at=NOW * 1000, now=NOW))
    list(p.fetch_costs(TODAY - DAY, NOW, now=NOW))
    assert [r.url.path for r in seen].count("/api/v1/activity") == 1
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in seen)


def test_a_row_of_today_is_not_usage_yet() -> None:
    p = provider(account([activity(TODAY)]))
    (page,) = p.fetch_usage("activity", TODAY - DAY, NOW, observed_at=NOW * 1000, now=NOW)
    assert page.rows == () and TODAY not in page.buckets


def test_yesterday_not_yet_listed_keeps_what_is_stored_and_older_days_are_replaced() -> None:
    early = TODAY + 3600  # 01:00: yesterday is over, /activity has only the day before
    p = provider(account([activity(TODAY - 2 * DAY)]))
    (page,) = p.fetch_usage("activity", TODAY - 3 * DAY, early, observed_at=early * 1000, now=early)
    assert page.buckets == (TODAY - 3 * DAY, TODAY - 2 * DAY)
    list(p.fetch_costs(TODAY - 3 * DAY, early, now=early))
    assert p.replaced_days([TODAY - 3 * DAY, TODAY - 2 * DAY, TODAY - DAY, TODAY]) == [
        TODAY - 3 * DAY,
        TODAY - 2 * DAY,
        TODAY,
    ]


def test_asking_for_more_than_30_days_warns_once_and_reads_what_there_is(
    caplog: pytest.LogCaptureFixture,
) -> None:
    p = provider(account([]))
    with caplog.at_level(logging.WARNING):
        for _ in range(2):
            (page,) = p.fetch_usage("activity", TODAY - 45 * DAY, NOW, observed_at=NOW * 1000, now=NOW)
    assert page.buckets[0] == TODAY - 30 * DAY
    warned = [r.getMessage() for r in caplog.records if "30 completed days" in r.getMessage()]
    assert warned == [
        "router: OpenRouter keeps the last 30 completed days only; usage before 2026-10-26 cannot be fetched"
    ]


def test_keys_are_read_100_at_a_time() -> None:
    keys = [{"name": f"k{i}", "usage_daily": 0.01, "limit": None} for i in range(150)]
    seen: list[httpx.Request] = []
    p = provider(account([], keys=keys, seen=seen))
    (_, today) = p.fetch_costs(TODAY, NOW, now=NOW)
    assert len(today) == 150 and sum(c.amount_pico for c in today) == 1_500 * 10**9
    assert [r.url.params["offset"] for r in seen if r.url.path.endswith("/keys")] == ["0", "100"]


def test_balances_are_the_credits_left_and_each_keys_limit() -> None:
    balances = provider(account([])).fetch_balances(now=NOW)
    assert [(b.key, b.balance_pico, b.limit_pico) for b in balances] == [
        ("", 62_875 * 10**9, 100 * 10**12),
        ("prod", 120_500 * 10**9, 300 * 10**12),
    ]


def test_an_inference_key_gets_a_clear_refusal() -> None:
    body = {"error": {"code": 403, "message": "Only management keys can perform this operation"}}
    p = provider(httpx.MockTransport(lambda _r: httpx.Response(403, json=body)))
    with pytest.raises(ProviderAuthError) as caught:
        list(p.fetch_usage("activity", TODAY - DAY, NOW, observed_at=NOW * 1000, now=NOW))
    assert str(caught.value) == (
        "router: the management key was rejected (HTTP 403: Only management keys can perform this operation); "
        "check providers[3].api_key"
    )


def test_dollars_as_text_are_refused() -> None:
    p = provider(account([activity(TODAY - DAY, usage="0.5")]))
    with pytest.raises(ProviderResponseError, match=r"data\[0\]\.usage: expected a number of dollars"):
        list(p.fetch_costs(TODAY - DAY, NOW, now=NOW))


def test_keys_of_one_name_are_told_apart_by_their_hash() -> None:
    keys = [
        {"name": "app", "hash": "aaaa1111ffff", "usage_daily": 1, "limit": None},
        {"name": "app", "hash": "bbbb2222ffff", "usage_daily": 2, "limit": None},
    ]
    (_, today) = provider(account([], keys=keys)).fetch_costs(TODAY, NOW, now=NOW)
    assert [c.line_item for c in today] == [
        "today so far: key app (aaaa1111)",
        "today so far: key app (bbbb2222)",
    ]
