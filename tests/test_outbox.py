"""The outbox: queued by a budget crossing, drained to real loopback receivers, retried, never lost or doubled."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from test_alerts_support import Receiver
from test_budgets_support import budget, open_stores, write

from monitor.alerts import AlertmanagerNotifier, OutboxWorker, WebhookNotifier, backoff_delay
from monitor.alerts.notification import Notification, Notifier
from monitor.budgets import BudgetEngine
from monitor.store import Ledger
from monitor.store.alerts import AlertKey, AlertStore

NOW = datetime(2025, 6, 18, 14, 30, tzinfo=UTC)
SECRET = "whsec-0123456789"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def crossed(
    path: Path, amount: str = "85", thresholds: tuple[int, ...] = (50, 80)
) -> tuple[Ledger, AlertStore]:
    """A ledger whose one budget has just crossed `thresholds`, one entry per rung for the channel
    "hook" (a per-rung channel here, so the outbox's ordering and keys have several alerts to show)."""
    ledger, store = open_stores(path)
    write(ledger, NOW - timedelta(hours=1), amount)
    engine = BudgetEngine(
        [budget(thresholds=thresholds)], ["hook"], ZoneInfo("UTC"), per_rung_channels=["hook"]
    )
    engine.evaluate(ledger, store, NOW)
    return ledger, store


def worker(store: AlertStore, url: str, **kw) -> OutboxWorker:  # type: ignore[no-untyped-def]
    return OutboxWorker(
        store, {"hook": WebhookNotifier("hook", url, secret=SECRET)}, rng=random.Random(1), **kw
    )


def test_drain_delivers_signed_notifications_once(tmp_path: Path, receiver: Receiver) -> None:
    _, store = crossed(tmp_path / "l.db")
    result = worker(store, receiver.url).drain(NOW)
    assert result.counts == {("hook", "sent"): 2} and result.pending == 0
    assert all(r.signature_ok(SECRET) for r in receiver.requests)
    assert [r.json["alert"]["threshold"] for r in receiver.requests] == ["50", "80"]
    assert worker(store, receiver.url).drain(NOW + timedelta(minutes=1)).counts == {}
    assert len(receiver.requests) == 2


def test_idempotency_keys_are_stable_and_distinct_per_event(tmp_path: Path, receiver: Receiver) -> None:
    _, store = crossed(tmp_path / "l.db")
    queued = [e.idempotency_key for e in store.entries()]
    worker(store, receiver.url).drain(NOW)
    sent = [r.headers["idempotency-key"] for r in receiver.requests]
    assert sent == queued and len(set(sent)) == 2


def test_receiver_down_then_failing_gets_the_alert_exactly_once_when_back(tmp_path: Path) -> None:
    _, store = crossed(tmp_path / "l.db", thresholds=(80,))
    receiver = Receiver()  # not started: connection refused
    w = worker(store, receiver.url)
    at = NOW
    outcomes = []
    for phase in ("down", "down", "500", "500", "up", "up"):
        if phase == "500" and receiver._server is None:
            receiver.default = 500
            receiver.start()
        if phase == "up":
            receiver.default = 204
        result = w.drain(at)
        outcomes.append(sorted(result.counts))
        at = datetime.fromtimestamp(result.next_attempt_at or at.timestamp(), UTC) + timedelta(seconds=1)
    receiver.stop()
    assert outcomes[:4] == [[("hook", "retried")]] * 4
    assert outcomes[4:] == [[("hook", "sent")], []]
    assert len(receiver.accepted) == 1 and len(receiver.requests) == 3  # two 500s, then the one that took
    assert store.pending_count() == 0


def test_retry_waits_for_its_backoff_and_survives_a_restart(tmp_path: Path, receiver: Receiver) -> None:
    ledger, store = crossed(tmp_path / "l.db", thresholds=(80,))
    receiver.script = [503]
    first = worker(store, receiver.url).drain(NOW)
    ledger.close()
    _, reopened = open_stores(tmp_path / "l.db")  # restart: a new store and worker
    (entry,) = reopened.open_entries()
    assert entry.attempts == 1 and entry.last_error.endswith("HTTP 503 Service Unavailable; will retry")
    assert first.next_attempt_at == entry.next_attempt_at > NOW.timestamp()
    early = worker(reopened, receiver.url).drain(datetime.fromtimestamp(entry.next_attempt_at - 1, UTC))
    assert early.counts == {} and len(receiver.requests) == 1
    due = worker(reopened, receiver.url).drain(datetime.fromtimestamp(entry.next_attempt_at, UTC))
    assert due.counts == {("hook", "sent"): 1} and reopened.pending_count() == 0


def test_backoff_doubles_from_5_seconds_to_10_minutes_with_jitter() -> None:
    rng = random.Random(3)
    delays = [backoff_delay(n, rng) for n in range(1, 12)]
    nominal = [5, 10, 20, 40, 80, 160, 320, 600, 600, 600, 600]
    for got, want in zip(delays, nominal, strict=True):
        assert want * 0.8 <= got <= min(600, want * 1.2)


def test_permanent_refusal_is_recorded_and_not_retried(tmp_path: Path, receiver: Receiver) -> None:
    _, store = crossed(tmp_path / "l.db", thresholds=(80,))
    receiver.script = [400]
    result = worker(store, receiver.url).drain(NOW)
    assert result.counts == {("hook", "failed"): 1} and result.pending == 0
    (entry,) = store.entries()
    assert entry.failed_at is not None and "HTTP 400" in entry.last_error
    worker(store, receiver.url).drain(NOW + timedelta(hours=1))
    assert len(receiver.requests) == 1


def test_resolved_never_overtakes_its_firing(tmp_path: Path, receiver: Receiver) -> None:
    ledger, store = crossed(tmp_path / "l.db", thresholds=(80,))
    receiver.script = [500]
    w = worker(store, receiver.url)
    w.drain(NOW)
    write(ledger, NOW - timedelta(hours=1), "10", observed=NOW + timedelta(seconds=1))  # a refund
    BudgetEngine([budget(thresholds=(80,))], ["hook"], ZoneInfo("UTC")).evaluate(ledger, store, NOW)
    later = NOW + timedelta(hours=1)
    w.drain(later)
    assert [r.json["event"] for r in receiver.requests] == ["firing", "firing", "resolved"]


def test_outcomes_are_reported_per_channel(tmp_path: Path, receiver: Receiver) -> None:
    _, store = crossed(tmp_path / "l.db")
    seen: list[tuple[str, str]] = []
    receiver.script = [204, 500]
    worker(store, receiver.url, on_outcome=lambda c, o: seen.append((c, o))).drain(NOW)
    assert seen == [("hook", "sent"), ("hook", "retried")]


def test_a_crash_between_send_and_mark_resends_with_the_same_key(tmp_path: Path, receiver: Receiver) -> None:
    ledger, _ = crossed(tmp_path / "l.db", thresholds=(80,))

    class CrashesAfterSend(AlertStore):
        def mark_delivered(self, entry_id: int, now: int) -> None:
            raise SystemExit("killed between the send and the mark")

    with pytest.raises(SystemExit):
        worker(CrashesAfterSend(ledger), receiver.url).drain(NOW)
    worker(AlertStore(ledger), receiver.url).drain(NOW + timedelta(seconds=1))
    keys = [r.headers["idempotency-key"] for r in receiver.requests]
    assert len(keys) == 2 and keys[0] == keys[1]


def test_entries_of_an_unconfigured_channel_stay_queued(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _, store = crossed(tmp_path / "l.db")
    result = OutboxWorker(store, {}).drain(NOW)
    assert result.counts == {} and result.pending == 2
    assert "channel 'hook' is not configured" in caplog.text


def test_secrets_stay_out_of_outbox_rows_and_logs(
    tmp_path: Path, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _, store = crossed(tmp_path / "l.db")
    receiver.script = [500, 500]
    url = f"http://bot:hunter2@127.0.0.1:{receiver.port}/hook/T0K3N"
    worker(store, url).drain(NOW)
    stored = " ".join(f"{e.payload} {e.last_error}" for e in store.entries())
    for secret in (SECRET, "hunter2", "T0K3N"):
        assert secret not in stored and secret not in caplog.text


def test_repost_keeps_delivered_alarms_firing_in_alertmanager(tmp_path: Path, receiver: Receiver) -> None:
    ledger, store = open_stores(tmp_path / "l.db")
    write(ledger, NOW - timedelta(hours=1), "85")
    engine = BudgetEngine([budget(thresholds=(80,))], ["am"], ZoneInfo("UTC"))
    statuses = engine.evaluate(ledger, store, NOW)
    channels: dict[str, Notifier] = {"am": AlertmanagerNotifier("am", receiver.url)}
    w = OutboxWorker(store, channels)
    assert w.repost_active(statuses, NOW) == 0 and receiver.requests == []  # not delivered yet: no re-post
    w.drain(NOW)
    w.repost_active(statuses, NOW + timedelta(minutes=5))
    w.repost_active(statuses, NOW + timedelta(minutes=10))
    bodies = [r.json[0] for r in receiver.requests]
    assert len(bodies) == 3 and all(b["labels"] == bodies[0]["labels"] for b in bodies)
    assert all(b["startsAt"] == bodies[0]["startsAt"] for b in bodies)
    assert store.entries()[0].attempts == 1  # re-posts are not outbox deliveries


def test_notification_carries_the_outbox_identity(tmp_path: Path) -> None:
    _, store = crossed(tmp_path / "l.db", thresholds=(80,))
    got: list[Notification] = []

    class Recorder:
        name = "hook"

        def send(self, notification: Notification) -> None:
            got.append(notification)

    OutboxWorker(store, {"hook": Recorder()}).drain(NOW)
    (n,) = got
    assert (n.budget, n.threshold, n.kind, n.event, n.sent_at) == ("monthly", "80", "actual", "firing", NOW)
    assert AlertKey(n.budget, n.period_start, n.threshold, n.kind) == store.entries()[0].key


def test_deliver_until_idle_sleeps_through_the_backoff_until_delivered(
    tmp_path: Path, receiver: Receiver
) -> None:
    _, store = crossed(tmp_path / "l.db", thresholds=(80,))
    receiver.script = [500, 500]
    clock = [NOW.timestamp()]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    w = worker(store, receiver.url, clock=lambda: clock[0], sleep=sleep)
    result = w.deliver_until_idle(timeout=3600)
    assert result.pending == 0 and len(receiver.accepted) == 1 and len(receiver.requests) == 3
    assert len(slept) == 2 and 4 <= slept[0] <= 7 and 8 <= slept[1] <= 13  # ~5 s, then ~10 s
