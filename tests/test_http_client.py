"""ApiClient: retries and backoff, Retry-After, auth and client errors, strict JSON, pagination,
query encoding and redaction, through httpx.MockTransport (no waiting: sleep is injected)."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest

from monitor import __version__
from monitor.errors import ProviderAuthError, ProviderResponseError, ProviderTransientError
from monitor.providers.http import ApiClient, redact, retry_after_seconds

SECRET = "sk-admin-TOPSECRETvalue0123456789"
Handler = Callable[[httpx.Request], httpx.Response]


class MaxRandom(random.Random):
    """Always draws the top of the range, so the jitter ceiling itself is observable."""

    def uniform(self, a: float, b: float) -> float:
        return b


def make_client(handler: Handler, waits: list[float], **kwargs: object) -> ApiClient:
    options: dict[str, object] = {
        "account": "openai-prod",
        "base_url": "https://api.example.test/v1",
        "headers": {"Authorization": f"Bearer {SECRET}"},
        "secrets": (SECRET,),
        "key_hint": "providers[0].api_key",
        "sleep": waits.append,
        "transport": httpx.MockTransport(handler),
    }
    options.update(kwargs)
    return ApiClient(**options)  # type: ignore[arg-type]


def scripted(*responses: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    """A handler answering with `responses` in order (the last one repeats); it records each request."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = responses[min(len(seen), len(responses)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler, seen


def ok(body: object) -> httpx.Response:
    return httpx.Response(200, json=body)


def test_success_returns_the_json_object_and_counts_one_request() -> None:
    handler, seen = scripted(ok({"answer": 42}))
    client = make_client(handler, [])
    assert client.get_json("/thing", [], endpoint="things") == {"answer": 42}
    assert (client.stats.requests, client.stats.retries, client.stats.requests_by_endpoint["things"]) == (
        1,
        0,
        1,
    )
    assert len(seen) == 1


def test_arrays_are_sent_bracket_encoded_in_the_given_order() -> None:
    handler, seen = scripted(ok({}))
    client = make_client(handler, [])
    client.get_json("/usage", [("start_time", "0"), ("group_by[]", "model"), ("group_by[]", "project_id")])
    assert seen[0].url.query == b"start_time=0&group_by[]=model&group_by[]=project_id"
    assert seen[0].url.path == "/v1/usage"


def test_cursor_values_are_percent_encoded() -> None:
    handler, seen = scripted(ok({}))
    make_client(handler, []).get_json("/usage", [("page", "page_AA+/=")])
    assert seen[0].url.params["page"] == "page_AA+/="
    assert b"+" not in seen[0].url.query


def test_user_agent_names_the_project_and_version() -> None:
    handler, seen = scripted(ok({}))
    make_client(handler, []).get_json("/x", [])
    assert seen[0].headers["user-agent"] == f"llm-spend-monitor/{__version__}"


def test_429_without_retry_after_backs_off_exponentially_with_full_jitter() -> None:
    waits: list[float] = []
    handler, _ = scripted(httpx.Response(429), httpx.Response(429), httpx.Response(429), ok({"done": True}))
    client = make_client(handler, waits, rng=MaxRandom())
    assert client.get_json("/x", []) == {"done": True}
    assert waits == [0.5, 1.0, 2.0]
    assert client.stats.errors["rate_limited"] == 3
    assert client.stats.retries == 3


def test_backoff_ceiling_is_capped_at_30_seconds() -> None:
    waits: list[float] = []
    handler, _ = scripted(httpx.Response(503))
    client = make_client(handler, waits, rng=MaxRandom(), max_attempts=9)
    with pytest.raises(ProviderTransientError):
        client.get_json("/x", [])
    assert waits == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_jittered_waits_stay_within_the_exponential_ceiling() -> None:
    waits: list[float] = []
    handler, _ = scripted(httpx.Response(500))
    client = make_client(handler, waits, rng=random.Random(7), max_attempts=6)
    with pytest.raises(ProviderTransientError):
        client.get_json("/x", [])
    ceilings = [0.5, 1.0, 2.0, 4.0, 8.0]
    assert all(0 <= w <= c for w, c in zip(waits, ceilings, strict=True))
    assert len(set(waits)) == len(waits)


def test_retry_after_seconds_is_honoured() -> None:
    waits: list[float] = []
    handler, _ = scripted(httpx.Response(429, headers={"Retry-After": "7"}), ok({}))
    make_client(handler, waits).get_json("/x", [])
    assert waits == [7.0]


def test_retry_after_http_date_is_measured_from_the_response_date() -> None:
    waits: list[float] = []
    sent = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
    headers = {
        "Date": format_datetime(sent, usegmt=True),
        "Retry-After": format_datetime(sent.replace(second=45), usegmt=True),
    }
    handler, _ = scripted(httpx.Response(503, headers=headers), ok({}))
    make_client(handler, waits).get_json("/x", [])
    assert waits == [45.0]


