"""The apprise channel: any apprise URL (Slack, Teams, email, ntfy, ...) gets a title and a text body.

Apprise URLs usually embed tokens, so the URL is kept only inside the apprise object and never
logged or stored. apprise reports failure as `False`, which is retried like a 5xx. apprise loads
its plugins lazily and some import deprecated stdlib modules (imghdr); those DeprecationWarnings
are apprise's own and silenced around its calls. apprise's DEBUG lines print the URLs it posts
to (a token may sit in a path), so its logger is held at WARNING unless the operator set a level.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import apprise

from monitor.alerts.notification import Notification
from monitor.config.apprise_urls import quiet_apprise
from monitor.errors import AlertDeliveryError, ConfigError

log = logging.getLogger(__name__)

BODY_FIELDS = (
    ("spend_usd", "spend"),
    ("limit_usd", "limit"),
    ("forecast_usd", "forecast"),
    ("utilization", "utilization"),
    ("period", "period"),
)


def text_body(notification: Notification) -> str:
    payload = notification.payload
    if payload.get("text"):  # a digest carries its whole text, made for people
        return str(payload["text"])
    lines = [notification.summary]
    for key, label in BODY_FIELDS:
        if payload.get(key) not in (None, ""):
            unit = " USD" if key.endswith("_usd") else ""
            lines.append(f"{label}: {payload[key]}{unit}")
    lines.append(
        f"alert: {notification.alertname} budget={notification.budget} threshold={notification.threshold}"
    )
    return "\n".join(lines)


@contextmanager
def _quiet_plugins() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


class AppriseNotifier:
    """Sends through one apprise URL; ConfigError at construction when apprise cannot parse it."""

    def __init__(self, name: str, url: str) -> None:
        self.name = name
        apprise_log = logging.getLogger("apprise")
        if apprise_log.level == logging.NOTSET:
            apprise_log.setLevel(logging.WARNING)
        self._apprise = apprise.Apprise()
        with _quiet_plugins(), quiet_apprise():  # a parse error would print the URL's tokens
            added = self._apprise.add(url)
        if not added:
            raise ConfigError(
                [
                    f"alerts: channel {name!r}: apprise does not recognise the url (its scheme or form); "
                    "see https://github.com/caronc/apprise/wiki for the supported URLs"
                ]
            )

    def send(self, notification: Notification) -> None:
        title = str(notification.payload.get("title") or "") or (
            f"[{notification.event.upper()}] {notification.alertname}: {notification.budget}"
        )
        with _quiet_plugins():
            ok = self._apprise.notify(title=title, body=text_body(notification))
        if not ok:
            raise AlertDeliveryError(f"alert channel {self.name!r}: apprise could not deliver; will retry")
        log.debug("apprise %s: sent %s", self.name, notification.event)

    def close(self) -> None:
        self._apprise.clear()
