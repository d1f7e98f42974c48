"""One daemon per ledger, and a fast SIGTERM whatever the provider does: real `spend-monitor`
processes against the simulator, or against a hostile provider that trickles on loopback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hostile_support import hostile, trickle

from monitor.simulator import Simulator
from monitor.store.lock import LedgerInUseError, hold, lock_path
from tests.daemon_support import free_port, key_env, spawn, wait_ready, write_config


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(seed=5) as s:
        yield s


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@contextmanager
def daemon(tmp_path: Path, sim: Simulator) -> Iterator[tuple[subprocess.Popen[bytes], Path, Path]]:
    """A `spend-monitor run` on the simulator, ready: (process, config, ledger); SIGTERM at the end."""
    port = free_port()
    db = tmp_path / "spend.db"
    config = write_config(tmp_path / "c.yaml", sim, db, listen=f"127.0.0.1:{port}")
    proc = spawn(["run", "--config", str(config)], key_env(sim), tmp_path / "daemon.log")
    try:
        wait_ready(f"http://127.0.0.1:{port}")
        yield proc, config, db
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)


def test_a_second_daemon_refuses_the_ledger_with_exit_1_naming_the_first(
    tmp_path: Path, sim: Simulator
) -> None:
    with daemon(tmp_path, sim) as (first, config, db):
        second = run_cli(
            ["run", "--config", str(config), "--listen", f"127.0.0.1:{free_port()}"], key_env(sim)
        )
        assert second.returncode == 1
        assert second.stderr.strip().splitlines()[-1] == (
            f"spend-monitor: error: ledger {db} is in use by another spend-monitor daemon (pid {first.pid}); "
            "one daemon per ledger: stop the other one, or set storage.path to another file"
        )
        assert "Traceback" not in second.stderr
        assert first.poll() is None  # the first one runs on


def test_the_lock_is_free_again_after_sigkill(tmp_path: Path, sim: Simulator) -> None:
    with daemon(tmp_path, sim) as (first, _, db):
        with pytest.raises(LedgerInUseError):
            hold(db)
        first.kill()
        first.wait(timeout=15)
    assert lock_path(db).exists()  # the file stays; the kernel dropped the lock with the process
    hold(db).release()


def test_backfill_may_run_beside_the_daemon(tmp_path: Path, sim: Simulator) -> None:
    with daemon(tmp_path, sim) as (running, config, _):
        since = (datetime.now(UTC) - timedelta(days=5)).date().isoformat()
        backfill = run_cli(["backfill", "--config", str(config), "--since", since], key_env(sim))
        assert backfill.returncode == 0, backfill.stderr
        assert running.poll() is None


def test_sigterm_is_fast_while_a_provider_trickles(tmp_path: Path, sim: Simulator) -> None:
    port = free_port()
    with hostile(trickle(1.0)) as (url, arrivals):
        config = write_config(
            tmp_path / "c.yaml", sim, tmp_path / "spend.db", listen=f"127.0.0.1:{port}", timeout="60s"
        )
        text = config.read_text().replace(sim.openai_base_url, url + "/v1")
        config.write_text(text)
        proc = spawn(["run", "--config", str(config)], key_env(sim), tmp_path / "daemon.log")
        try:
            deadline = time.monotonic() + 30
            while not arrivals and time.monotonic() < deadline:
                time.sleep(0.05)
            assert arrivals, "the daemon never asked the trickling provider"
            time.sleep(1.0)  # the request is in flight, trickling
            sent = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=20) == 0
            took = time.monotonic() - sent
        finally:
            if proc.poll() is None:
                proc.kill()
    assert took < 10
    assert "stopped cleanly" in (tmp_path / "daemon.log").read_text()
