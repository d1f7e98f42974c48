"""A simulated Azure OpenAI resource (shared/channel-apis.md §3): the Microsoft identity platform's token
endpoint under `{url}/azure/login`, and under `{url}/azure/arm` the resource's deployments, its Azure
Monitor metrics and Cost Management's query for its resource group.

What Azure does and this one copies (channel-apis.md section in brackets):
- `POST /{tenant}/oauth2/v2.0/token` with a form (client_id, client_secret, grant_type
  client_credentials, scope `<management>/.default`) returns `access_token` and `expires_in` 3599; a
  wrong secret is 401 `invalid_client` with `AADSTS7000215: Invalid client secret provided. ...`, an
  unknown tenant 400 `AADSTS90002` [3.1, S8, S14];
- ARM wants `Authorization: Bearer <token>`; an expired token is 401 `ExpiredAuthenticationToken`
  [3.1, S15]; `/deployments` maps deployment names to models [3.2, S18];
- metrics (api-version 2023-10-01): `timespan`, `interval` PT1H, `metricnames`, `aggregation=Total`,
  `$filter=ModelDeploymentName eq '*'`, `top`; one series per deployment with the dimension name
  lower-cased; an hour without data comes as a point without `total` or with 0.0 (which one Azure
  sends is unconfirmed: both are served); prompt tokens include cached ones and are not split [3.2];
- Cost Management `POST .../providers/Microsoft.CostManagement/query` (2023-11-01): daily rows indexed
  by column name (`Cost`, `UsageDate` as YYYYMMDD, `ResourceId` lower-cased, `Meter`, `Currency`),
  `nextLink` with `$skiptoken` to POST again, 429 with `x-ms-ratelimit-microsoft.costmanagement-qpu-
  retry-after` [3.3]. The meters price uncached input, cached input and output separately.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

from monitor.simulator.azure_arm import costs_reply, metrics_reply
from monitor.simulator.channel import ChannelRequest, day_of, hour_rng, hour_volume
from monitor.simulator.generate import HOUR
from monitor.simulator.wire import Reply

# deployment: (model, version, meter stem, USD per 1M: input, cached input, output)
DEPLOYMENTS: dict[str, tuple[str, str, str, tuple[Decimal, Decimal, Decimal]]] = {
    "chat-prod": ("gpt-4.1", "2025-04-14", "gpt 4.1", (Decimal(2), Decimal("0.5"), Decimal(8))),
    "chat-mini": (
        "gpt-4.1-mini",
        "2025-04-14",
        "gpt 4.1 mini",
        (Decimal("0.4"), Decimal("0.1"), Decimal("1.6")),
    ),
    "Batch-Nano": (
        "gpt-4.1-nano",
        "2025-04-14",
        "gpt 4.1 nano",
        (Decimal("0.1"), Decimal("0.025"), Decimal("0.4")),
    ),
}
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "0b1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
SUBSCRIPTION = "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d"
RESOURCE_GROUP = "rg-llm"
ACCOUNT = "contoso-openai"
TOKEN_LIFETIME = 3599


@dataclass(frozen=True, slots=True)
class Hour:
    """One deployment's hour: requests, prompt tokens (cached included), cached, completion tokens."""

    requests: int
    prompt: int
    cached: int
    completion: int


@dataclass(frozen=True, slots=True)
class AzureTruth:
    """What the metrics count and what the bill says, for hours and days starting in [start, end)."""

    tokens: Mapping[str, int]
    requests: int
    bill_by_day: Mapping[int, Decimal]
    bill: Decimal


