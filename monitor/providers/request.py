"""One attempt of a provider request: the status rules, the total deadline, the bounded streamed body.

`PageRequest.attempt` yields the elements of the page's `data` as they are parsed and returns the
other members; a failure worth another attempt is raised as `Retry` (with how many elements were
already handed on), everything else as the ProviderError the poll reports. The attempt loop and
the backoff live in `monitor.providers.http.ApiClient`.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any, NoReturn

import httpx

from monitor.errors import ProviderAuthError, ProviderResponseError, ProviderTransientError
from monitor.net.jsonstream import ElementTooLarge, JSONStreamError, PageStream
from monitor.net.response import ResponseTooLarge, UnsupportedEncoding, Watchdog, drain_bounded, iter_body
from monitor.net.retry import retry_after_seconds, transient_status

ERROR_BODY_BYTES = 64 * 1024
"""How much of an error answer is read for its message."""


def reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(content: bytes) -> Any:
    """Strict JSON: floats become Decimal (money stays exact), NaN and Infinity are rejected."""
    return json.loads(content, parse_float=Decimal, parse_constant=reject_constant)


@dataclass(frozen=True)
class Send:
    """What one request sends: method and URL (path and query), and an optional JSON or form body and
    per-request headers (a bearer token that changes between requests)."""

    method: str
    url: str
    json_body: Any = None
    form: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Failure:
    reason: str
    detail: str
    retry_after: float | None = None


class Retry(Exception):
    """One attempt failed in a way worth retrying; `done` elements of the page were handed on."""

    def __init__(self, failure: Failure, done: int) -> None:
        self.failure = failure
        self.done = done


@dataclass(frozen=True)
class Envelope:
    """A page's members other than `data`; `has_array` says whether `data` held a list."""

    members: dict[str, Any]
    has_array: bool


@dataclass
class PageRequest:
    """What one account's attempts share: its client, watchdog, bounds, counters and redaction."""

    account: str
    key_hint: str
    client: httpx.Client
    watchdog: Watchdog
    timeout: float
    max_response_bytes: int
    max_bucket_bytes: int
    credential: str
    retry_after_headers: tuple[str, ...]
    errors: Counter[str]
    redact: Callable[[str], str]
    clock: Callable[[], float]
    idle: threading.Event = field(default_factory=threading.Event)
    """Set while no attempt is in flight: `ApiClient.close()` waits for it before closing the client."""

    def __post_init__(self) -> None:
        self.idle.set()

    def attempt(
        self, send: Send, path: str, label: str, skip: int
    ) -> Generator[tuple[int, Any], None, Envelope]:
        """Send `send`; yields (index, element) for the elements from `skip` on; returns the envelope."""
        if self.watchdog.cancelled:
            raise self._cancelled(send.method, path, label)
        index = 0
        self.idle.clear()
        try:
            with (
                self.watchdog.running(self.timeout),
                self.client.stream(
                    send.method,
                    send.url,
                    json=send.json_body,
                    data=send.form,
                    headers=send.headers,
                    timeout=min(self.timeout, self.watchdog.remaining()),
                    extensions={"trace": self.watchdog.trace},
                ) as response,
            ):
                self._check_status(response, send.method, path, label, skip)
                page = PageStream(
                    iter_body(response, self.max_response_bytes),
                    key="data",
                    max_element=self.max_bucket_bytes,
                    parse_float=Decimal,
                    parse_constant=reject_constant,
                )
                for element in page.elements():
                    if index >= skip:
                        with self.watchdog.paused():
                            yield index, element
                    index += 1
                return Envelope(page.members, page.has_array)
        except (httpx.TransportError, JSONStreamError, RecursionError) as exc:
            # A cut connection ends a body without a length like a normal end: ask the watchdog first.
            if self.watchdog.cancelled:
                raise self._cancelled(send.method, path, label) from None
            raise Retry(self._failure(exc), max(index, skip)) from None
        except (ResponseTooLarge, ElementTooLarge, UnsupportedEncoding) as exc:
            self.errors["bad_response"] += 1
            raise ProviderResponseError(
                self.redact(
                    f"{self.account}: {send.method} {path} ({label}): the response is refused: {exc}"
                ),
                account=self.account,
                endpoint=label,
                reason="bad_response",
            ) from None
        finally:
            self.idle.set()

    def _failure(self, exc: Exception) -> Failure:
        if self.watchdog.expired or isinstance(exc, httpx.TimeoutException):
            how = "total deadline" if self.watchdog.expired else type(exc).__name__
            return Failure("timeout", f"no complete answer within {self.timeout:g} s ({how})")
        if isinstance(exc, JSONStreamError | RecursionError | httpx.DecodingError):
            what = "not an object" if "not an object" in str(exc) else "not valid JSON"
            return Failure("bad_response", f"the response body is {what} ({type(exc).__name__}: {exc})")
        return Failure("connection", f"connection failed ({type(exc).__name__}: {exc})")

    def _cancelled(self, method: str, path: str, label: str) -> ProviderTransientError:
        return ProviderTransientError(
            f"{self.account}: {method} {path}: cancelled, the daemon is stopping",
            account=self.account,
            endpoint=label,
            reason="connection",
        )

    def _check_status(self, response: httpx.Response, method: str, path: str, label: str, done: int) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        message = provider_message(response)
        if status in (401, 403):
            self.errors["auth"] += 1
            raise ProviderAuthError(
                self.redact(
                    f"{self.account}: the {self.credential} was rejected (HTTP {status}: {message}); "
                    f"check {self.key_hint}"
                ),
                account=self.account,
                endpoint=label,
                reason="auth",
            )
        if transient_status(status):
            reason = "rate_limited" if status == 429 else "server_error"
            what = "rate limited" if reason == "rate_limited" else "server error"
            now = self._response_date(response)
            waits = (retry_after_seconds(response.headers.get(h), now) for h in self.retry_after_headers)
            after = next((w for w in waits if w is not None), None)
            raise Retry(Failure(reason, f"{what} (HTTP {status})", after), done)
        self.errors["client_error"] += 1
        hint = "; check the base_url" if status in (301, 302, 307, 308, 404) else ""
        raise ProviderResponseError(
            self.redact(f"{self.account}: {method} {path} failed with HTTP {status}: {message}{hint}"),
            account=self.account,
            endpoint=label,
            reason="client_error",
        )

    def _response_date(self, response: httpx.Response) -> float:
        value = response.headers.get("date")
        if value:
            try:
                when = parsedate_to_datetime(value)
                if when.tzinfo is not None:
                    return when.timestamp()
            except (TypeError, ValueError, IndexError):
                pass
        return self.clock()


def provider_message(response: httpx.Response) -> str:
    """The error message of an OpenAI/Anthropic error body, or the start of the raw body, on one line."""
    content = drain_bounded(response, ERROR_BODY_BYTES)
    text = ""
    try:
        body = parse_json(content)
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
        text = content[:200].decode("utf-8", "replace") or response.reason_phrase
    return " ".join(text.split())[:300]
