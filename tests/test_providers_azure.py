"""AzureOpenAIProvider against hand-written answers (httpx.MockTransport) shaped as shared/channel-apis.md §3:
the client-credentials token and its reuse, renewal when ARM says it expired, AADSTS errors, metrics
series per deployment, and the Cost Management query (columns by name, nextLink, throttling)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from monitor.errors import ProviderAuthError, ProviderResponseError
from monitor.providers.azure_openai import AzureOpenAIProvider
from monitor.providers.http_options import HttpOptions
from monitor.records import tokens_of

SECRET = "azureClientSECRET~0123456789abcdefghij"
DAY0 = 1795564800  # 2026-11-25
NOW = DAY0 + 2 * 3600 + 1800
RESOURCE = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/acct"
Handler = Callable[[httpx.Request], httpx.Response]


def token_reply(token: str = "eyJ.token-1", expires_in: int = 3599) -> httpx.Response:
    return httpx.Response(200, json={"token_type": "Bearer", "expires_in": expires_in, "access_token": token})


def metric(name: str, series: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        "name": {"value": name, "localizedValue": name},
        "errorCode": "Success",
        "timeseries": [
            {"metadatavalues": [{"name": {"value": "modeldeploymentname"}, "value": d}], "data": points}
            for d, points in series.items()
        ],
    }


def point(hour: int, total: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {"timeStamp": datetime.fromtimestamp(DAY0 + hour * 3600, UTC).isoformat()}
    if total is not None:
        out["total"] = total
    return out


DEPLOYMENTS = {
    "value": [{"name": "chat-prod", "properties": {"model": {"name": "gpt-4.1", "version": "2025-04-14"}}}]
}
METRICS = {
    "value": [
        metric(
            "ProcessedPromptTokens",
            {"Chat-Prod": [point(0, 1000.0), point(1), point(2, 0.0)], "old": [point(1, 7.0)]},
        ),
        metric("GeneratedTokens", {"Chat-Prod": [point(0, 200.0)]}),
        metric("AzureOpenAIRequests", {"Chat-Prod": [point(0, 3.0)]}),
    ]
}


def azure(
    arm: Handler, *, login: Handler | None = None, seen: list[httpx.Request] | None = None
) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        if request.url.host == "login.test":
            return (login or (lambda _r: token_reply()))(request)
        return arm(request)

    return httpx.MockTransport(handler)


def usage_api(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/deployments"):
        return httpx.Response(200, json=DEPLOYMENTS)
    return httpx.Response(200, json=METRICS)


def provider(
    transport: httpx.MockTransport, *, sleep: Callable[[float], None] = lambda _s: None
) -> AzureOpenAIProvider:
    options: dict[str, Any] = {
        "account": "azure",
        "tenant_id": "tenant-1",
        "client_id": "client-1",
        "client_secret": SECRET,
        "subscription_id": "sub",
        "resource_group": "rg",
        "resource": "acct",
        "login_url": "https://login.test",
        "management_url": "https://arm.test",
        "http": HttpOptions(sleep=sleep, transport=transport),
        "key_hint": "providers[4].client_secret",
    }
    return AzureOpenAIProvider(**options)


def usage(p: AzureOpenAIProvider, now: int = NOW) -> list[Any]:
    return [
        r for page in p.fetch_usage("metrics", DAY0, now, observed_at=now * 1000, now=now) for r in page.rows
    ]


def test_the_token_comes_from_the_client_credentials_flow_and_is_reused() -> None:
    seen: list[httpx.Request] = []
    p = provider(azure(usage_api, seen=seen))
    usage(p)
    usage(p, NOW + 600)
    logins = [r for r in seen if r.url.host == "login.test"]
    assert len(logins) == 1 and logins[0].url.path == "/tenant-1/oauth2/v2.0/token"
    form = parse_qs(logins[0].content.decode())
    assert form == {
        "client_id": ["client-1"],
        "client_secret": [SECRET],
        "grant_type": ["client_credentials"],
        "scope": ["https://arm.test/.default"],
    }
    assert all(r.headers["authorization"] == "Bearer eyJ.token-1" for r in seen if r.url.host == "arm.test")


def test_a_token_about_to_expire_is_replaced_before_it_is_used() -> None:
    seen: list[httpx.Request] = []
    p = provider(azure(usage_api, seen=seen))
    usage(p)
    usage(p, NOW + 3599 - 200)
    assert sum(1 for r in seen if r.url.host == "login.test") == 2


def test_an_expired_token_is_renewed_once_and_the_request_repeated() -> None:
    tokens = iter(["eyJ.old", "eyJ.new"])
    expired = {"error": {"code": "ExpiredAuthenticationToken", "message": "The access token expiry ..."}}

    def arm(request: httpx.Request) -> httpx.Response:
        if request.headers["authorization"] == "Bearer eyJ.old":
            return httpx.Response(401, json=expired)
        return usage_api(request)

    seen: list[httpx.Request] = []
    p = provider(azure(arm, login=lambda _r: token_reply(next(tokens)), seen=seen))
    assert usage(p)
    assert sum(1 for r in seen if r.url.host == "login.test") == 2


def test_a_token_refused_again_after_renewal_is_an_auth_error() -> None:
    refused = {"error": {"code": "AuthorizationFailed", "message": "The client does not have authorization"}}
    p = provider(azure(lambda _r: httpx.Response(403, json=refused)))
    with pytest.raises(ProviderAuthError, match="does not have authorization"):
        usage(p)


def test_an_aadsts_error_is_one_line_with_entra_ids_own_words_and_no_secret() -> None:
    body = {
        "error": "invalid_client",
        "error_description": f"AADSTS7000215: Invalid client secret provided. Ensure the secret ({SECRET}) ...",
        "error_codes": [7000215],
    }
    p = provider(azure(usage_api, login=lambda _r: httpx.Response(401, json=body)))
    with pytest.raises(ProviderAuthError) as caught:
        usage(p)
    text = str(caught.value)
    assert "AADSTS7000215: Invalid client secret provided" in text
    assert "providers[4].client_secret" in text and "Entra ID refused the token request" in text
    assert SECRET not in text and "\n" not in text


def test_metrics_become_hourly_rows_per_deployment_with_its_model() -> None:
    rows = usage(provider(azure(usage_api)))
    got = {(r.bucket_start, r.project, r.model): (r.tokens, r.requests) for r in rows}
    assert got == {
        (DAY0, "Chat-Prod", "gpt-4.1"): (tokens_of(input=1000, output=200), 3),
        (DAY0 + 3600, "old", "old"): (tokens_of(input=7), 0),  # a deleted deployment keeps its name
    }


def test_every_hour_up_to_now_is_a_bucket_of_the_days_page() -> None:
    (page,) = provider(azure(usage_api)).fetch_usage("metrics", DAY0, NOW, observed_at=NOW * 1000, now=NOW)
    assert page.buckets == (DAY0, DAY0 + 3600, DAY0 + 7200) and page.closed_until == DAY0 + 7200


def test_a_fractional_token_count_is_refused() -> None:
    bad = {"value": [metric("GeneratedTokens", {"chat-prod": [point(0, 1.5)]})]}
    p = provider(
        azure(lambda r: httpx.Response(200, json=DEPLOYMENTS if r.url.path.endswith("deployments") else bad))
    )
    with pytest.raises(ProviderResponseError, match="expected a whole count"):
        usage(p)


def test_a_metric_that_failed_inside_a_200_is_an_error() -> None:
    failed = {
        "value": [
            {
                "name": {"value": "GeneratedTokens"},
                "errorCode": "Throttled",
                "errorMessage": "try later",
                "timeseries": [],
            }
        ]
    }
    p = provider(
        azure(
            lambda r: httpx.Response(200, json=DEPLOYMENTS if r.url.path.endswith("deployments") else failed)
        )
    )
    with pytest.raises(ProviderResponseError, match="could not read GeneratedTokens: try later"):
        usage(p)


def cost_page(
    rows: list[list[Any]],
    next_link: str | None = None,
    *,
    columns: tuple[str, ...] = ("Cost", "UsageDate", "ResourceId", "Meter", "Currency"),
) -> httpx.Response:
    cols = [{"name": c, "type": "String"} for c in columns]
    return httpx.Response(200, json={"properties": {"nextLink": next_link, "columns": cols, "rows": rows}})


def costs(p: AzureOpenAIProvider) -> list[Any]:
    return [c for page in p.fetch_costs(DAY0, NOW, now=NOW) for c in page]


def test_the_bill_is_read_by_column_name_for_this_resource_only() -> None:
    rows = [
        [20261125, "gpt 4.1 Inp glbl Tokens", 0.123456789, RESOURCE.lower(), "USD"],
        [
            20261125,
            "LRS Data Stored",
            9.5,
            "/subscriptions/sub/resourcegroups/rg/providers/microsoft.storage/storageaccounts/x",
            "USD",
        ],
    ]
    p = provider(
        azure(lambda _r: cost_page(rows, columns=("UsageDate", "Meter", "Cost", "ResourceId", "Currency")))
    )
    assert [(c.day_start, c.line_item, c.amount_pico) for c in costs(p)] == [
        (DAY0, "gpt 4.1 Inp glbl Tokens", 123_456_789_000)
    ]


def test_next_link_is_posted_again_with_the_same_body() -> None:
    seen: list[httpx.Request] = []
    link = "https://arm.test/subscriptions/sub/resourceGroups/rg/providers/Microsoft.CostManagement/query?api-version=2023-11-01&$skiptoken=2"

    def arm(request: httpx.Request) -> httpx.Response:
        if "$skiptoken" in str(request.url):
            return cost_page([[0.5, 20261125, RESOURCE, "b", "USD"]])
        return cost_page([[0.25, 20261125, RESOURCE, "a", "USD"]], link)

    p = provider(azure(arm, seen=seen))
    assert [c.amount_pico for c in costs(p)] == [250 * 10**9, 500 * 10**9]
    posts = [r for r in seen if r.url.host == "arm.test"]
    assert [r.method for r in posts] == ["POST", "POST"]
    assert json.loads(posts[0].content) == json.loads(posts[1].content)
    assert json.loads(posts[0].content)["dataset"]["granularity"] == "Daily"


def test_a_next_link_to_another_host_is_not_followed() -> None:
    p = provider(azure(lambda _r: cost_page([], "https://evil.test/steal")))
    with pytest.raises(ProviderResponseError, match="another host than management_url"):
        costs(p)


def test_a_bill_in_another_currency_is_refused() -> None:
    p = provider(azure(lambda _r: cost_page([[1.0, 20261125, RESOURCE, "a", "EUR"]])))
    with pytest.raises(ProviderResponseError, match="the bill is in EUR; only USD bills are supported"):
        costs(p)


def test_cost_management_throttling_waits_as_its_header_says() -> None:
    waits: list[float] = []
    answers = iter(
        [httpx.Response(429, headers={"x-ms-ratelimit-microsoft.costmanagement-qpu-retry-after": "7"})]
    )

    def arm(_r: httpx.Request) -> httpx.Response:
        return next(answers, None) or cost_page([[1.0, 20261125, RESOURCE, "a", "USD"]])

    p = provider(azure(arm), sleep=waits.append)
    assert [c.amount_pico for c in costs(p)] == [10**12]
    assert waits == [7.0]
