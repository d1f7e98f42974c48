"""Shared HTTP discipline of the provider adapters: one client per account with bounded retries (the
shared `RetryPolicy`), Retry-After, a total deadline per request, bounded and streamed bodies, strict
JSON and envelope checks, secret redaction and counters.

Both adapters must behave the same when a provider is slow, rate-limits or answers garbage, and no
secret may leak through either of them: every log line and exception message here goes through
`redact`, and only request paths (never full URLs or headers) are logged.

Pages are parsed as they arrive (`monitor.net.jsonstream`): a 48-hour revision window is one page of
tens of MB, and holding it whole (bytes, then a tree of dicts) cost hundreds of MB per poll.
`parts()` hands the buckets on in parts of whole buckets, so the poller prices and writes a large
page part by part; the cursor paging behind `pages()` and `parts()` (`next_page` while `has_more`,
the page envelope's checks and bounds) is in `paging.py`.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from monitor import __version__
from monitor.errors import ProviderResponseError, ProviderTransientError
from monitor.net.response import Watchdog
from monitor.net.retry import RetryPolicy, retry_after_seconds
from monitor.providers.paging import PART_RESULTS, Element, cursor_elements, parts_of, whole_pages
from monitor.providers.payload import Fields
from monitor.providers.request import Envelope, Failure, PageRequest, Retry, Send, parse_json
from monitor.redaction import REDACTED, redact

__all__ = ["REDACTED", "ApiClient", "ApiStats", "encode_query", "parse_json", "redact", "retry_after_seconds"]

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

PROVIDERS = RetryPolicy(base=0.5, cap=30.0, jitter=(0.0, 1.0), retry_after_cap=120.0, max_attempts=5)
"""The providers' settings of the shared retry policy: full jitter, a few attempts within one poll."""
MAX_PAGES = 500
"""Pages one fetch follows at most (a year of 1-minute buckets is 366 pages): endless cursors stop here."""
MAX_RESPONSE_BYTES = 512 * 2**20
"""Decompressed bytes of one response at most; larger is a bad_response naming the endpoint."""
MAX_BUCKET_BYTES = 32 * 2**20
"""Characters of one bucket at most (a bucket is parsed whole)."""


def encode_query(params: Sequence[tuple[str, str]]) -> str:
    """Percent-encode a query but keep `[]` literal, so arrays go out as `group_by[]=a&group_by[]=b`."""
    return urlencode(list(params), safe="[]:", quote_via=quote)


@dataclass
class ApiStats:
    """Counters the daemon turns into self-metrics. Every HTTP attempt is a request; every failed
    attempt (retried or not, plus payloads rejected by the adapters) counts once under its reason."""

    requests: int = 0
    retries: int = 0
    errors: Counter[str] = field(default_factory=lambda: Counter(dict.fromkeys(REASONS, 0)))
    requests_by_endpoint: Counter[str] = field(default_factory=Counter)


