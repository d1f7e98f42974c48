"""Alert delivery: the channels (Alertmanager, signed webhook, apprise) and the outbox worker.

`build_channels(configs)` makes one `Notifier` per configured channel (the apprise one,
`apprise_channel.AppriseNotifier`, is imported only when a channel needs it: apprise is heavy);
`OutboxWorker` drains the durable outbox that `monitor.budgets` fills (see docs/alerts.md for the
delivery guarantees).
"""

from __future__ import annotations

from monitor.alerts.alertmanager import AlertmanagerNotifier
from monitor.alerts.channels import build_channel, build_channels
from monitor.alerts.notification import Notification, Notifier, PermanentDeliveryError, alertname
from monitor.alerts.outbox import DELIVERED, FAILED, OUTCOMES, RETRY, DrainResult, OutboxWorker, backoff_delay
from monitor.alerts.webhook import WebhookNotifier, sign, verify

__all__ = [
    "DELIVERED",
    "FAILED",
    "OUTCOMES",
    "RETRY",
    "AlertmanagerNotifier",
    "DrainResult",
    "Notification",
    "Notifier",
    "OutboxWorker",
    "PermanentDeliveryError",
    "WebhookNotifier",
    "alertname",
    "backoff_delay",
    "build_channel",
    "build_channels",
    "sign",
    "verify",
]
