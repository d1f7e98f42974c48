"""Shared HTTP discipline of the provider adapters: one client per account with bounded retries,
backoff with full jitter, Retry-After, strict JSON and envelope checks, secret redaction and counters.

Both adapters must behave the same when a provider is slow, rate-limits or answers garbage, and no
secret may leak through either of them: every log line and exception message here goes through
`redact`, and only request paths (never full URLs or headers) are logged.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any, NoReturn
from urllib.parse import quote, urlencode

import httpx

from monitor import __version__
from monitor.errors import ProviderAuthError, ProviderResponseError, ProviderTransientError
from monitor.providers.payload import Fields

log = logging.getLogger(__name__)

USER_AGENT = f"llm-spend-monitor/{__version__}"
REASONS: tuple[str, ...] = (
    "rate_limited",
    "server_error",
    "timeout",
    "connection",
    "auth",
    "bad_response",
    "client_error",
)
"""The `reason` label values of spend_monitor_poll_errors_total."""

RETRY_STATUSES: Mapping[int, str] = {
    429: "rate_limited",
    500: "server_error",
    502: "server_error",
    503: "server_error",
    504: "server_error",
    529: "server_error",  # Anthropic's "overloaded_error"
}
MAX_PAGES = 10_000
"""Pages one fetch follows at most: a provider handing out endless new cursors is a bad response."""
REDACTED = "[redacted]"
_HEADER_VALUE = re.compile(r"(?i)\b(bearer\s+|x-api-key[\"']?\s*[:=]\s*[\"']?)[^\s\"',;]+")
_KEY_LIKE = re.compile(r"\bsk-[A-Za-z0-9_-]{8,}")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every given secret, Bearer token, x-api-key value and `sk-...` key replaced."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = _HEADER_VALUE.sub(lambda m: m.group(1) + REDACTED, text)
    return _KEY_LIKE.sub(REDACTED, text)


def encode_query(params: Sequence[tuple[str, str]]) -> str:
    """Percent-encode a query but keep `[]` literal, so arrays go out as `group_by[]=a&group_by[]=b`."""
    return urlencode(list(params), safe="[]:", quote_via=quote)


def parse_json(content: bytes) -> Any:
    """Strict JSON: floats become Decimal (money stays exact), NaN and Infinity are rejected."""

    def reject(name: str) -> NoReturn:
        raise ValueError(f"{name} is not a JSON number")

    return json.loads(content, parse_float=Decimal, parse_constant=reject)


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """A Retry-After header (integer seconds or an HTTP date) as seconds from `now`; None if absent/bad."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)


@dataclass
class ApiStats:
    """Counters the daemon turns into self-metrics. Every HTTP attempt is a request; every failed
    attempt (retried or not, plus payloads rejected by the adapters) counts once under its reason."""

    requests: int = 0
    retries: int = 0
    errors: Counter[str] = field(default_factory=lambda: Counter(dict.fromkeys(REASONS, 0)))
    requests_by_endpoint: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class _Send:
    method: str
    url: str
    json_body: Any
    form: dict[str, str] | None
    headers: dict[str, str]


@dataclass(frozen=True)
class _Failure:
    reason: str
    detail: str
    retry_after: float | None = None


