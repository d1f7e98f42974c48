"""The delivery channels against real HTTP receivers on loopback."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from test_alerts_support import Receiver, free_port

from monitor.alerts import (
    AlertmanagerNotifier,
    Notification,
    PermanentDeliveryError,
    WebhookNotifier,
    build_channels,
    verify,
)
from monitor.alerts.apprise_channel import AppriseNotifier
from monitor.config import AlertChannelConfig, Secret
from monitor.errors import AlertDeliveryError, ConfigError

SECRET = "whsec-d3adb33f"
SENT_AT = datetime(2025, 6, 18, 14, 30, 5, tzinfo=UTC)
PAYLOAD = {
    "alertname": "LLMBudgetThreshold",
    "budget": "openai-monthly",
    "kind": "actual",
    "threshold": "80",
    "severity": "warning",
    "spend_usd": "412.5",
    "limit_usd": "500",
    "forecast_usd": "610",
    "summary": "Budget openai-monthly: spend $412.5 of $500 this month crossed 80%",
    "starts_at": "2025-06-18T14:30:00+00:00",
    "ends_at": None,
}


def note(event: str = "firing", **payload: object) -> Notification:
    return Notification(
        budget="openai-monthly",
        threshold="80",
        kind="actual",
        event=event,
        idempotency_key="4f1c0e5a9b2d7e31aa00cc11dd22ee33",
        payload={**PAYLOAD, **payload},
        sent_at=SENT_AT,
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def test_webhook_signs_the_timestamp_the_key_and_the_raw_body(receiver: Receiver) -> None:
    WebhookNotifier("hook", receiver.url + "/in", secret=SECRET).send(note())
    (request,) = receiver.requests
    stamp, key = int(SENT_AT.timestamp()), "4f1c0e5a9b2d7e31aa00cc11dd22ee33"
    message = f"{stamp}.{key}.".encode() + request.body
    assert request.headers["x-spend-monitor-signature"] == (
        "v2=" + hmac.new(SECRET.encode(), message, hashlib.sha256).hexdigest()
    )
    assert request.signature_ok(SECRET)
    assert not request.signature_ok("another-secret")


def test_a_captured_body_resent_with_a_new_key_fails_verification(receiver: Receiver) -> None:
    WebhookNotifier("hook", receiver.url + "/in", secret=SECRET).send(note())
    (request,) = receiver.requests
    replayed = {**request.headers, "idempotency-key": "00000000000000000000000000000000"}
    now = int(SENT_AT.timestamp())
    assert verify(SECRET, request.headers, request.body, now=now)
    assert not verify(SECRET, replayed, request.body, now=now)


def test_a_captured_delivery_replayed_later_fails_verification(receiver: Receiver) -> None:
    WebhookNotifier("hook", receiver.url + "/in", secret=SECRET).send(note())
    (request,) = receiver.requests
    later = int(SENT_AT.timestamp()) + 301
    assert not verify(SECRET, request.headers, request.body, now=later)
    restamped = {**request.headers, "x-spend-monitor-timestamp": str(later)}
    assert not verify(SECRET, restamped, request.body, now=later)


def test_webhook_sends_idempotency_key_timestamp_and_the_alert(receiver: Receiver) -> None:
    WebhookNotifier("hook", receiver.url + "/in", secret=SECRET).send(note())
    (request,) = receiver.requests
    assert request.headers["idempotency-key"] == "4f1c0e5a9b2d7e31aa00cc11dd22ee33"
    assert request.headers["x-spend-monitor-timestamp"] == str(int(SENT_AT.timestamp()))
    body = request.json
    assert (body["event"], body["sent_at"], body["alert"]["budget"]) == (
        "firing",
        SENT_AT.isoformat(),
        "openai-monthly",
    )


def test_webhook_without_secret_sends_no_signature(receiver: Receiver) -> None:
    WebhookNotifier("hook", receiver.url).send(note())
    assert "x-spend-monitor-signature" not in receiver.requests[0].headers


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_any_2xx_is_delivered(receiver: Receiver, status: int) -> None:
    receiver.script = [status]
    WebhookNotifier("hook", receiver.url).send(note())
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 408, 429])
def test_5xx_408_and_429_are_retryable(receiver: Receiver, status: int) -> None:
    receiver.script = [status]
    with pytest.raises(AlertDeliveryError) as caught:
        WebhookNotifier("hook", receiver.url).send(note())
    assert not isinstance(caught.value, PermanentDeliveryError)


def test_404_is_retryable_but_doubtful(receiver: Receiver) -> None:
    receiver.script = [404]
    with pytest.raises(AlertDeliveryError, match="will retry for a while") as caught:
        WebhookNotifier("hook", receiver.url).send(note())
    assert caught.value.doubtful and not isinstance(caught.value, PermanentDeliveryError)


@pytest.mark.parametrize("status", [400, 401, 403, 410, 422])
def test_other_4xx_are_permanent(receiver: Receiver, status: int) -> None:
    receiver.script = [status]
    with pytest.raises(PermanentDeliveryError, match=f"'hook': HTTP {status}"):
        WebhookNotifier("hook", receiver.url).send(note())


def test_connection_refused_is_retryable() -> None:
    with pytest.raises(AlertDeliveryError, match="connection failed") as caught:
        WebhookNotifier("hook", f"http://127.0.0.1:{free_port()}/x").send(note())
    assert not isinstance(caught.value, PermanentDeliveryError)


def test_slow_receiver_times_out_as_retryable(receiver: Receiver) -> None:
    receiver.delay = 0.5
    with pytest.raises(AlertDeliveryError, match="timed out"):
        WebhookNotifier("hook", receiver.url, timeout=0.1).send(note())


def test_errors_and_logs_name_the_channel_never_url_or_secret(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    receiver.script = [500]
    url = f"http://user:pa55word@127.0.0.1:{receiver.port}/hooks/tok-123"
    with pytest.raises(AlertDeliveryError) as caught:
        WebhookNotifier("hook", url, secret=SECRET).send(note())
    for text in (str(caught.value), caplog.text):
        assert "pa55word" not in text and "tok-123" not in text and SECRET not in text
    assert "'hook'" in str(caught.value)


def test_alertmanager_posts_labels_annotations_and_starts_at(receiver: Receiver) -> None:
    AlertmanagerNotifier("am", receiver.url).send(note())
    (request,) = receiver.requests
    assert request.path == "/api/v2/alerts"
    (alert,) = request.json
    assert alert["labels"] == {
        "alertname": "LLMBudgetThreshold",
        "budget": "openai-monthly",
        "threshold": "80",
        "kind": "actual",
        "severity": "warning",
    }
    assert alert["annotations"]["spend"] == "412.5" and alert["annotations"]["limit"] == "500"
    assert alert["annotations"]["forecast"] == "610" and "crossed 80%" in alert["annotations"]["summary"]
    assert alert["startsAt"] == "2025-06-18T14:30:00+00:00" and "endsAt" not in alert


def test_alertmanager_resolved_carries_ends_at(receiver: Receiver) -> None:
    AlertmanagerNotifier("am", receiver.url).send(note("resolved", ends_at="2025-06-19T08:00:00+00:00"))
    (alert,) = receiver.requests[0].json
    assert alert["endsAt"] == "2025-06-19T08:00:00+00:00"


def test_apprise_sends_title_and_body_to_any_apprise_url(receiver: Receiver) -> None:
    AppriseNotifier("chat", f"json://127.0.0.1:{receiver.port}/notify").send(note())
    (request,) = receiver.requests
    body = request.json
    assert body["title"] == "[FIRING] LLMBudgetThreshold: openai-monthly"
    assert body["message"].startswith(PAYLOAD["summary"]) and "spend: 412.5 USD" in body["message"]


def test_apprise_failure_is_retryable(receiver: Receiver) -> None:
    receiver.script = [500]
    with pytest.raises(AlertDeliveryError, match="'chat'"):
        AppriseNotifier("chat", f"json://127.0.0.1:{receiver.port}/notify").send(note())


def test_apprise_url_it_cannot_parse_is_a_config_error_without_the_url() -> None:
    with pytest.raises(ConfigError) as caught:
        AppriseNotifier("chat", "nosuchscheme://token-abc123")
    assert "'chat'" in str(caught.value) and "token-abc123" not in str(caught.value)


def test_build_channels_keys_channels_by_name() -> None:
    channels = build_channels(
        [
            AlertChannelConfig("alertmanager", Secret("http://127.0.0.1:9093")),
            AlertChannelConfig("webhook", Secret("http://127.0.0.1:1/x"), name="ops", secret=Secret(SECRET)),
            AlertChannelConfig("apprise", Secret("json://127.0.0.1:2/n"), name="chat"),
        ]
    )
    assert {name: type(c).__name__ for name, c in channels.items()} == {
        "alertmanager": "AlertmanagerNotifier",
        "ops": "WebhookNotifier",
        "chat": "AppriseNotifier",
    }
    assert SECRET not in repr(channels)


def test_build_channels_reports_every_problem_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        build_channels(
            [
                AlertChannelConfig("webhook", Secret("http://127.0.0.1:1/x"), name="ops"),
                AlertChannelConfig("webhook", Secret("http://127.0.0.1:1/y"), name="ops"),
                AlertChannelConfig("apprise", Secret("bogus://x"), name="chat"),
            ]
        )
    assert len(caught.value.problems) == 2
    assert "alerts[1].name" in caught.value.problems[0] and "'chat'" in caught.value.problems[1]


def test_notification_payload_round_trips_as_json() -> None:
    assert json.loads(json.dumps(dict(note().payload))) == PAYLOAD


def test_apprise_is_imported_only_when_a_channel_uses_it() -> None:
    """apprise costs the daemon ~2 MB: a config without an apprise channel never loads it."""
    probe = (
        "import sys\n"
        "import monitor.cli, monitor.daemon.app\n"
        "from monitor.alerts import build_channels\n"
        "from monitor.config import AlertChannelConfig, Secret\n"
        "build_channels([AlertChannelConfig('webhook', Secret('http://127.0.0.1:1/x'), name='ops')])\n"
        "before = 'apprise' in sys.modules\n"
        "build_channels([AlertChannelConfig('apprise', Secret('json://127.0.0.1:2/n'), name='chat')])\n"
        "print(before, 'apprise' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True"]
