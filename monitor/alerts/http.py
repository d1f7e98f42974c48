"""The HTTP POST both HTTP channels share: status -> delivered / retry / permanent, errors without URLs.

Any 2xx is delivered. 408, 429 and 5xx, timeouts and connection errors are worth retrying; any
other status is a permanent refusal. A URL may carry credentials (basic auth, tokens in the path),
so it never appears in an error message, only the channel name does; and httpx's own INFO line
("HTTP Request: POST <url> ...") is rewritten by a filter to name the channel instead.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import httpx

from monitor.alerts.notification import PermanentDeliveryError
from monitor.errors import AlertDeliveryError

RETRYABLE_STATUS = frozenset({408, 429})


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


def make_client(timeout: float, headers: Mapping[str, str], *, url: str, channel: str) -> httpx.Client:
    """A client that never follows redirects (a redirect is reported, not silently followed).

    No keep-alive: alerts are rare, and an idle pooled socket would outlive a forgotten client.
    `url` is registered with the httpx log filter so it is logged as the channel's name.
    """
    _REDACT.urls[str(httpx.URL(url))] = f"<alert channel {channel}>"
    return httpx.Client(
        timeout=timeout,
        headers=dict(headers),
        follow_redirects=False,
        trust_env=False,
        limits=httpx.Limits(max_keepalive_connections=0),
    )


def post(client: httpx.Client, url: str, body: bytes, headers: Mapping[str, str], *, channel: str) -> int:
    """POST `body`; return the 2xx status or raise AlertDeliveryError / PermanentDeliveryError."""
    try:
        response = client.post(url, content=body, headers=dict(headers))
    except httpx.TimeoutException as exc:
        raise AlertDeliveryError(f"alert channel {channel!r}: timed out ({type(exc).__name__})") from None
    except httpx.TransportError as exc:
        raise AlertDeliveryError(
            f"alert channel {channel!r}: connection failed ({type(exc).__name__})"
        ) from None
    status = response.status_code
    if 200 <= status < 300:
        return status
    reason = response.reason_phrase or "error"
    if status >= 500 or status in RETRYABLE_STATUS:
        raise AlertDeliveryError(f"alert channel {channel!r}: HTTP {status} {reason}; will retry")
    hint = "; check the channel's url" if status in (301, 302, 307, 308, 404) else ""
    raise PermanentDeliveryError(f"alert channel {channel!r}: HTTP {status} {reason}, not retried{hint}")
