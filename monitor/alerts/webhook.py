"""The signed JSON webhook channel.

The body is `{"event", "idempotency_key", "sent_at", "alert": payload}`; headers:
`X-Spend-Monitor-Timestamp` (unix seconds of this attempt), `Idempotency-Key` (the same on every
retry of one alert event, so a receiver can drop repeats) and, when a secret is set,
`X-Spend-Monitor-Signature: v2=<hex HMAC-SHA256 of "<timestamp>.<idempotency key>.<raw body>">`.

The timestamp and the key are signed with the body, so a captured delivery can neither be re-sent
under a new key (to pass the receiver's de-duplication) nor later (the receiver refuses a timestamp
older than a few minutes): `verify` is the receiver's side, docs/alerts.md has it standalone.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping

from monitor.alerts.http import Poster
from monitor.alerts.notification import Notification

SIGNATURE_HEADER = "X-Spend-Monitor-Signature"
TIMESTAMP_HEADER = "X-Spend-Monitor-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"


SCHEME = "v2"
MAX_AGE_S = 300
"""How old a timestamp `verify` accepts (and how far in the future): five minutes, as Stripe's recipe."""


def sign(secret: str, timestamp: int, idempotency_key: str, body: bytes) -> str:
    """The signature header value: "v2=" + hex HMAC-SHA256 of "<timestamp>.<key>.<body>" under `secret`."""
    message = f"{timestamp}.{idempotency_key}.".encode() + body
    return f"{SCHEME}=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(
    secret: str, headers: Mapping[str, str], body: bytes, now: float, max_age: float = MAX_AGE_S
) -> bool:
    """The receiver's check: a fresh timestamp and a signature over it, the key and the raw body."""
    found = {name.lower(): value for name, value in headers.items()}
    timestamp = found.get(TIMESTAMP_HEADER.lower(), "")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > max_age:
        return False
    expected = sign(secret, int(timestamp), found.get(IDEMPOTENCY_HEADER.lower(), ""), body)
    return hmac.compare_digest(found.get(SIGNATURE_HEADER.lower(), ""), expected)


def webhook_body(notification: Notification) -> bytes:
    document = {
        "event": notification.event,
        "idempotency_key": notification.idempotency_key,
        "sent_at": notification.sent_at.isoformat(),
        "alert": dict(notification.payload),
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


class WebhookNotifier:
    """POSTs each notification as signed JSON to one URL."""

    def __init__(
        self,
        name: str,
        url: str,
        *,
        secret: str | None = None,
        timeout: float = 10.0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self._url = url
        self._secret = secret
        self._poster = Poster(url, channel=name, timeout=timeout, headers=headers or {})

    def send(self, notification: Notification) -> None:
        body = webhook_body(notification)
        timestamp = int(notification.sent_at.timestamp())
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(timestamp),
            IDEMPOTENCY_HEADER: notification.idempotency_key,
        }
        if self._secret:
            headers[SIGNATURE_HEADER] = sign(self._secret, timestamp, notification.idempotency_key, body)
        self._poster.post(body, headers)

    def cancel(self) -> None:
        """Cut a POST in flight (the daemon is stopping)."""
        self._poster.cancel()

    def close(self) -> None:
        self._poster.close()

    def __repr__(self) -> str:
        return f"WebhookNotifier(name={self.name!r})"
