"""`make chaos` in small: a few cycles and 3 SIGKILLs under faults, with the same end checks, so the
chaos machinery is itself tested; and the checks shown to fail when delivery or secrets go wrong."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from benchmarks.chaos import (
    OPENAI_KEY,
    SECRET,
    ChaosOptions,
    ChaosReport,
    check_outbox,
    check_secrets,
    run_chaos,
    summary,
)
from benchmarks.common import WebhookReceiver
from monitor.alerts import sign
from monitor.store import Ledger
from monitor.store.alerts import ALARM, AlertKey, AlertStore


@pytest.fixture(scope="module")
def chaos(tmp_path_factory: pytest.TempPathFactory) -> ChaosReport:
    options = ChaosOptions(seed=7, cycles=10, kills=3, workdir=tmp_path_factory.mktemp("chaos"))
    return run_chaos(options, log=lambda _line: None)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver(SECRET)
    r.set_mode("up")
    yield r
    r.close()


def post(receiver: WebhookReceiver, key: str, *, secret: str = SECRET) -> int:
    body = json.dumps({"event": "firing", "idempotency_key": key, "alert": {"budget": "b"}}).encode()
    headers = {
        "Idempotency-Key": key,
        "X-Spend-Monitor-Timestamp": "1000",
        "X-Spend-Monitor-Signature": sign(secret, 1000, key, body),
    }
    return httpx.post(receiver.url, content=body, headers=headers, timeout=5).status_code


def queue_alert(db: Path, *, delivered: bool) -> str:
    """One outbox entry for the channel "receiver", as the budget engine queues it."""
    with Ledger.open(db) as ledger:
        store = AlertStore(ledger)
        store.transition(
            AlertKey("b", 0, "50", "actual"),
            ALARM,
            period_end=86400,
            now=10,
            payload={"budget": "b"},
            channels=["receiver"],
        )
        entry = store.entries()[0]
        if delivered:
            store.mark_delivered(entry.id, 11)
        return entry.idempotency_key


def failed_checks(report: ChaosReport) -> set[str]:
    return {c.name for c in report.checks if not c.ok}


def test_small_chaos_run_passes_every_end_check(chaos: ChaosReport) -> None:
    assert chaos.checks and not failed_checks(chaos), summary(chaos)


def test_small_chaos_run_kills_the_daemon_and_delivers_alerts_through_outages(chaos: ChaosReport) -> None:
    assert chaos.kills >= 3
    assert chaos.alerts_queued > 0
    assert chaos.keys_delivered == chaos.alerts_queued
    assert chaos.comparisons and all(c.truth_cost > 0 for c in chaos.comparisons)


def test_outbox_check_counts_a_repeat_on_the_wire_as_a_duplicate_not_a_failure(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    key = queue_alert(tmp_path / "spend.db", delivered=True)
    assert post(receiver, key) == 200
    assert post(receiver, key) == 200
    report = ChaosReport()
    check_outbox(tmp_path / "spend.db", receiver, report)
    assert not failed_checks(report)
    assert (report.keys_delivered, report.wire_accepted, report.wire_duplicates) == (1, 2, 1)


def test_outbox_check_fails_when_a_queued_alert_never_reached_the_receiver(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    queue_alert(tmp_path / "spend.db", delivered=False)
    report = ChaosReport()
    check_outbox(tmp_path / "spend.db", receiver, report)
    assert {
        "no outbox entry pending",
        "every outbox entry marked delivered",
        "distinct idempotency keys accepted == outbox entries",
    } <= failed_checks(report)


def test_outbox_check_fails_on_a_key_the_outbox_never_queued(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    key = queue_alert(tmp_path / "spend.db", delivered=True)
    assert post(receiver, key) == 200
    assert post(receiver, "a-key-nobody-queued") == 200
    report = ChaosReport()
    check_outbox(tmp_path / "spend.db", receiver, report)
    assert failed_checks(report) == {"distinct idempotency keys accepted == outbox entries"}


def test_receiver_answers_500_in_error_mode_and_refuses_connections_when_down(
    receiver: WebhookReceiver,
) -> None:
    receiver.set_mode("error")
    assert post(receiver, "k1") == 500
    receiver.set_mode("down")
    with pytest.raises(httpx.ConnectError):
        post(receiver, "k2")
    receiver.set_mode("up")
    assert post(receiver, "k3") == 200
    assert [(d.key, d.accepted) for d in receiver.deliveries] == [("k1", False), ("k3", True)]


def test_receiver_flags_a_delivery_with_a_wrong_signature(receiver: WebhookReceiver) -> None:
    post(receiver, "k", secret="not-the-secret")
    post(receiver, "k")
    assert [d.signature_ok for d in receiver.deliveries] == [False, True]


def test_secret_check_fails_when_a_key_reaches_the_daemon_log(tmp_path: Path) -> None:
    (tmp_path / "daemon.log").write_text(f"GET /usage with {OPENAI_KEY}\n", encoding="utf-8")
    report = ChaosReport()
    check_secrets(tmp_path, report)
    assert not report.ok