def test_retry_after_http_date_without_a_date_header_uses_the_clock() -> None:
    waits: list[float] = []
    at = datetime(2026, 11, 23, 12, 0, 20, tzinfo=UTC)
    handler, _ = scripted(
        httpx.Response(429, headers={"Retry-After": format_datetime(at, usegmt=True)}), ok({})
    )
    make_client(handler, waits, clock=lambda: at.timestamp() - 12).get_json("/x", [])
    assert waits == [12.0]


def test_retry_after_is_capped() -> None:
    waits: list[float] = []
    handler, _ = scripted(httpx.Response(429, headers={"Retry-After": "86400"}), ok({}))
    make_client(handler, waits).get_json("/x", [])
    assert waits == [120.0]


def test_unparseable_retry_after_falls_back_to_backoff() -> None:
    assert retry_after_seconds("soon, promise", 0.0) is None
    waits: list[float] = []
    handler, _ = scripted(httpx.Response(429, headers={"Retry-After": "soon"}), ok({}))
    make_client(handler, waits, rng=MaxRandom()).get_json("/x", [])
    assert waits == [0.5]


@pytest.mark.parametrize("status", [500, 502, 503, 504, 529])
def test_server_errors_are_retried(status: int) -> None:
    handler, seen = scripted(httpx.Response(status), ok({"v": 1}))
    client = make_client(handler, [])
    assert client.get_json("/x", []) == {"v": 1}
    assert len(seen) == 2
    assert client.stats.errors["server_error"] == 1


def test_attempts_are_bounded_then_a_transient_error_is_raised() -> None:
    waits: list[float] = []
    handler, seen = scripted(httpx.Response(503))
    client = make_client(handler, waits, max_attempts=3)
    with pytest.raises(ProviderTransientError) as caught:
        client.get_json("/organization/usage/completions", [], endpoint="completions")
    assert len(seen) == 3
    assert len(waits) == 2
    assert caught.value.reason == "server_error"
    assert caught.value.endpoint == "completions"
    assert "HTTP 503" in str(caught.value)
    assert "3 attempt" in str(caught.value)


def test_read_timeouts_are_retried_and_reported_as_timeouts() -> None:
    request = httpx.Request("GET", "https://api.example.test/v1/x")
    handler, seen = scripted(httpx.ReadTimeout("read timed out", request=request))
    client = make_client(handler, [], max_attempts=2)
    with pytest.raises(ProviderTransientError) as caught:
        client.get_json("/x", [])
    assert len(seen) == 2
    assert caught.value.reason == "timeout"
    assert client.stats.errors["timeout"] == 2


def test_connection_resets_are_retried() -> None:
    request = httpx.Request("GET", "https://api.example.test/v1/x")
    handler, seen = scripted(
        httpx.ReadError("[Errno 104] Connection reset by peer", request=request), ok({"a": 1})
    )
    client = make_client(handler, [])
    assert client.get_json("/x", []) == {"a": 1}
    assert len(seen) == 2
    assert client.stats.errors["connection"] == 1


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failures_are_not_retried_and_name_the_account_and_key_path(status: int) -> None:
    waits: list[float] = []
    body = {"error": {"message": f"Incorrect API key provided: {SECRET}", "type": "invalid_request_error"}}
    handler, seen = scripted(httpx.Response(status, json=body))
    client = make_client(handler, waits)
    with pytest.raises(ProviderAuthError) as caught:
        client.get_json("/x", [])
    message = str(caught.value)
    assert len(seen) == 1
    assert waits == []
    assert message.startswith(f"openai-prod: the admin key was rejected (HTTP {status}")
    assert message.endswith("check providers[0].api_key")
    assert SECRET not in message
    assert caught.value.reason == "auth"
    assert client.stats.errors["auth"] == 1


def test_other_client_errors_carry_the_provider_message_without_retry() -> None:
    body = {"type": "error", "error": {"type": "invalid_request_error", "message": "limit must be <= 31"}}
    handler, seen = scripted(httpx.Response(400, json=body))
    with pytest.raises(ProviderResponseError) as caught:
        make_client(handler, []).get_json("/x", [])
    assert len(seen) == 1
    assert "HTTP 400" in str(caught.value)
    assert "limit must be <= 31" in str(caught.value)
    assert caught.value.reason == "client_error"


def test_not_found_points_at_the_base_url() -> None:
    handler, _ = scripted(httpx.Response(404, text="Not Found"))
    with pytest.raises(ProviderResponseError, match="check the base_url"):
        make_client(handler, []).get_json("/x", [])


def test_redirects_are_not_followed() -> None:
    handler, seen = scripted(httpx.Response(302, headers={"Location": "https://elsewhere.test/steal"}))
    with pytest.raises(ProviderResponseError, match="HTTP 302"):
        make_client(handler, []).get_json("/x", [])
    assert [r.url.host for r in seen] == ["api.example.test"]


def test_truncated_json_is_retried_then_rejected() -> None:
    handler, seen = scripted(httpx.Response(200, content=b'{"object": "page", "data": [{"obj'))
    client = make_client(handler, [], max_attempts=3)
    with pytest.raises(ProviderResponseError) as caught:
        client.get_json("/x", [])
    assert len(seen) == 3
    assert caught.value.reason == "bad_response"
    assert "not valid JSON" in str(caught.value)


