"""The outbox worker: deliver queued notifications, mark each right after success, retry with backoff.

Guarantees (see docs/alerts.md): a state change is queued exactly once (same transaction as the
state); each queued row is sent until a channel takes it, across restarts (next_attempt_at lives in
SQLite), and marked delivered in its own transaction right after the send. A crash between the
send and the mark re-sends that one row after restart, with the same Idempotency-Key, so on the
wire delivery is at-least-once with a stable key that receivers (and Alertmanager's label
identity) de-duplicate. Entries of one alert on one channel go out in order: a resolved event never
overtakes its firing event.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from monitor.alerts.alertmanager import AlertmanagerNotifier
from monitor.alerts.notification import Notification, Notifier, PermanentDeliveryError
from monitor.budgets import BudgetStatus
from monitor.budgets.payload import usd
from monitor.errors import AlertDeliveryError
from monitor.net.retry import RetryPolicy
from monitor.store.alerts import ALARM, FIRING, AlertKey, AlertStore, OutboxEntry
from monitor.store.outbox_retention import prune_outbox

log = logging.getLogger(__name__)

DELIVERED = "sent"
RETRY = "retried"
FAILED = "failed"
OUTCOMES = (DELIVERED, RETRY, FAILED)
"""The `outcome` label values of spend_monitor_alerts_sent_total."""

BASE_DELAY_S = 5.0
MAX_DELAY_S = 600.0
ALERTS = RetryPolicy(base=BASE_DELAY_S, cap=MAX_DELAY_S, jitter=(0.8, 1.2), retry_after_cap=MAX_DELAY_S)
"""The outbox's settings of the shared retry policy: 5 s doubling to 10 min, +-20%, until delivered."""
DOUBTFUL_RETRY_S = 24 * 3600
"""How long an entry refused with a doubtful status (404) is retried before it is failed for good."""
RETENTION_S = 30 * 86400
"""How long delivered and failed entries stay in the outbox before each drain prunes them."""


@dataclass
class DrainResult:
    """What one drain did: counts per (channel, outcome), and what is left in the outbox."""

    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    pending: int = 0
    next_attempt_at: int | None = None

    def add(self, channel: str, outcome: str) -> None:
        self.counts[(channel, outcome)] = self.counts.get((channel, outcome), 0) + 1

    def total(self, outcome: str) -> int:
        return sum(n for (_, o), n in self.counts.items() if o == outcome)

    @property
    def delivered(self) -> int:
        return self.total(DELIVERED)


def backoff_delay(
    attempts: int, rng: random.Random, *, base: float = BASE_DELAY_S, cap: float = MAX_DELAY_S
) -> float:
    """Seconds before the next try after `attempts` failures: base doubling to cap, +-20% jitter, never over cap."""
    return RetryPolicy(base=base, cap=cap, jitter=ALERTS.jitter).delay(attempts, rng)


def _notification(
    entry: OutboxEntry, sent_at: datetime, payload: Mapping[str, Any] | None = None
) -> Notification:
    return Notification(
        budget=entry.key.budget,
        threshold=entry.key.threshold,
        kind=entry.key.kind,
        event=entry.event,
        idempotency_key=entry.idempotency_key,
        period_start=entry.key.period_start,
        payload=entry.payload if payload is None else payload,
        sent_at=sent_at,
    )