class ApiClient:
    """One `httpx.Client` per provider account, with the retry, redaction and counting rules above.

    `sleep`, `rng` and `clock` (used only to read HTTP-date Retry-After values when the response has no
    Date header) are injectable so tests never wait. `key_hint` names where the key is configured.
    """

    def __init__(
        self,
        *,
        account: str,
        base_url: str,
        headers: Mapping[str, str],
        secrets: Sequence[str],
        key_hint: str,
        timeout: float = 30.0,
        max_attempts: int = 5,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        retry_after_cap: float = 120.0,
        max_pages: int = MAX_PAGES,
        credential: str = "admin key",
        retry_after_headers: Sequence[str] = ("retry-after",),
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if httpx.URL(base_url).userinfo:
            # httpx logs request URLs; the URL is not quoted here for the same reason.
            raise ValueError(
                f"{account}: base_url must not carry user:password@ (the key belongs in api_key)"
            )
        self.account = account
        self.key_hint = key_hint
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.retry_after_cap = retry_after_cap
        self.max_pages = max_pages
        self.credential = credential
        self.retry_after_headers = tuple(retry_after_headers)
        self.stats = ApiStats()
        self._secrets = tuple(s for s in secrets if s)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._clock = clock
        self._client = httpx.Client(
            base_url=base_url,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json", **headers},
            timeout=timeout,
            transport=transport,
            follow_redirects=False,  # a redirect elsewhere must not carry the key along
        )

    def redact(self, text: str) -> str:
        """`text` without this account's secrets (see the module function `redact`)."""
        return redact(text, self._secrets)

    def close(self) -> None:
        self._client.close()

    def get_json(self, path: str, params: Sequence[tuple[str, str]], *, endpoint: str = "") -> dict[str, Any]:
        """GET `path` with `params` (pairs, repeated keys allowed) and return the JSON object body.

        Retries 429, 5xx, timeouts, connection errors and unparseable bodies up to `max_attempts` in all;
        raises ProviderAuthError (401/403, at once), ProviderResponseError (other 4xx, bad body) or
        ProviderTransientError (retries exhausted).
        """
        return self.request_json("GET", path, params, endpoint=endpoint)

    def request_json(
        self,
        method: str,
        path: str,
        params: Sequence[tuple[str, str]] = (),
        *,
        endpoint: str = "",
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """`get_json` for any method: a JSON (`json_body`) or form (`form`) body, and `headers` added to
        this request only (a token that changes between requests). Same retries and errors; a form or
        header value never reaches a message (pass secrets in `secrets` so they are redacted)."""
        url = f"{path}?{encode_query(params)}" if params else path
        label = endpoint or path
        send = _Send(method, url, json_body, None if form is None else dict(form), dict(headers or {}))
        failure = _Failure("connection", "no attempt made")
        for attempt in range(1, self.max_attempts + 1):
            self.stats.requests += 1
            self.stats.requests_by_endpoint[label] += 1
            outcome = self._attempt(send, path, label)
            if isinstance(outcome, dict):
                return outcome
            failure = outcome
            self.stats.errors[failure.reason] += 1
            if attempt == self.max_attempts:
                break
            wait = self._backoff(attempt, failure.retry_after)
            self.stats.retries += 1
            log.warning(
                "%s: %s %s: %s; retry %d of %d in %.1f s",
                self.account,
                method,
                path,
                self.redact(failure.detail),
                attempt,
                self.max_attempts - 1,
                wait,
            )
            self._sleep(wait)
        message = self.redact(
            f"{self.account}: {method} {path}: {failure.detail}; gave up after {self.max_attempts} attempt(s)"
        )
        error = ProviderResponseError if failure.reason == "bad_response" else ProviderTransientError
        raise error(message, account=self.account, endpoint=label, reason=failure.reason)

    def pages(self, path: str, params: Sequence[tuple[str, str]], *, endpoint: str) -> Iterator[list[Any]]:
        """Follow `next_page` while `has_more`, yielding each page's `data` list (whole, never partial)."""
        fields = self.fields(endpoint)
        seen: set[str] = set()
        cursor: str | None = None
        number = 1
        while True:
            query = [*params, ("page", cursor)] if cursor else list(params)
            body = self.get_json(path, query, endpoint=endpoint)
            where = f"page {number}"
            if body.get("object", "page") != "page":
                raise fields.error(where, f"expected a page object, got object={body.get('object')!r:.40}")
            data = fields.items(body, "data", where)
            has_more = body.get("has_more")
            if not isinstance(has_more, bool):
                raise fields.error(f"{where}.has_more", f"expected true or false, got {has_more!r:.40}")
            next_page = body.get("next_page")
            if next_page is not None and not isinstance(next_page, str):
                raise fields.error(f"{where}.next_page", f"expected a string or null, got {next_page!r:.40}")
            yield data
            if not has_more:
                return
            if not next_page:
                raise fields.error(f"{where}.next_page", "has_more is true but next_page is empty")
            if next_page in seen:
                raise fields.error(f"{where}.next_page", "the cursor repeats an earlier one; stopped a loop")
            if number >= self.max_pages:
                raise fields.error(
                    f"{where}.next_page",
                    f"still more pages after {number}; stopped (at most {self.max_pages})",
                )
            seen.add(next_page)
            cursor = next_page
            number += 1

    def fields(self, endpoint: str) -> Fields:
        """A typed reader for payloads of `endpoint` whose errors name the field and count as bad_response."""
        return Fields(self.account, endpoint, redact=self.redact, errors=self.stats.errors)

    def _attempt(self, send: _Send, path: str, label: str) -> dict[str, Any] | _Failure:
        try:
            response = self._client.request(
                send.method, send.url, json=send.json_body, data=send.form, headers=send.headers
            )
        except httpx.TimeoutException as exc:
            return _Failure("timeout", f"timed out after {self.timeout:g} s ({type(exc).__name__})")
        except httpx.TransportError as exc:
            return _Failure("connection", f"connection failed ({type(exc).__name__}: {exc})")
        status = response.status_code
        if status in (401, 403):
            self.stats.errors["auth"] += 1
            raise ProviderAuthError(
                self.redact(
                    f"{self.account}: the {self.credential} was rejected (HTTP {status}: "
                    f"{self._provider_message(response)}); check {self.key_hint}"
                ),
                account=self.account,
                endpoint=label,
                reason="auth",
            )
        if status in RETRY_STATUSES:
            reason = RETRY_STATUSES[status]
            what = "rate limited" if reason == "rate_limited" else "server error"
            now = self._response_date(response)
            waits = (retry_after_seconds(response.headers.get(h), now) for h in self.retry_after_headers)
            return _Failure(
                reason, f"{what} (HTTP {status})", next((w for w in waits if w is not None), None)
            )
        if not 200 <= status < 300:
            self.stats.errors["client_error"] += 1
            hint = "; check the base_url" if status in (301, 302, 307, 308, 404) else ""
            raise ProviderResponseError(
                self.redact(
                    f"{self.account}: {send.method} {path} failed with HTTP {status}: "
                    f"{self._provider_message(response)}{hint}"
                ),
                account=self.account,
                endpoint=label,
                reason="client_error",
            )
        try:
            body = parse_json(response.content)
        except (ValueError, RecursionError) as exc:
            return _Failure("bad_response", f"the response body is not valid JSON ({type(exc).__name__})")
        if not isinstance(body, dict):
            return _Failure(
                "bad_response", f"the response body is a JSON {type(body).__name__}, not an object"
            )
        return body

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        """Retry-After when given (capped), else full jitter: uniform(0, min(cap, base * 2**(attempt-1)))."""
        if retry_after is not None:
            return min(retry_after, self.retry_after_cap)
        return self._rng.uniform(0.0, min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1)))

    def _response_date(self, response: httpx.Response) -> float:
        value = response.headers.get("date")
        if value:
            try:
                when = parsedate_to_datetime(value)
                if when.tzinfo is not None:
                    return when.timestamp()
            except (TypeError, ValueError, IndexError):
                pass
        return self._clock()

    @staticmethod
    def _provider_message(response: httpx.Response) -> str:
        """The error message of an OpenAI/Anthropic error body, or the start of the raw body, on one line."""
        text = ""
        try:
            body = parse_json(response.content)
        except (ValueError, RecursionError):
            body = None
        if isinstance(body, dict):
            error = body.get("error")
            if isinstance(error, dict) and isinstance(error.get("message"), str):
                text = error["message"]
            elif isinstance(error, str) and isinstance(body.get("error_description"), str):
                text = body["error_description"]  # an OAuth 2.0 error (RFC 6749 5.2), e.g. AADSTS...
            elif isinstance(error, str):
                text = error
            elif isinstance(body.get("message"), str):
                text = body["message"]
        if not text:
            text = response.content[:200].decode("utf-8", "replace") or response.reason_phrase
        return " ".join(text.split())[:300]