def test_truncated_json_followed_by_a_good_body_recovers() -> None:
    handler, _ = scripted(httpx.Response(200, content=b'{"data": ['), ok({"data": []}))
    assert make_client(handler, []).get_json("/x", []) == {"data": []}


@pytest.mark.parametrize("body", [b"[1, 2]", b'"page"', b"null"])
def test_a_body_that_is_not_an_object_is_rejected(body: bytes) -> None:
    handler, _ = scripted(httpx.Response(200, content=body))
    with pytest.raises(ProviderResponseError, match="not an object"):
        make_client(handler, [], max_attempts=1).get_json("/x", [])


def test_nan_is_not_accepted_as_a_number() -> None:
    handler, _ = scripted(httpx.Response(200, content=b'{"value": NaN}'))
    with pytest.raises(ProviderResponseError):
        make_client(handler, [], max_attempts=1).get_json("/x", [])


def test_json_numbers_with_fractions_are_parsed_exactly() -> None:
    handler, _ = scripted(httpx.Response(200, content=b'{"value": 0.1000000000000000055511151231257827}'))
    value = make_client(handler, []).get_json("/x", [])["value"]
    assert str(value) == "0.1000000000000000055511151231257827"


def envelope(data: list[object], has_more: bool, next_page: str | None) -> httpx.Response:
    return ok({"object": "page", "data": data, "has_more": has_more, "next_page": next_page})


def test_pages_follow_next_page_with_the_same_parameters() -> None:
    handler, seen = scripted(envelope([1], True, "c1"), envelope([2], True, "c2"), envelope([3], False, None))
    client = make_client(handler, [])
    pages = list(client.pages("/usage", [("start_time", "0"), ("group_by[]", "model")], endpoint="usage"))
    assert pages == [[1], [2], [3]]
    assert [r.url.params.get("page") for r in seen] == [None, "c1", "c2"]
    assert {r.url.params["start_time"] for r in seen} == {"0"}
    assert all(r.url.params.get_list("group_by[]") == ["model"] for r in seen)


def test_has_more_without_a_cursor_is_an_error() -> None:
    handler, _ = scripted(envelope([1], True, None))
    with pytest.raises(ProviderResponseError, match="next_page is empty"):
        list(make_client(handler, []).pages("/usage", [], endpoint="usage"))


def test_a_repeated_cursor_stops_the_loop() -> None:
    handler, seen = scripted(envelope([1], True, "same"))
    with pytest.raises(ProviderResponseError, match="repeats"):
        list(make_client(handler, []).pages("/usage", [], endpoint="usage"))
    assert len(seen) == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"data": {}, "has_more": False, "next_page": None}, "data"),
        ({"data": [], "has_more": "no", "next_page": None}, "has_more"),
        ({"data": [], "has_more": False, "next_page": 5}, "next_page"),
        ({"object": "list", "data": [], "has_more": False, "next_page": None}, "page object"),
    ],
)
def test_an_unexpected_envelope_is_rejected_naming_the_field(body: dict[str, object], field: str) -> None:
    handler, _ = scripted(ok(body))
    with pytest.raises(ProviderResponseError, match=field):
        list(make_client(handler, []).pages("/usage", [], endpoint="usage"))


def test_redact_removes_configured_secrets_and_credential_headers() -> None:
    text = f"key {SECRET}; Authorization: Bearer abc.def-123; x-api-key: sk-ant-admin01-zzzzzzzzzz; other sk-proj-abcdefghijkl"
    cleaned = redact(text, [SECRET])
    for leaked in (SECRET, "abc.def-123", "sk-ant-admin01-zzzzzzzzzz", "sk-proj-abcdefghijkl"):
        assert leaked not in cleaned
    assert cleaned.startswith("key [redacted]")


def test_secrets_never_reach_log_records_or_exception_messages(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    echo = json.dumps({"error": {"message": f"upstream said {SECRET} and Bearer {SECRET}"}})
    handler, _ = scripted(
        httpx.Response(503, text=echo),
        httpx.ReadError(f"reset while sending Bearer {SECRET}"),
        httpx.Response(400, text=echo),
    )
    client = make_client(handler, [])
    with pytest.raises(ProviderResponseError) as caught:
        client.get_json("/x", [("q", "1")])
    assert SECRET not in str(caught.value)
    assert caplog.records, "the retries should have been logged"
    for record in caplog.records:
        assert SECRET not in record.getMessage()


def test_retries_are_logged_with_the_path_but_not_the_query(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    handler, _ = scripted(httpx.Response(429), ok({}))
    make_client(handler, []).get_json("/organization/usage/completions", [("start_time", "123456")])
    messages = [r.getMessage() for r in caplog.records]
    assert any("/organization/usage/completions" in m and "HTTP 429" in m for m in messages)
    assert not any("123456" in m for m in messages)


def test_max_attempts_below_one_is_refused() -> None:
    handler, _ = scripted(ok({}))
    with pytest.raises(ValueError, match="max_attempts"):
        make_client(handler, [], max_attempts=0)