class OutboxWorker:
    """Drains one AlertStore's outbox to the configured channels (by name).

    `on_outcome(channel, outcome)` is called once per attempt (the metrics counter); `clock` and
    `sleep` are used only by `deliver_until_idle`; `drain` takes `now` as a parameter.
    """

    def __init__(
        self,
        alert_store: AlertStore,
        channels: Mapping[str, Notifier],
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        on_outcome: Callable[[str, str], None] | None = None,
        rng: random.Random | None = None,
        base_delay: float = BASE_DELAY_S,
        max_delay: float = MAX_DELAY_S,
        retention: float = RETENTION_S,
    ) -> None:
        self.store = alert_store
        self.channels = dict(channels)
        self.clock = clock
        self.sleep = sleep
        self.on_outcome = on_outcome
        self.rng = rng or random.Random()
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.retention = int(retention)
        self.policy = RetryPolicy(
            base=base_delay, cap=max_delay, jitter=ALERTS.jitter, retry_after_cap=max_delay
        )
        self._warned: set[str] = set()

    def drain(self, now: datetime) -> DrainResult:
        """Send every due entry once; a channel that fails a retryable send is skipped for the rest of this drain."""
        now_s = math.floor(now.timestamp())
        result = DrainResult()
        blocked_channels: set[str] = set()
        blocked_alerts: set[tuple[str, AlertKey]] = set()
        for entry in self.store.open_entries():
            alert = (entry.channel, entry.key)
            if entry.channel in blocked_channels or alert in blocked_alerts:
                continue
            if entry.next_attempt_at > now_s:
                blocked_alerts.add(alert)  # later events of this alert wait behind it
                continue
            channel = self.channels.get(entry.channel)
            if channel is None:
                if entry.channel not in self._warned:
                    log.warning(
                        "outbox: channel %r is not configured; its entries stay queued", entry.channel
                    )
                    self._warned.add(entry.channel)
                blocked_channels.add(entry.channel)
                continue
            outcome = self._attempt(channel, entry, now, now_s)
            result.add(entry.channel, outcome)
            if self.on_outcome is not None:
                self.on_outcome(entry.channel, outcome)
            if outcome == RETRY:
                blocked_channels.add(entry.channel)
        prune_outbox(self.store.ledger, now_s - self.retention)
        remaining = self.store.open_entries()
        result.pending = len(remaining)
        result.next_attempt_at = min((e.next_attempt_at for e in remaining), default=None)
        return result

    def _attempt(self, channel: Notifier, entry: OutboxEntry, now: datetime, now_s: int) -> str:
        try:
            channel.send(_notification(entry, now))
        except PermanentDeliveryError as exc:
            self.store.mark_failed(entry.id, now_s, str(exc))
            log.error("outbox: entry %d (%s) refused for good: %s", entry.id, entry.key.budget, exc)
            return FAILED
        except AlertDeliveryError as exc:
            if exc.doubtful and now_s - entry.created_at >= DOUBTFUL_RETRY_S:
                error = f"{exc} (gave up after {DOUBTFUL_RETRY_S // 3600} h)"
                self.store.mark_failed(entry.id, now_s, error)
                log.error("outbox: entry %d (%s) refused for good: %s", entry.id, entry.key.budget, error)
                return FAILED
            return self._retry(entry, now_s, str(exc), exc.retry_after)
        except Exception as exc:  # a bug in a channel must not stop the other channels
            log.exception("outbox: channel %r raised unexpectedly", entry.channel)
            return self._retry(
                entry, now_s, f"internal error in channel {entry.channel!r}: {type(exc).__name__}"
            )
        self.store.mark_delivered(entry.id, now_s)
        log.info(
            "outbox: delivered %s %s/%s to %s",
            entry.event,
            entry.key.budget,
            entry.key.threshold,
            entry.channel,
        )
        return DELIVERED

    def _retry(self, entry: OutboxEntry, now_s: int, error: str, retry_after: float | None = None) -> str:
        delay = self.policy.delay(entry.attempts + 1, self.rng, retry_after)
        next_at = now_s + max(1, math.ceil(delay))
        self.store.mark_retry(entry.id, next_at, error)
        log.warning(
            "outbox: entry %d to %s failed (attempt %d), retry in %ds: %s",
            entry.id,
            entry.channel,
            entry.attempts + 1,
            next_at - now_s,
            error,
        )
        return RETRY

    def deliver_until_idle(self, timeout: float) -> DrainResult:
        """Drain repeatedly (sleeping until the next due entry) until nothing is pending or `timeout` passes."""
        deadline = self.clock() + timeout
        while True:
            result = self.drain(datetime.fromtimestamp(self.clock(), UTC))
            now = self.clock()
            if result.pending == 0 or result.next_attempt_at is None or now >= deadline:
                return result
            self.sleep(max(0.05, min(deadline - now, result.next_attempt_at - now)))

    def repost_active(self, statuses: Sequence[BudgetStatus] = (), now: datetime | None = None) -> int:
        """Re-post delivered, still-active alarms to Alertmanager channels; returns how many posts failed.

        Not a new notification and not counted: only keeps Alertmanager from timing the alert out.
        Event-like alerts (those with `expires_at`, e.g. spikes) are not re-posted.
        """
        reposters = {n: c for n, c in self.channels.items() if isinstance(c, AlertmanagerNotifier)}
        if not reposters:
            return 0
        at = now or datetime.fromtimestamp(self.clock(), UTC)
        by_budget = {s.name: s for s in statuses}
        failures = 0
        failing: set[str] = set()  # a channel that failed once is not waited on again this cycle
        for key, state in self.store.states(current_at=math.floor(at.timestamp())).items():
            if state.state != ALARM:
                continue
            for name, channel in reposters.items():
                if name in failing:
                    continue
                entry = self.store.last_delivered(key, name)
                if entry is None or entry.event != FIRING or entry.payload.get("expires_at"):
                    continue
                payload = _refreshed(entry.payload, by_budget.get(key.budget))
                try:
                    channel.repost(_notification(entry, at, payload))
                except AlertDeliveryError as exc:
                    failures += 1
                    failing.add(name)
                    log.debug("re-post of %s to %s failed: %s", key.budget, name, exc)
        return failures


def _refreshed(payload: Mapping[str, Any], status: BudgetStatus | None) -> Mapping[str, Any]:
    if status is None:
        return payload
    return {
        **payload,
        "spend_usd": usd(status.spend_pico),
        "forecast_usd": usd(status.forecast_pico),
        "utilization": str(status.utilization),
    }
