"""The Alertmanager channel: POST /api/v2/alerts with stable labels, so replicas de-duplicate there.

Alertmanager resolves an alert that is not re-sent within its resolve_timeout, so the outbox
worker re-posts alerts in ALARM every cycle (`repost`, outside the outbox accounting: the labels
are the identity, a re-post is not a new notification). A resolved event carries `endsAt`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from monitor.alerts.http import Poster
from monitor.alerts.notification import Notification

log = logging.getLogger(__name__)

ANNOTATIONS = ("spend_usd", "limit_usd", "forecast_usd", "utilization", "period", "period_end")


def _iso(value: Any) -> str | None:
    return str(value) if value else None


def alert_body(notification: Notification) -> list[dict[str, Any]]:
    """The JSON list Alertmanager's API takes, for one notification."""
    payload = notification.payload
    annotations = {"summary": str(payload.get("summary") or notification.summary)}
    for name in ANNOTATIONS:
        if payload.get(name) not in (None, ""):
            annotations[name.removesuffix("_usd") if name.endswith("_usd") else name] = str(payload[name])
    alert: dict[str, Any] = {"labels": notification.labels, "annotations": annotations}
    starts_at = _iso(payload.get("starts_at"))
    if starts_at:
        alert["startsAt"] = starts_at
    if notification.event == "resolved":
        alert["endsAt"] = _iso(payload.get("ends_at")) or notification.sent_at.isoformat()
    elif payload.get("expires_at"):
        alert["endsAt"] = str(payload["expires_at"])
    return [alert]


class AlertmanagerNotifier:
    """Posts alerts to one Alertmanager (or a load balancer in front of a cluster)."""

    def __init__(
        self, name: str, url: str, *, timeout: float = 10.0, headers: Mapping[str, str] | None = None
    ) -> None:
        self.name = name
        self._endpoint = url.rstrip("/") + "/api/v2/alerts"
        self._poster = Poster(self._endpoint, channel=name, timeout=timeout, headers=headers or {})

    def send(self, notification: Notification) -> None:
        body = json.dumps(alert_body(notification)).encode()
        self._poster.post(body, {"Content-Type": "application/json"})
        log.debug(
            "alertmanager %s: posted %s %s", self.name, notification.event, notification.labels["alertname"]
        )

    def repost(self, notification: Notification) -> None:
        """Re-send a firing alert so Alertmanager keeps it active; same labels, same startsAt."""
        self.send(notification)

    def cancel(self) -> None:
        """Cut a POST in flight (the daemon is stopping)."""
        self._poster.cancel()

    def close(self) -> None:
        self._poster.close()