class AzureSim:
    """One Azure OpenAI resource, its service principal and its bill."""

    prefix = "/azure"

    def __init__(self, *, seed: int, history_start: int, client_secret: str, scale: float) -> None:
        self.seed, self.history_start, self.scale = seed, history_start, scale
        self.client_secret = client_secret
        self.cost_page_rows = 1000
        """Rows per Cost Management page (tests lower it to make the query page)."""
        self.tokens_issued = 0
        self._tokens: dict[str, int] = {}
        self._hours: dict[int, dict[str, Hour]] = {}
        self._lock = threading.Lock()

    @property
    def secrets(self) -> tuple[str, ...]:
        with self._lock:
            return (self.client_secret, *self._tokens)

    deployments = DEPLOYMENTS
    group_id = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}"
    resource_id = f"{group_id}/providers/Microsoft.CognitiveServices/accounts/{ACCOUNT}"

    # ---- the books -------------------------------------------------------------------------------

    def hour(self, hour: int) -> dict[str, Hour]:
        with self._lock:
            cached = self._hours.get(hour)
        if cached is not None:
            return cached
        rng = hour_rng(self.seed, "azure", hour)
        made: dict[str, Hour] = {}
        for name, weight in zip(DEPLOYMENTS, (8, 12, 3), strict=True):
            n = 0 if hour < self.history_start else hour_volume(rng, hour, weight * self.scale)
            prompt = sum(rng.randint(500, 5000) for _ in range(n))
            hits = int(prompt * rng.choice((0, 0.2, 0.45)))
            made[name] = Hour(n, prompt, hits, sum(rng.randint(50, 700) for _ in range(n)))
        with self._lock:
            self._hours[hour] = made
        return made

    def visible(self, hour: int, now: int) -> dict[str, Hour]:
        """The hour as counted by `now`: complete once over, a proportional share while it runs."""
        if hour >= now:
            return {}
        full = self.hour(hour)
        if now >= hour + HOUR:
            return full
        share = now - hour
        return {
            name: Hour(
                h.requests * share // HOUR,
                h.prompt * share // HOUR,
                h.cached * share // HOUR,
                h.completion * share // HOUR,
            )
            for name, h in full.items()
        }

    def meter_costs(self, hour: int, now: int) -> dict[str, Decimal]:
        """The hour's cost per meter: uncached input, cached input and output priced apart."""
        costs: dict[str, Decimal] = {}
        for name, h in self.visible(hour, now).items():
            _, _, stem, (inp, cached, out) = DEPLOYMENTS[name]
            for meter, amount in (
                (f"{stem} Inp glbl Tokens", (h.prompt - h.cached) * inp),
                (f"{stem} cached Inp glbl Tokens", h.cached * cached),
                (f"{stem} Outp glbl Tokens", h.completion * out),
            ):
                if amount:
                    costs[meter] = costs.get(meter, Decimal(0)) + amount / 1_000_000
        return costs

    def truth(self, start: int, end: int, now: int) -> AzureTruth:
        tokens = {"input": 0, "output": 0}
        requests = 0
        by_day: dict[int, Decimal] = {}
        for hour in range(max(start - start % HOUR, self.history_start), min(end, now), HOUR):
            for h in self.visible(hour, now).values():
                tokens["input"] += h.prompt
                tokens["output"] += h.completion
                requests += h.requests
            day = by_day.setdefault(day_of(hour), Decimal(0))
            by_day[day_of(hour)] = day + sum(self.meter_costs(hour, now).values(), Decimal(0))
        by_day = {d: v for d, v in by_day.items() if v}
        return AzureTruth(tokens, requests, by_day, sum(by_day.values(), Decimal(0)))

    def expire_tokens(self) -> None:
        """Every token issued so far stops working (as if their hour had passed)."""
        with self._lock:
            self._tokens = dict.fromkeys(self._tokens, 0)

    # ---- the API ---------------------------------------------------------------------------------

    def fault(self, name: str, retry_after: int | None) -> Reply | None:
        if name.startswith("429"):
            headers = {"x-ms-ratelimit-microsoft.costmanagement-qpu-retry-after": str(retry_after or 1)}
            body = {"error": {"code": "429", "message": "Too many requests. Please retry."}}
            return Reply(429, body, headers if name == "429" else {})
        if name == "token-expired":
            return _arm_error(
                401,
                "ExpiredAuthenticationToken",
                "The access token expiry UTC time is earlier than current UTC time.",
            )
        if name == "aadsts":
            return _aadsts(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
            )
        return None

    def handle(self, request: ChannelRequest) -> Reply:
        if request.path.startswith("/login/"):
            return self._token(request)
        if not request.path.startswith("/arm/"):
            return _arm_error(404, "NotFound", "no such API")
        path = request.path.removeprefix("/arm")
        given = request.headers.get("authorization", "")
        if not given.startswith("Bearer "):
            return _arm_error(
                401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."
            )
        with self._lock:
            expires = self._tokens.get(given.removeprefix("Bearer "))
        if expires is None:
            return _arm_error(401, "InvalidAuthenticationToken", "The access token is invalid.")
        if request.now >= expires:
            return _arm_error(
                401,
                "ExpiredAuthenticationToken",
                "The access token expiry UTC time is earlier than current UTC time.",
            )
        if path == f"{self.resource_id}/deployments" and request.method == "GET":
            return Reply(200, {"value": [_deployment(name) for name in DEPLOYMENTS]})
        if path == f"{self.resource_id}/providers/Microsoft.Insights/metrics" and request.method == "GET":
            return metrics_reply(self, request)
        if path == f"{self.group_id}/providers/Microsoft.CostManagement/query" and request.method == "POST":
            return costs_reply(self, request)
        return _arm_error(404, "ResourceNotFound", f"The resource '{path[:80]}' was not found.")

    def _token(self, request: ChannelRequest) -> Reply:
        if request.method != "POST" or request.path != f"/login/{TENANT}/oauth2/v2.0/token":
            return _aadsts(400, "invalid_request", 90002, f"Tenant '{request.path[7:43]}' not found.")
        form = {k: v[-1] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}
        if form.get("grant_type") != "client_credentials" or form.get("client_id") != CLIENT_ID:
            return _aadsts(
                400,
                "unauthorized_client",
                700016,
                "Application with identifier was not found in the directory.",
            )
        if not form.get("scope", "").endswith("/.default"):
            return _aadsts(
                400,
                "invalid_scope",
                70011,
                "The provided value for the input parameter 'scope' is not valid.",
            )
        if not hmac.compare_digest(form.get("client_secret", "").encode(), self.client_secret.encode()):
            return self.fault("aadsts", None) or Reply(401, {})
        token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9." + secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = request.now + TOKEN_LIFETIME
            self.tokens_issued += 1
        body = {
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME,
            "ext_expires_in": TOKEN_LIFETIME,
            "access_token": token,
        }
        return Reply(200, body)


def _deployment(name: str) -> dict[str, Any]:
    model, version, _, _ = DEPLOYMENTS[name]
    return {
        "id": f"/deployments/{name}",
        "name": name,
        "properties": {
            "model": {"format": "OpenAI", "name": model, "version": version},
            "provisioningState": "Succeeded",
        },
        "sku": {"name": "GlobalStandard", "capacity": 100},
    }


def _arm_error(status: int, code: str, message: str) -> Reply:
    return Reply(status, {"error": {"code": code, "message": message}})


def _aadsts(status: int, error: str, code: int, text: str) -> Reply:
    body = {
        "error": error,
        "error_description": f"AADSTS{code}: {text} Trace ID: 0000 Correlation ID: 1111 Timestamp: 2026-11-25 10:30:00Z",
        "error_codes": [code],
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }
    return Reply(status, body)
