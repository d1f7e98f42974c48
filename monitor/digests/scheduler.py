"""When digests are due, and queueing each exactly once per period through the alert outbox.

A digest of period P is due from its local `time` on the first day of each P (day: every day;
week: the configured first weekday; month: the billing month's first day) and summarises the
previous, complete P against the one before. It is queued as a one-off alert event whose identity
is (digest name, the summarised period's start): `AlertStore.transition` writes its state and its
outbox rows in one transaction, so however often the job runs, and across a crash or a SIGKILL at
any point, each period's digest is queued once; the outbox then delivers it (at least once on the
wire, with a stable Idempotency-Key). A daemon that was down at the time sends it when it is back,
for the latest period only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from monitor.budgets import BudgetStatus
from monitor.config.model import DigestConfig
from monitor.digests.build import Digest, DigestInputs, build_digest
from monitor.periods import period_bounds, to_unix
from monitor.store import Ledger
from monitor.store.alerts import ALARM, AlertKey, AlertStore

log = logging.getLogger(__name__)

DIGEST_KIND = "digest"
EVENT_TTL = timedelta(hours=1)
"""A digest is an event: it expires (Alertmanager resolves it) and is never re-posted."""


def summarised_bounds(
    period: str, now: datetime, tz: ZoneInfo, *, month_start_day: int = 1, week_start: int = 0
) -> tuple[datetime, datetime, datetime]:
    """(previous start, start, end) of the last complete `period` before `now`, and the one before."""
    current, _ = period_bounds(period, now, tz, month_start_day=month_start_day, week_start=week_start)
    start, end = period_bounds(
        period, current - timedelta(seconds=1), tz, month_start_day=month_start_day, week_start=week_start
    )
    previous, _ = period_bounds(
        period, start - timedelta(seconds=1), tz, month_start_day=month_start_day, week_start=week_start
    )
    return previous, start, end


def send_time(digest: DigestConfig, period_start: datetime, tz: ZoneInfo) -> datetime:
    """The local `time` on the first day of the period starting at `period_start`."""
    wall = period_start.replace(tzinfo=None) + timedelta(minutes=digest.time)
    return wall.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)


def key_of(digest: DigestConfig, start: datetime) -> AlertKey:
    return AlertKey(f"digest:{digest.name}", to_unix(start), digest.period, DIGEST_KIND)


class DigestScheduler:
    """Queues the configured digests when due (one outbox row per channel, once per period)."""

    def __init__(
        self,
        digests: Sequence[DigestConfig],
        channels: Sequence[str],
        inputs: DigestInputs,
        *,
        month_start_day: int = 1,
        week_start: int = 0,
    ) -> None:
        self.digests = tuple(digests)
        self.channels = tuple(channels)
        self.inputs = inputs
        self.month_start_day = month_start_day
        self.week_start = week_start
        self._queued: set[AlertKey] = set()

    def bounds(self, period: str, now: datetime) -> tuple[datetime, datetime, datetime]:
        return summarised_bounds(
            period, now, self.inputs.tz, month_start_day=self.month_start_day, week_start=self.week_start
        )

    def due(self, now: datetime) -> list[tuple[DigestConfig, tuple[datetime, datetime, datetime]]]:
        """The digests whose send time in the current period has come (queued or not)."""
        found = []
        for digest in self.digests:
            bounds = self.bounds(digest.period, now)
            if now >= send_time(digest, bounds[2], self.inputs.tz):
                found.append((digest, bounds))
        return found

    def run(
        self, ledger: Ledger, store: AlertStore, now: datetime, budgets: Sequence[BudgetStatus] = ()
    ) -> int:
        """Queue every due digest not queued yet; returns the outbox rows queued."""
        queued = 0
        due = [(d, b) for d, b in self.due(now) if key_of(d, b[1]) not in self._queued]
        if not due:
            return 0
        states = store.states()
        for digest, bounds in due:
            key = key_of(digest, bounds[1])
            if (found := states.get(key)) is not None and found.state == ALARM:
                self._queued.add(key)
                continue
            queued += self.queue(ledger, store, digest, bounds, now, budgets=budgets)
        return queued

    def build(
        self,
        ledger: Ledger,
        digest: DigestConfig,
        bounds: tuple[datetime, datetime, datetime],
        budgets: Sequence[BudgetStatus],
    ) -> Digest:
        return build_digest(ledger, digest.period, bounds, _with_budgets(self.inputs, budgets))

    def queue(
        self,
        ledger: Ledger,
        store: AlertStore,
        digest: DigestConfig,
        bounds: tuple[datetime, datetime, datetime],
        now: datetime,
        *,
        budgets: Sequence[BudgetStatus] = (),
    ) -> int:
        """Build the digest of `bounds` and queue it once for its channels; 0 if it was queued before."""
        key = key_of(digest, bounds[1])
        text = self.build(ledger, digest, bounds, budgets)
        channels = digest.channels or self.channels
        rows = store.transition(
            key,
            ALARM,
            period_end=to_unix(bounds[2]) + to_unix(bounds[2]) - to_unix(bounds[1]),
            now=to_unix(now),
            payload=payload(digest, text, now),
            channels=channels,
        )
        self._queued.add(key)
        if rows:
            log.info(
                "digest %s of %s queued for %s",
                digest.name,
                bounds[1].date().isoformat(),
                ", ".join(channels),
            )
        return rows


def payload(digest: DigestConfig, text: Digest, now: datetime) -> dict[str, Any]:
    """The outbox payload: what every channel renders (`title` and `text` for chat and e-mail)."""
    return {
        "alertname": "LLMSpendDigest",
        "budget": f"digest:{digest.name}",
        "kind": DIGEST_KIND,
        "severity": "info",
        "summary": text.summary,
        "title": text.title,
        "text": text.text,
        "period": digest.period,
        "period_start": datetime.fromtimestamp(text.start, UTC).isoformat(),
        "period_end": datetime.fromtimestamp(text.end, UTC).isoformat(),
        "starts_at": now.isoformat(),
        "expires_at": (now + EVENT_TTL).isoformat(),
        "ends_at": None,
        "labels": {"digest": digest.name},
    }


def _with_budgets(inputs: DigestInputs, budgets: Sequence[BudgetStatus]) -> DigestInputs:
    return replace(inputs, budgets=tuple(budgets))
