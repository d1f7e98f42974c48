"""The channels in the daemon as a real process: a balance crossing alerts exactly once across a SIGKILL,
and no channel's credential (access token, management key, client secret, bearer token) reaches the
log, the database, the metrics or the HTTP pages, even when the channels fail."""

from __future__ import annotations

import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from monitor.simulator import Simulator
from tests.channel_support import (
    azure_entry,
    channel_env,
    openrouter_entry,
    relay_entry,
    write_channel_config,
)
from tests.daemon_support import free_port, spawn, wait_ready
from tests.test_alerts_support import Receiver

HOOK_SECRET = "whsec-balance-test-0123456789"


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(seed=13) as s:  # the real clock: the daemon runs as a process
        yield s


def outbox_rows(db: Path) -> list[tuple[str, str, str]]:
    if not db.exists():
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT kind, event, channel FROM alert_outbox ORDER BY id").fetchall()
    except sqlite3.OperationalError:
        return []


def wait_for(predicate: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_a_balance_crossing_alerts_once_across_a_sigkill(tmp_path: Path, sim: Simulator) -> None:
    receiver = Receiver()  # down at first: the notification waits in the outbox
    db = tmp_path / "spend.db"
    port = free_port()
    config = write_channel_config(
        tmp_path / "c.yaml",
        sim,
        db,
        relay_entry(sim, lookback="1d"),
        f"""
balances:
  - {{account: relay, below_usd: 100000}}
alerts:
  - type: webhook
    url: {receiver.url}/hook
    secret: ${{HOOK_SECRET}}
""",
    )
    text = config.read_text(encoding="utf-8").replace('listen: "127.0.0.1', f'listen: "127.0.0.1:{port}" #')
    config.write_text(text, encoding="utf-8")
    env = {**channel_env(sim), "HOOK_SECRET": HOOK_SECRET}
    proc = spawn(["run", "--config", str(config)], env, tmp_path / "run-1.log")
    try:
        wait_for(lambda: outbox_rows(db) == [("balance_low", "firing", "webhook")])
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    receiver.start()
    proc = spawn(["run", "--config", str(config)], env, tmp_path / "run-2.log")
    try:
        wait_ready(f"http://127.0.0.1:{port}")
        wait_for(lambda: len(receiver.accepted) >= 1, timeout=90)
        time.sleep(1.0)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
        receiver.stop()
    assert [(r.json["event"], r.json["alert"]["kind"]) for r in receiver.accepted] == [
        ("firing", "balance_low")
    ]
    (hook,) = receiver.accepted
    assert hook.signature_ok(HOOK_SECRET)
    assert hook.json["alert"]["summary"].startswith("relay (newapi): prepaid balance $")
    assert outbox_rows(db) == [("balance_low", "firing", "webhook")]  # the restart did not fire again


def test_no_channel_credential_reaches_logs_database_metrics_or_pages(tmp_path: Path, sim: Simulator) -> None:
    port = free_port()
    db = tmp_path / "spend.db"
    entries = (
        relay_entry(sim, lookback="2d")
        + openrouter_entry(sim, lookback="2d")
        + azure_entry(sim, lookback="2d")
    )
    config = write_channel_config(tmp_path / "c.yaml", sim, db, entries)
    text = config.read_text(encoding="utf-8").replace('listen: "127.0.0.1', f'listen: "127.0.0.1:{port}" #')
    config.write_text(text, encoding="utf-8")
    sim.inject("401", path="/newapi/api/log/self", count=1)
    sim.inject("html", path="/newapi/api/status", count=1)
    sim.inject("token-expired", path="/azure/arm/*", count=1)
    sim.inject("403", path="/openrouter/api/v1/credits", count=1)
    proc = spawn(
        ["--log-level", "DEBUG", "run", "--config", str(config)], channel_env(sim), tmp_path / "d.log"
    )
    bodies = []
    try:
        wait_ready(f"http://127.0.0.1:{port}")
        for path in ("/metrics", "/", "/healthz", "/readyz"):
            bodies.append(httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5).text)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    log = (tmp_path / "d.log").read_text()
    assert "the access token was rejected" in log  # the failures were logged, without the credentials
    assert 'provider="azure_openai"' in bodies[0] and 'provider="openrouter"' in bodies[0]
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("spend.db*"))
    secrets = [*sim.newapi.secrets, *sim.openrouter.secrets, *sim.azure.secrets]
    assert len(secrets) >= 5  # the relay's token, two OpenRouter keys, the client secret, bearer tokens
    for secret in secrets:
        for piece in (secret, secret[-12:]):
            assert piece not in log
            assert piece.encode() not in stored
            assert all(piece not in body for body in bodies)