class ApiClient:
    """One `httpx.Client` per provider account, with the retry, deadline, bound and redaction rules above.

    `sleep`, `rng` and `clock` (used only to read HTTP-date Retry-After values when the response has no
    Date header) are injectable so tests never wait. `key_hint` names where the key is configured.
    `timeout` is each request's total deadline; `cancel()` cuts a request in flight (shutdown).
    `credential` names the secret in a 401/403 message ("admin key", "access token", ...);
    `retry_after_headers` are read in order for the wait a 429 asks for (Azure has its own names).
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
        backoff_base: float = PROVIDERS.base,
        backoff_cap: float = PROVIDERS.cap,
        retry_after_cap: float = 120.0,
        max_pages: int = MAX_PAGES,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        max_bucket_bytes: int = MAX_BUCKET_BYTES,
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
        self.retry = RetryPolicy(
            base=backoff_base,
            cap=backoff_cap,
            jitter=PROVIDERS.jitter,
            retry_after_cap=retry_after_cap,
            max_attempts=max_attempts,
        )
        self.max_attempts = max_attempts
        self.max_pages = max_pages
        self.max_response_bytes = max_response_bytes
        self.max_bucket_bytes = max_bucket_bytes
        self.stats = ApiStats()
        self._secrets = tuple(s for s in secrets if s)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._clock = clock
        self._watchdog = Watchdog()
        self._client = httpx.Client(
            base_url=base_url,
            headers={
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
                "Accept-Encoding": "gzip",  # the one encoding iter_body decodes in bounded steps
                **headers,
            },
            timeout=timeout,
            transport=transport,
            follow_redirects=False,  # a redirect elsewhere must not carry the key along
        )
        self._request = PageRequest(
            account=account,
            key_hint=key_hint,
            client=self._client,
            watchdog=self._watchdog,
            timeout=timeout,
            max_response_bytes=max_response_bytes,
            max_bucket_bytes=max_bucket_bytes,
            credential=credential,
            retry_after_headers=tuple(retry_after_headers),
            errors=self.stats.errors,
            redact=self.redact,
            clock=clock,
        )

    def redact(self, text: str) -> str:
        """`text` without this account's secrets (see `monitor.redaction.redact`)."""
        return redact(text, self._secrets)

    def cancel(self) -> None:
        """Cut the request in flight and refuse new ones: the daemon is stopping."""
        self._watchdog.cancel()

    def close(self) -> None:
        """Cancel what is in flight, give its thread a moment to let go of the client, close it."""
        self.cancel()
        self._request.idle.wait(2.0)
        self._client.close()

    # -- public reads ------------------------------------------------------------------------

    def get_json(self, path: str, params: Sequence[tuple[str, str]], *, endpoint: str = "") -> dict[str, Any]:
        """GET `path` with `params` (pairs, repeated keys allowed) and return the JSON object body.

        Retries 429, 5xx, timeouts, connection errors and unparseable bodies up to `max_attempts` in all;
        raises ProviderAuthError (401/403, at once), ProviderResponseError (other 4xx, bad or oversized
        body) or ProviderTransientError (retries exhausted).
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
        this request only (a token that changes between requests). Same retries, bounds and errors; a
        form or header value never reaches a message (pass secrets in `secrets` so they are redacted)."""
        url = f"{path}?{encode_query(params)}" if params else path
        send = Send(method, url, json_body, None if form is None else dict(form), dict(headers or {}))
        elements: list[Any] = []
        stream = self._page(send, path, endpoint or path)
        while True:
            try:
                elements.append(next(stream)[1])
            except StopIteration as stop:
                envelope: Envelope = stop.value
                break
        return {**envelope.members, "data": elements} if envelope.has_array else envelope.members

    def pages(self, path: str, params: Sequence[tuple[str, str]], *, endpoint: str) -> Iterator[list[Any]]:
        """Follow `next_page` while `has_more`, yielding each page's `data` list (whole, never partial)."""
        return whole_pages(self._elements(path, params, endpoint))

    def parts(
        self, path: str, params: Sequence[tuple[str, str]], *, endpoint: str, results: int = PART_RESULTS
    ) -> Iterator[list[tuple[str, Any]]]:
        """Every page's elements as (`page N.data[i]`, element) pairs, in parts of whole elements.

        A page with fewer than `results` results in all is one part, handed on after its envelope
        was checked; a larger one is handed on in parts of about `results` results as it arrives.
        """
        return parts_of(self._elements(path, params, endpoint), results)

    def fields(self, endpoint: str) -> Fields:
        """A typed reader for payloads of `endpoint` whose errors name the field and count as bad_response."""
        return Fields(self.account, endpoint, redact=self.redact, errors=self.stats.errors)

    # -- the page stream ---------------------------------------------------------------------

    def _elements(self, path: str, params: Sequence[tuple[str, str]], endpoint: str) -> Iterator[Element]:
        """Each element of each page as it arrives, and (n, -1, None) after page n's envelope checked out."""

        def page_at(cursor: str | None) -> Generator[tuple[int, Any], None, Envelope]:
            query = [*params, ("page", cursor)] if cursor else list(params)
            url = f"{path}?{encode_query(query)}" if query else path
            return self._page(Send("GET", url), path, endpoint)

        return cursor_elements(page_at, self.fields(endpoint), max_pages=self.max_pages)

    def _page(self, send: Send, path: str, label: str) -> Generator[tuple[int, Any], None, Envelope]:
        """One page: yields (index, element) of `data` as they arrive and returns the other members.

        A failed attempt is retried; elements already handed on are not handed on again.
        """
        failure = Failure("connection", "no attempt made")
        done = 0
        for attempt in range(1, self.max_attempts + 1):
            self.stats.requests += 1
            self.stats.requests_by_endpoint[label] += 1
            try:
                return (yield from self._request.attempt(send, path, label, done))
            except Retry as retry:
                failure, done = retry.failure, retry.done
            self.stats.errors[failure.reason] += 1
            if self.retry.gives_up_after(attempt):
                break
            wait = self.retry.delay(attempt, self._rng, failure.retry_after)
            self.stats.retries += 1
            log.warning(
                "%s: %s %s: %s; retry %d of %d in %.1f s",
                self.account,
                send.method,
                path,
                self.redact(failure.detail),
                attempt,
                self.max_attempts - 1,
                wait,
            )
            self._sleep(wait)
        message = self.redact(
            f"{self.account}: {send.method} {path}: {failure.detail}; gave up after {self.max_attempts} attempt(s)"
        )
        error = ProviderResponseError if failure.reason == "bad_response" else ProviderTransientError
        raise error(message, account=self.account, endpoint=label, reason=failure.reason)
