"""NewApiProvider against hand-written relay answers (httpx.MockTransport): headers and fixed window
ends, the two token semantics of `prompt_tokens`, one-api's shape, paging that moves, and every way a
relay says no (HTTP 401, HTTP 200 with `success: false`, a web page, 429 without Retry-After).

Payload shapes follow shared/channel-apis.md §1 (new-api @ef8ae4db and one-api @8df4a267).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from monitor.errors import ProviderAuthError, ProviderResponseError, ProviderTransientError
from monitor.providers.http_options import HttpOptions
from monitor.providers.newapi import NewApiProvider
from monitor.records import UsagePage, tokens_of

TOKEN = "relayAccessTokenSECRET0123456789"
DAY0 = 1795132800  # 2026-11-20T00:00:00Z
NOW = DAY0 + 12 * 3600
Handler = Callable[[httpx.Request], httpx.Response]


def ok(data: Any) -> httpx.Response:
    return httpx.Response(200, json={"success": True, "message": "", "data": data})


def item(at: int, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": 5,
        "created_at": at,
        "type": 2,
        "token_name": "backend",
        "model_name": "gpt-4.1",
        "quota": 1000,
        "prompt_tokens": 1000,
        "completion_tokens": 100,
        "group": "default",
        "other": json.dumps({"cache_tokens": 0, "group_ratio": 0.85}),
    }
    base.update(fields)
    return base


def relay(
    logs: Callable[[httpx.Request], httpx.Response],
    *,
    seen: list[httpx.Request] | None = None,
    status: dict[str, Any] | None = None,
) -> Handler:
    """A relay whose log answers come from `logs`; status, self and groups answer as new-api does."""

    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        path = request.url.path
        if path == "/api/status":
            return ok(status if status is not None else {"quota_per_unit": 500000})
        if path == "/api/user/self":
            return ok({"id": 7, "group": "default", "quota": 1_000_000, "used_quota": 250_000})
        if path == "/api/user/self/groups":
            return ok({"default": {"ratio": 0.85, "desc": "d"}, "vip": {"ratio": 0.6, "desc": "v"}})
        return logs(request)

    return handler


def one_page(*items: dict[str, Any]) -> Callable[[httpx.Request], httpx.Response]:
    def logs(request: httpx.Request) -> httpx.Response:
        start, end = (
            int(request.url.params.get("start_timestamp", 0)),
            request.url.params.get("end_timestamp"),
        )
        inside = [i for i in items if end is None or start <= i["created_at"] <= int(end)]
        return ok({"page": 1, "page_size": 100, "total": len(inside), "items": inside})

    return logs


def provider(
    handler: Handler, *, sleep: Callable[[float], None] = lambda _s: None, max_attempts: int = 5
) -> NewApiProvider:
    return NewApiProvider(
        account="relay",
        base_url="https://relay.test",
        access_token=TOKEN,
        user_id=7,
        http=HttpOptions(sleep=sleep, max_attempts=max_attempts, transport=httpx.MockTransport(handler)),
        key_hint="providers[2].access_token and its user_id",
    )


def fetch(p: NewApiProvider, start: int = DAY0, end: int = NOW) -> list[UsagePage]:
    return list(p.fetch_usage("log", start, end, observed_at=NOW * 1000, now=NOW))


def test_requests_carry_the_access_token_and_user_id_and_fixed_window_ends() -> None:
    seen: list[httpx.Request] = []
    fetch(provider(relay(one_page(), seen=seen)))
    logs = [r for r in seen if r.url.path == "/api/log/self" and "start_timestamp" in r.url.params]
    assert logs and all(r.headers["authorization"] == TOKEN for r in seen)
    assert all(r.headers["new-api-user"] == "7" for r in seen)
    params = logs[0].url.params
    assert (params["type"], params["page_size"], params["p"]) == ("2", "100", "1")
    assert (int(params["start_timestamp"]), int(params["end_timestamp"])) == (DAY0, NOW - 1)


def test_openai_format_prompt_tokens_include_the_cached_ones() -> None:
    logs = one_page(item(DAY0 + 60, prompt_tokens=1000, other=json.dumps({"cache_tokens": 400})))
    (page,) = fetch(provider(relay(logs)))
    (row,) = page.rows
    assert row.tokens == tokens_of(input=600, cached_input=400, output=100)
    assert (row.project, row.api_key, row.model, row.requests) == ("default", "backend", "gpt-4.1", 1)


def test_claude_native_prompt_tokens_exclude_cache_reads_and_writes() -> None:
    other = {"claude": True, "cache_tokens": 300, "cache_creation_tokens": 50}
    logs = one_page(item(DAY0 + 60, model_name="claude-sonnet-4-5", prompt_tokens=1000, other=other))
    (row,) = fetch(provider(relay(logs)))[0].rows
    assert row.tokens == tokens_of(input=1000, cached_input=300, cache_write=50, output=100)


def test_items_of_one_bucket_add_up_and_every_bucket_of_the_day_is_listed() -> None:
    logs = one_page(item(DAY0 + 10), item(DAY0 + 3599), item(DAY0 + 3600, token_name="research"))
    (page,) = fetch(provider(relay(logs)))
    assert page.buckets == tuple(range(DAY0, NOW, 3600))
    rows = {(r.bucket_start, r.api_key): (r.requests, r.tokens[0]) for r in page.rows}
    assert rows == {(DAY0, "backend"): (2, 2000), (DAY0 + 3600, "research"): (1, 1000)}
    assert page.closed_until == NOW


def test_each_utc_day_is_its_own_window_and_an_item_on_the_edge_counts_once() -> None:
    seen: list[httpx.Request] = []
    now = DAY0 + 86400 + 3600
    edge = item(DAY0 + 86400)  # 00:00:00 of the second day belongs to the second window only
    p = provider(relay(one_page(item(DAY0 + 86399), edge), seen=seen))
    pages = list(p.fetch_usage("log", DAY0, now, observed_at=now * 1000, now=now))
    windows = [
        (int(r.url.params["start_timestamp"]), int(r.url.params["end_timestamp"]))
        for r in seen
        if "start_timestamp" in r.url.params
    ]
    assert windows == [(DAY0, DAY0 + 86399), (DAY0 + 86400, now - 1)]
    assert [sum(r.requests for r in page.rows) for page in pages] == [1, 1]


def test_offset_pages_are_followed_until_the_total_is_read() -> None:
    items = [item(DAY0 + i) for i in range(250)]

    def logs(request: httpx.Request) -> httpx.Response:
        p = int(request.url.params["p"])
        size = int(request.url.params["page_size"])
        newest_first = items[::-1]
        return ok(
            {"page": p, "page_size": size, "total": 250, "items": newest_first[(p - 1) * size : p * size]}
        )

    seen: list[httpx.Request] = []
    (page,) = fetch(provider(relay(logs, seen=seen)))
    assert sum(r.requests for r in page.rows) == 250
    numbers = [r.url.params["p"] for r in seen if "start_timestamp" in r.url.params]
    assert numbers == ["1", "2", "3"]


def test_a_log_that_moves_while_paging_is_read_again() -> None:
    calls = {"n": 0}

    def logs(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        p = int(request.url.params["p"])
        total = 101 if calls["n"] == 2 else 150  # a row landed inside the window between page 1 and 2
        items = [item(DAY0 + i) for i in range(150)][::-1][(p - 1) * 100 : p * 100]
        return ok({"page": p, "page_size": 100, "total": total, "items": items})

    (page,) = fetch(provider(relay(logs)))
    assert sum(r.requests for r in page.rows) == 150


def test_a_log_that_keeps_moving_is_an_error_not_a_guess() -> None:
    counter = iter(range(1000, 2000))

    def logs(request: httpx.Request) -> httpx.Response:
        return ok({"page": 1, "page_size": 100, "total": next(counter), "items": [item(DAY0)] * 100})

    with pytest.raises(ProviderResponseError, match="result count changed"):
        fetch(provider(relay(logs)))


def test_one_api_answers_a_bare_list_numbered_from_zero() -> None:
    seen: list[httpx.Request] = []
    pages_of = {0: [item(DAY0 + 5), item(DAY0 + 6)], 1: [item(DAY0 + 7)]}

    def logs(request: httpx.Request) -> httpx.Response:
        body = {"success": True, "message": "", "data": pages_of.get(int(request.url.params["p"]), [])}
        return httpx.Response(200, json=body)

    (page,) = fetch(provider(relay(logs, seen=seen)))
    assert sum(r.requests for r in page.rows) == 3
    numbers = [r.url.params["p"] for r in seen if "start_timestamp" in r.url.params]
    assert numbers == ["0", "1", "2"]


def test_other_may_be_an_object_as_the_newest_versions_send_it() -> None:
    logs = one_page(item(DAY0 + 60, other={"cache_tokens": 100}))
    (row,) = fetch(provider(relay(logs)))[0].rows
    assert row.tokens == tokens_of(input=900, cached_input=100, output=100)


def test_the_day_bill_is_quota_over_quota_per_unit_by_group_token_and_model() -> None:
    logs = one_page(
        item(DAY0 + 1, quota=700), item(DAY0 + 2, quota=300), item(DAY0 + 3, group="vip", quota=1)
    )
    p = provider(relay(logs))
    fetch(p)
    ((a, b),) = [
        sorted(((c.project, c.line_item, c.model), c.amount_pico) for c in day)
        for day in p.fetch_costs(DAY0, NOW, now=NOW)
    ]
    assert a == (("default", "backend", "gpt-4.1"), 1000 * 2_000_000)  # $0.002 = 1000 / 500,000
    assert b == (("vip", "backend", "gpt-4.1"), 2_000_000)


def test_quota_per_unit_comes_from_the_relay_and_rounds_half_even() -> None:
    p = provider(relay(one_page(item(DAY0 + 1, quota=1)), status={"quota_per_unit": 300000.0}))
    (day,) = list(p.fetch_costs(DAY0, NOW, now=NOW))
    assert [c.amount_pico for c in day] == [3_333_333]  # 10^12 / 300,000 = 3,333,333.33...


def test_group_ratios_are_the_share_of_list_price_and_rows_without_a_group_take_the_users() -> None:
    p = provider(relay(one_page()))
    fetch(p)
    assert p.list_price_shares() == {"default": Decimal("0.85"), "vip": Decimal("0.6"), "": Decimal("0.85")}


def test_the_balance_is_the_remaining_quota_and_the_limit_all_that_was_granted() -> None:
    (balance,) = provider(relay(one_page())).fetch_balances(now=NOW)
    assert (balance.key, balance.balance_pico, balance.limit_pico) == ("", 2 * 10**12, int(2.5 * 10**12))


def test_http_401_is_an_auth_error_naming_the_access_token() -> None:
    body = {"success": False, "message": "无权进行此操作，access token 无效"}
    p = provider(lambda _r: httpx.Response(401, json=body))
    with pytest.raises(ProviderAuthError) as caught:
        fetch(p)
    text = str(caught.value)
    assert "the access token was rejected" in text and "providers[2].access_token" in text
    assert TOKEN not in text


def test_http_200_with_success_false_about_the_token_is_an_auth_error() -> None:
    def refuse(_r: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"success": False, "message": "无权进行此操作，access token 无效"})

    with pytest.raises(ProviderAuthError, match=r"relay refused the access token \(无权进行此操作") as caught:
        fetch(provider(refuse))
    assert caught.value.reason == "auth"


def test_http_200_with_success_false_otherwise_is_a_failure_with_the_relays_message() -> None:
    def fail(_r: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"success": False, "message": "数据库错误"})

    p = provider(relay(fail))
    with pytest.raises(ProviderResponseError, match=r"answered success: false \(数据库错误\)"):
        fetch(p)
    assert p.stats.errors["client_error"] == 1


def test_a_web_page_instead_of_json_says_to_check_base_url() -> None:
    page = b"<!doctype html><html><body><div id=root></div></body></html>"
    p = provider(lambda _r: httpx.Response(200, content=page, headers={"content-type": "text/html"}))
    with pytest.raises(ProviderResponseError, match="leave out /v1") as caught:
        fetch(p)
    assert "\n" not in str(caught.value)


def test_429_without_retry_after_backs_off_and_retries() -> None:
    waits: list[float] = []
    answers = iter([httpx.Response(429), httpx.Response(429)])

    def logs(request: httpx.Request) -> httpx.Response:
        return next(answers, None) or one_page(item(DAY0 + 1))(request)

    (page,) = fetch(provider(relay(logs), sleep=waits.append))
    assert sum(r.requests for r in page.rows) == 1
    assert len(waits) == 2 and all(0 <= w <= 30 for w in waits)


def test_429_that_never_ends_gives_up_as_rate_limited() -> None:
    p = provider(relay(lambda _r: httpx.Response(429)), max_attempts=3)
    with pytest.raises(ProviderTransientError, match="rate limited") as caught:
        fetch(p)
    assert caught.value.reason == "rate_limited"


def test_an_item_outside_the_window_asked_for_is_refused() -> None:
    def logs(_r: httpx.Request) -> httpx.Response:
        return ok({"page": 1, "page_size": 100, "total": 1, "items": [item(DAY0 - 5)]})

    with pytest.raises(ProviderResponseError, match="outside the window"):
        fetch(provider(relay(logs)))


def test_more_cached_than_prompt_tokens_contradicts_itself() -> None:
    logs = one_page(item(DAY0 + 60, prompt_tokens=10, other={"cache_tokens": 11}))
    with pytest.raises(ProviderResponseError, match=r"prompt_tokens - other\.cache_tokens is negative"):
        fetch(provider(relay(logs)))
