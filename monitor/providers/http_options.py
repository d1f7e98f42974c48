"""How an adapter's HTTP client is configured: its limits (timeout, attempts, pages) and the seams the
daemon and the tests inject (a sleep that raises when the daemon stops, the backoff jitter, a
transport), and the `ApiClient` made from them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import httpx

from monitor.providers.http import MAX_PAGES, ApiClient


@dataclass(frozen=True)
class HttpOptions:
    """How an adapter's HTTP client behaves: its limits, and the seams the daemon and tests inject (a
    sleep that raises when the daemon stops, the backoff jitter, a transport)."""

    timeout: float = 30.0
    max_attempts: int = 5
    max_pages: int = MAX_PAGES
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random | None = None
    transport: httpx.BaseTransport | None = None

    def client(
        self,
        *,
        account: str,
        base_url: str,
        headers: Mapping[str, str],
        secrets: Sequence[str],
        key_hint: str,
        credential: str,
        retry_after_headers: Sequence[str] = ("retry-after",),
    ) -> ApiClient:
        """An ApiClient with these settings; `credential` names what a 401/403 refused."""
        return ApiClient(
            account=account,
            base_url=base_url,
            headers=headers,
            secrets=secrets,
            key_hint=key_hint,
            credential=credential,
            retry_after_headers=retry_after_headers,
            timeout=self.timeout,
            max_attempts=self.max_attempts,
            max_pages=self.max_pages,
            sleep=self.sleep,
            rng=self.rng,
            transport=self.transport,
        )


DEFAULT_HTTP = HttpOptions()
"""The settings of an adapter built without a config: 30 s per request, 5 attempts, real sleeps."""
