"""The outbox's bounds: delivered rows are pruned after the retention, an active alarm's row is kept
for its re-posts, a receiver answering 404 is retried for a day before the entry fails, and a
hung Alertmanager costs one timeout per cycle, not one per alarm."""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from test_alerts_support import Receiver
from test_budgets_support import budget, open_stores, write

from monitor.alerts import AlertmanagerNotifier, OutboxWorker, WebhookNotifier
from monitor.alerts.outbox import DOUBTFUL_RETRY_S, RETENTION_S
from monitor.budgets import BudgetEngine
from monitor.store.alerts import AlertStore

NOW = datetime(2025, 6, 18, 14, 30, tzinfo=UTC)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def crossed(path: Path, thresholds: tuple[int, ...] = (50, 80), amount: str = "85") -> AlertStore:
    ledger, store = open_stores(path)
    write(ledger, NOW - timedelta(hours=1), amount)
    BudgetEngine([budget(thresholds=thresholds)], ["hook"], ZoneInfo("UTC")).evaluate(ledger, store, NOW)
    return store


def worker(store: AlertStore, url: str) -> OutboxWorker:
    return OutboxWorker(store, {"hook": WebhookNotifier("hook", url)}, rng=random.Random(1))


def test_delivered_rows_are_pruned_after_the_retention(tmp_path: Path, receiver: Receiver) -> None:
    ledger, store = open_stores(tmp_path / "l.db")
    write(ledger, NOW - timedelta(hours=1), "85")
    engine = BudgetEngine([budget(thresholds=(80,))], ["hook"], ZoneInfo("UTC"))
    engine.evaluate(ledger, store, NOW)
    worker(store, receiver.url).drain(NOW)
    write(ledger, NOW - timedelta(hours=1), "10", observed=NOW + timedelta(seconds=1))  # refund: resolved
    engine.evaluate(ledger, store, NOW)
    worker(store, receiver.url).drain(NOW)
    assert len(store.entries()) == 2  # firing and resolved, both delivered
    worker(store, receiver.url).drain(NOW + timedelta(seconds=RETENTION_S - 60))
    assert len(store.entries()) == 2
    worker(store, receiver.url).drain(NOW + timedelta(seconds=RETENTION_S + 60))
    assert store.entries() == []


def test_the_row_an_active_alarm_is_reposted_from_is_kept(tmp_path: Path, receiver: Receiver) -> None:
    # Two rungs crossed in two evaluations (one evaluation would group them in one notification).
    ledger, store = open_stores(tmp_path / "l.db")
    engine = BudgetEngine([budget(thresholds=(50, 80))], ["hook"], ZoneInfo("UTC"))
    write(ledger, NOW - timedelta(hours=1), "60")
    engine.evaluate(ledger, store, NOW)
    write(ledger, NOW - timedelta(hours=1), "85", observed=NOW + timedelta(seconds=1))
    engine.evaluate(ledger, store, NOW + timedelta(seconds=1))
    worker(store, receiver.url).drain(NOW)
    worker(store, receiver.url).drain(NOW + timedelta(seconds=RETENTION_S + 60))
    kept = store.entries()
    assert sorted(e.key.threshold for e in kept) == ["50", "80"]  # both still in ALARM


def test_a_404_is_retried_and_delivered_once_the_receiver_is_back(tmp_path: Path, receiver: Receiver) -> None:
    store = crossed(tmp_path / "l.db", thresholds=(80,))
    receiver.default = 404
    first = worker(store, receiver.url).drain(NOW)
    assert first.counts == {("hook", "retried"): 1}
    (entry,) = store.open_entries()
    late = datetime.fromtimestamp(entry.next_attempt_at, UTC)
    assert worker(store, receiver.url).drain(late).counts == {("hook", "retried"): 1}
    receiver.default = 204
    recovered = worker(store, receiver.url).drain(late + timedelta(hours=1))
    assert recovered.counts == {("hook", "sent"): 1}


def test_a_404_that_lasts_a_day_fails_the_entry(tmp_path: Path, receiver: Receiver) -> None:
    store = crossed(tmp_path / "l.db", thresholds=(80,))
    receiver.default = 404
    worker(store, receiver.url).drain(NOW)
    result = worker(store, receiver.url).drain(NOW + timedelta(seconds=DOUBTFUL_RETRY_S + 1))
    assert result.counts == {("hook", "failed"): 1} and result.pending == 0
    (entry,) = store.entries()
    assert entry.failed_at is not None and "HTTP 404" in entry.last_error and "gave up" in entry.last_error


class HungReceiver:
    """Accepts connections and reads the request, but never answers."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            self._conns.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self._conns:
            conn.close()


def test_a_hung_alertmanager_costs_one_timeout_per_repost_cycle(tmp_path: Path) -> None:
    hung = HungReceiver()
    try:
        ledger, store = open_stores(tmp_path / "l.db")
        write(ledger, NOW - timedelta(hours=1), "300")
        thresholds = (10, 20, 30, 40, 50, 60)
        BudgetEngine([budget(thresholds=thresholds)], ["am"], ZoneInfo("UTC")).evaluate(ledger, store, NOW)
        am = AlertmanagerNotifier("am", f"http://127.0.0.1:{hung.port}", timeout=0.3)
        for entry in store.open_entries():
            store.mark_delivered(entry.id, int(NOW.timestamp()))
        started = time.monotonic()
        failures = OutboxWorker(store, {"am": am}).repost_active(now=NOW)
        assert failures == 1 and hung.accepted == 1
        assert time.monotonic() - started < 1.5
    finally:
        hung.close()


def test_cancel_cuts_a_post_to_a_hung_receiver_at_once(tmp_path: Path) -> None:
    hung = HungReceiver()
    try:
        hook = WebhookNotifier("hook", f"http://127.0.0.1:{hung.port}/in", timeout=30)
        store = crossed(tmp_path / "l.db", thresholds=(80,))
        threading.Timer(0.3, hook.cancel).start()
        started = time.monotonic()
        result = OutboxWorker(store, {"hook": hook}, rng=random.Random(1)).drain(NOW)
        assert time.monotonic() - started < 2
        assert result.counts == {("hook", "retried"): 1}  # stays queued for the next start
        (entry,) = store.open_entries()
        assert "the daemon is stopping" in entry.last_error
    finally:
        hung.close()
