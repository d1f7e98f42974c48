"""The daemon and backfill as real processes: signals, SIGKILL mid-backfill, and secrets."""

from __future__ import annotations

import signal
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from monitor.simulator import Simulator
from tests.daemon_support import (
    assert_ledger_is_ground_truth,
    free_port,
    key_env,
    spawn,
    wait_ready,
    write_config,
)

OPENAI_KEY = "sk-admin-SECRET-openai-4f1c9e2b7a"
ANTHROPIC_KEY = "sk-ant-admin01-SECRET-anthropic-9d8c7b6a"


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(seed=11, openai_key=OPENAI_KEY, anthropic_key=ANTHROPIC_KEY) as s:
        yield s


def days_ago(n: int) -> datetime:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=n)


def observed_buckets(db: Path, account: str, endpoint: str) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            row = conn.execute(
                "SELECT COUNT(*) FROM observations WHERE account = ? AND endpoint = ?", (account, endpoint)
            ).fetchone()
    except sqlite3.OperationalError:
        return 0
    return int(row[0])


def wait_for(predicate: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_sigterm_finishes_and_exits_zero_within_seconds(tmp_path: Path, sim: Simulator) -> None:
    port = free_port()
    config = write_config(tmp_path / "c.yaml", sim, tmp_path / "spend.db", listen=f"127.0.0.1:{port}")
    proc = spawn(["run", "--config", str(config)], key_env(sim), tmp_path / "daemon.log")
    try:
        wait_ready(f"http://127.0.0.1:{port}")
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert time.monotonic() - sent < 5
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "stopped cleanly" in (tmp_path / "daemon.log").read_text()


def test_sigkill_mid_backfill_then_resume_is_exact(tmp_path: Path, sim: Simulator) -> None:
    db = tmp_path / "spend.db"
    config = write_config(tmp_path / "c.yaml", sim, db, max_attempts=50)
    since, until = days_ago(20), days_ago(2)
    hours = int((until - since).total_seconds()) // 3600
    args = [
        "backfill",
        "--config",
        str(config),
        "--since",
        f"{since:%Y-%m-%d}",
        "--until",
        f"{until:%Y-%m-%d}",
    ]
    # completions (3 pages) go through; embeddings, the next endpoint, keeps failing: the first
    # run is stuck in the middle of the backfill when it is killed
    sim.inject("500", path="*/usage/embeddings", count=10_000)
    proc = spawn(args, key_env(sim), tmp_path / "backfill-1.log")
    try:
        wait_for(lambda: any(r.path.endswith("/usage/embeddings") for r in sim.requests_log))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert observed_buckets(db, "openai-test", "completions") == hours
    assert observed_buckets(db, "openai-test", "embeddings") == 0
    assert observed_buckets(db, "anthropic-test", "messages") == 0
    sim.clear_faults()
    sim.reset_log()
    proc = spawn(args, key_env(sim), tmp_path / "backfill-2.log")
    assert proc.wait(timeout=120) == 0, (tmp_path / "backfill-2.log").read_text()
    assert not any(r.path.endswith("/usage/completions") for r in sim.requests_log), "resumed, not restarted"
    assert observed_buckets(db, "openai-test", "embeddings") == hours
    assert_ledger_is_ground_truth(db, sim, int(since.timestamp()), int(until.timestamp()))
    assert "resuming" in (tmp_path / "backfill-2.log").read_text()


def test_secrets_never_reach_logs_database_or_http(tmp_path: Path, sim: Simulator) -> None:
    port = free_port()
    db = tmp_path / "spend.db"
    config = write_config(tmp_path / "c.yaml", sim, db, listen=f"127.0.0.1:{port}", max_attempts=2)
    sim.inject("401", path="*/usage_report/messages", count=1)
    sim.inject("500", path="*/usage/completions", count=3)
    sim.inject("truncated", path="*/usage/embeddings", count=1)
    proc = spawn(["--log-level", "DEBUG", "run", "--config", str(config)], key_env(sim), tmp_path / "d.log")
    bodies = []
    try:
        wait_ready(f"http://127.0.0.1:{port}")
        for path in ("/metrics", "/", "/healthz", "/readyz", "/nope"):
            bodies.append(httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5).text)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    log = (tmp_path / "d.log").read_text()
    assert "rejected" in log or "401" in log, "the auth failure was logged (without the key)"
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("spend.db*"))
    for secret in (OPENAI_KEY, ANTHROPIC_KEY, OPENAI_KEY[-10:], ANTHROPIC_KEY[-10:]):
        assert secret not in log
        assert secret.encode() not in stored
        assert all(secret not in body for body in bodies)
