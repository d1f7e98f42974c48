"""What a channel delivers (`Notification`), the `Notifier` seam every channel implements, and its errors.

A notification is one alert event ("firing" or "resolved") read back from the outbox. Its
`payload` is the JSON object the budget engine stored (see docs/alerts.md); it never holds a
secret, so channels may put any of it on the wire.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Protocol

from monitor.errors import AlertDeliveryError


def alertname(kind: str) -> str:
    """The fallback `alertname` of a payload without one: "LLMSpend" + CamelCase(kind)."""
    return "LLMSpend" + "".join(part.capitalize() for part in kind.split("_"))


class PermanentDeliveryError(AlertDeliveryError):
    """The receiver refused the notification for good (a 4xx other than 408/429): not retried."""


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Notification:
    """One alert event to deliver: the alert identity, the event, its stable idempotency key, its payload.

    `sent_at` is the moment of this delivery attempt (set by the outbox worker, which owns the clock).
    """

    budget: str
    threshold: str
    kind: str
    event: str
    idempotency_key: str
    period_start: int = 0
    payload: Mapping[str, Any] = field(default_factory=_empty)
    sent_at: datetime = datetime(1970, 1, 1, tzinfo=UTC)

    @property
    def alertname(self) -> str:
        return str(self.payload.get("alertname") or alertname(self.kind))

    @property
    def summary(self) -> str:
        text = str(self.payload.get("summary") or f"{self.alertname} {self.budget} {self.threshold}")
        return text if self.event == "firing" else f"RESOLVED: {text}"

    @property
    def labels(self) -> dict[str, str]:
        """The alert's stable identity as labels (Alertmanager de-duplicates on these)."""
        labels = {
            "alertname": self.alertname,
            "budget": self.budget,
            "threshold": self.threshold,
            "kind": self.kind,
            "severity": str(self.payload.get("severity") or "warning"),
        }
        extra = self.payload.get("labels") or {}
        for name, value in dict(extra).items():
            labels.setdefault(str(name), str(value))
        return labels


class Notifier(Protocol):
    """A delivery channel. `send` returns once the receiver took the notification.

    It raises `PermanentDeliveryError` when retrying cannot help and `AlertDeliveryError` for
    anything worth retrying (timeouts, refused connections, 5xx, 408, 429). Error messages name
    the channel, never its URL or secret.
    """

    name: str

    def send(self, notification: Notification) -> None: ...
