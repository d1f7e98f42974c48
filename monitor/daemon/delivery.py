"""Alert delivery on a thread of its own, so a hung or slow receiver never stalls polling, the refresh
or /metrics.

The outbox worker drains what the refresh queued (monitor.alerts.OutboxWorker) with its own lock
and its own ledger connection: it holds no lock the poll or refresh steps take, and it writes only
short transactions (one mark per sent row), never across a network call. It wakes after each
refresh and every `interval` seconds, and stops with the daemon without being waited for past the
shutdown deadline (an undelivered row stays in the outbox and goes out after the restart, with
its idempotency key).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from monitor.alerts import Notifier, OutboxWorker
from monitor.budgets import BudgetStatus
from monitor.store import Ledger
from monitor.store.alerts import AlertStore

log = logging.getLogger(__name__)

INTERVAL_S = 15.0
"""How often the outbox is drained without a wake-up (retries whose backoff has run out)."""


class Delivery:
    """Drains the outbox to the channels: `drain()` on the caller's thread, or `start()` a loop."""

    def __init__(
        self,
        open_ledger: Callable[[], Ledger],
        channels: Mapping[str, Notifier],
        *,
        statuses: Callable[[], Sequence[BudgetStatus]],
        clock: Callable[[], float],
        on_outcome: Callable[[str, str], None],
        interval: float = INTERVAL_S,
    ) -> None:
        self._open_ledger = open_ledger
        self.channels = dict(channels)
        self._statuses = statuses
        self._clock = clock
        self._on_outcome = on_outcome
        self._interval = interval
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="delivery", daemon=True)

    def drain(self) -> None:
        """Send each due outbox row once per channel, then re-post active Alertmanager alerts."""
        if not self.channels:
            return
        with self._lock, self._open_ledger() as ledger:
            worker = OutboxWorker(AlertStore(ledger), self.channels, on_outcome=self._on_outcome)
            worker.drain(datetime.fromtimestamp(self._clock(), UTC))
            if not self._stopping.is_set():
                worker.repost_active(self._statuses(), datetime.fromtimestamp(self._clock(), UTC))

    @property
    def sending(self) -> bool:
        """Whether a drain is in progress (on any thread)."""
        return self._lock.locked()

    def wake(self) -> None:
        """Drain soon (the refresh queued something, maybe)."""
        self._wake.set()

    def start(self) -> None:
        if self.channels:
            self.thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            if self._stopping.is_set():
                return
            try:
                self.drain()
            except Exception:  # a ledger or channel failure is retried at the next wake-up
                log.exception("alert delivery failed; retrying in %.0f s", self._interval)
