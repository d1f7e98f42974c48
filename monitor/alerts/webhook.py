"""The signed JSON webhook channel.

The body is `{"event", "idempotency_key", "sent_at", "alert": payload}`; headers:
`X-Spend-Monitor-Signature: sha256=<hex HMAC-SHA256 of the raw body>` (when a secret is set),
`X-Spend-Monitor-Timestamp` (unix seconds, also inside the signed body as `sent_at`) and
`Idempotency-Key`, the same on every retry of one alert event, so a receiver can drop repeats.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping

from monitor.alerts.http import make_client, post
from monitor.alerts.notification import Notification

SIGNATURE_HEADER = "X-Spend-Monitor-Signature"
TIMESTAMP_HEADER = "X-Spend-Monitor-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def sign(body: bytes, secret: str) -> str:
    """The signature header value: "sha256=" + hex HMAC-SHA256 of `body` keyed with `secret`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


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
        self._client = make_client(timeout, headers or {}, url=url, channel=name)

    def send(self, notification: Notification) -> None:
        body = webhook_body(notification)
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(int(notification.sent_at.timestamp())),
            IDEMPOTENCY_HEADER: notification.idempotency_key,
        }
        if self._secret:
            headers[SIGNATURE_HEADER] = sign(body, self._secret)
        post(self._client, self._url, body, headers, channel=self.name)

    def close(self) -> None:
        self._client.close()

    def __repr__(self) -> str:
        return f"WebhookNotifier(name={self.name!r})"
