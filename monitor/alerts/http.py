"""The HTTP POST both HTTP channels share: status -> delivered / retry / permanent, errors without URLs.

Any 2xx is delivered. What is worth retrying is decided by the shared policy
(`monitor.net.retry.transient_status`: 408, 425, 429, 5xx), plus timeouts and connection errors;
a 404 is retried too, but only for a bounded time (a receiver being redeployed answers 404 for a
while; the outbox gives up after DOUBTFUL_RETRY_S). Any other status is a permanent refusal.

Each POST has a total deadline of the channel's `timeout` (a receiver that accepts and never
answers, or trickles, is cut then), and the answer's body is never read: only its status counts.
A URL may carry credentials (basic auth, tokens in the path), so it never appears in an error
message, only the channel name does; and httpx's own INFO line ("HTTP Request: POST <url> ...") is
rewritten by a filter to name the channel instead.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import httpx

from monitor.alerts.notification import PermanentDeliveryError
from monitor.errors import AlertDeliveryError
from monitor.net.response import Watchdog
from monitor.net.retry import retry_after_seconds, transient_status

DOUBTFUL_STATUSES = frozenset({404})
"""Usually lasting, sometimes not: retried by the outbox for a bounded time, then failed."""


class _RedactChannelUrls(logging.Filter):
    """Replaces a registered channel URL in httpx's log records with "<alert channel NAME>"."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: dict[str, str] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and self.urls:
            record.args = tuple(self._redact(arg) for arg in record.args)
        return True

    def _redact(self, arg: object) -> object:
        if isinstance(arg, str | httpx.URL):
            text = str(arg)
            for url, shown in self.urls.items():
                if text.startswith(url):
                    return shown
        return arg


_REDACT = _RedactChannelUrls()
logging.getLogger("httpx").addFilter(_REDACT)


class Poster:
    """POSTs to one channel URL with a total deadline; never follows redirects, keeps no connection.

    No keep-alive: alerts are rare, and an idle pooled socket would outlive a forgotten client.
    The URL is registered with the httpx log filter so it is logged as the channel's name.
    """

    def __init__(self, url: str, *, channel: str, timeout: float, headers: Mapping[str, str]) -> None:
        _REDACT.urls[str(httpx.URL(url))] = f"<alert channel {channel}>"
        self.url = url
        self.channel = channel
        self.timeout = timeout
        self._watchdog = Watchdog()
        self._client = httpx.Client(
            timeout=timeout,
            headers=dict(headers),
            follow_redirects=False,
            trust_env=False,
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    def post(self, body: bytes, headers: Mapping[str, str]) -> int:
        """POST `body`; return the 2xx status or raise AlertDeliveryError / PermanentDeliveryError."""
        channel = self.channel
        if self._watchdog.cancelled:
            raise AlertDeliveryError(f"alert channel {channel!r}: not sent, the daemon is stopping")
        try:
            with (
                self._watchdog.running(self.timeout),
                self._client.stream(
                    "POST",
                    self.url,
                    content=body,
                    headers=dict(headers),
                    extensions={"trace": self._watchdog.trace},
                ) as response,
            ):
                status = response.status_code
                reason = response.reason_phrase or "error"
                retry_after = retry_after_seconds(response.headers.get("retry-after"), 0.0)
        except httpx.TimeoutException as exc:
            raise AlertDeliveryError(f"alert channel {channel!r}: timed out ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            if self._watchdog.cancelled:
                raise AlertDeliveryError(f"alert channel {channel!r}: cut, the daemon is stopping") from None
            if self._watchdog.expired:
                raise AlertDeliveryError(
                    f"alert channel {channel!r}: timed out (no answer within {self.timeout:g} s)"
                ) from None
            raise AlertDeliveryError(
                f"alert channel {channel!r}: connection failed ({type(exc).__name__})"
            ) from None
        if 200 <= status < 300:
            return status
        if transient_status(status):
            raise AlertDeliveryError(
                f"alert channel {channel!r}: HTTP {status} {reason}; will retry", retry_after=retry_after
            )
        hint = "; check the channel's url" if status in (301, 302, 307, 308, 404) else ""
        if status in DOUBTFUL_STATUSES:
            raise AlertDeliveryError(
                f"alert channel {channel!r}: HTTP {status} {reason}; will retry for a while{hint}",
                doubtful=True,
            )
        raise PermanentDeliveryError(f"alert channel {channel!r}: HTTP {status} {reason}, not retried{hint}")

    def cancel(self) -> None:
        """Cut a POST in flight (the daemon is stopping)."""
        self._watchdog.cancel()

    def close(self) -> None:
        self._client.close()
