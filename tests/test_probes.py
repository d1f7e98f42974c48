"""Honest probes: a damaged ledger makes /readyz not ready and shows on the status page, and a ledger
truncated to nothing is refused rather than taken for a fresh install (which would re-send every
alert). The daemon runs for real against the simulator on loopback; the ledgers are real files."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from monitor.cli import main
from monitor.daemon import Daemon
from monitor.simulator import Simulator
from tests.daemon_support import HOUR, T0, Clock, free_port, key_env, load, no_wait_factory, write_config

UID = 10001
"""An unprivileged user (the image's), for whom file permissions hold (they do not for root)."""


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def sim(clock: Clock) -> Iterator[Simulator]:
    with Simulator(seed=11, clock=clock, start=T0 - 10 * 24 * HOUR) as s:
        yield s


def polled_ledger(tmp_path: Path, sim: Simulator, clock: Clock) -> Path:
    """A config whose ledger holds three days of both accounts' usage, polled once and closed."""
    config = write_config(tmp_path / "config.yaml", sim, tmp_path / "spend.db")
    daemon = Daemon(load(config, sim), clock=clock, provider_factory=no_wait_factory)
    try:
        assert all(r.ok for r in daemon.run_cycle().values())
    finally:
        daemon.stop()
    return config


def corrupt_middle_pages(db: Path, pages: int = 16) -> None:
    """Overwrite `pages` pages in the middle of the file with garbage, as a bad disk block would."""
    page_size = 4096
    size = db.stat().st_size
    with db.open("r+b") as handle:
        handle.seek(size // 2 // page_size * page_size)
        handle.write(b"\xde\xad\xbe\xef" * (page_size // 4) * pages)


def test_a_corrupt_page_makes_the_daemon_not_ready_and_shows_on_the_status_page(
    tmp_path: Path, sim: Simulator, clock: Clock
) -> None:
    config = polled_ledger(tmp_path, sim, clock)
    corrupt_middle_pages(tmp_path / "spend.db")
    clock.advance(HOUR)
    daemon = Daemon(load(config, sim), clock=clock, provider_factory=no_wait_factory)
    try:
        daemon.start()
        daemon.run_cycle()
        ready = httpx.get(f"{daemon.server.url}/readyz", timeout=10)
        page = httpx.get(f"{daemon.server.url}/", timeout=10).text
        health = httpx.get(f"{daemon.server.url}/healthz", timeout=10)
    finally:
        daemon.stop()
    assert ready.status_code == 503
    assert "not ready: " in ready.text and "malformed" in ready.text
    assert '<div id="problems" role="alert"><h2>Not ready</h2>' in page and "malformed" in page
    assert health.status_code == 200, "alive: a restart would not mend the file"


def test_a_ledger_truncated_to_nothing_is_refused_not_started_afresh(
    tmp_path: Path,
    sim: Simulator,
    clock: Clock,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = polled_ledger(tmp_path, sim, clock)
    db = tmp_path / "spend.db"
    os.truncate(db, 0)
    for name, value in key_env(sim).items():
        monkeypatch.setenv(name, value)

    assert main(["run", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert f"spend-monitor: error: ledger {db} is an empty file (0 bytes): a truncated ledger" in err
    assert "restore it from a backup, or delete the file to start a new ledger" in err
    assert db.stat().st_size == 0, "nothing was written to it"


@pytest.mark.skipif(
    os.geteuid() == 0 and not shutil.which("setpriv"),
    reason="as root, needs setpriv to run the daemon as a user for whom a read-only file is read-only",
)
def test_a_read_only_ledger_makes_the_daemon_not_ready_and_shows_on_the_status_page(
    world_readable_dir: Path,
) -> None:
    with Simulator(seed=11) as sim:
        data = world_readable_dir / "data"
        data.mkdir()
        port = free_port()
        config = write_config(
            world_readable_dir / "config.yaml", sim, data / "spend.db", listen=f"127.0.0.1:{port}"
        )
        first = Daemon(load(config, sim))
        try:
            first.run_cycle()
        finally:
            first.stop()
        (data / "spend.db").chmod(0o444)
        if os.geteuid() == 0:
            os.chown(data, UID, UID)  # the user may create the -wal and -shm files, not write the ledger
        command = [sys.executable, "-m", "monitor.cli", "run", "--config", str(config)]
        if os.geteuid() == 0:
            command = ["setpriv", "--reuid", str(UID), "--regid", str(UID), "--clear-groups", *command]
        log = (world_readable_dir / "daemon.log").open("wb")
        proc = subprocess.Popen(
            command,
            env={**os.environ, **key_env(sim)},
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=world_readable_dir,
        )
        try:
            ready = wait_for_answer(f"http://127.0.0.1:{port}/readyz", proc, lambda r: "ledger" in r.text)
            page = httpx.get(f"http://127.0.0.1:{port}/", timeout=10).text
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=15)
            log.close()
    assert ready.status_code == 503, ready.text
    assert "readonly database" in ready.text
    assert '<div id="problems" role="alert">' in page and "readonly database" in page


def wait_for_answer(
    url: str, proc: subprocess.Popen[bytes], done: object, timeout: float = 60.0
) -> httpx.Response:
    """The first answer of `url` for which done(response) holds."""
    deadline = time.monotonic() + timeout
    last: httpx.Response | None = None
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the daemon exited with {proc.returncode}"
        try:
            last = httpx.get(url, timeout=5)
            if callable(done) and done(last):
                return last
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"no answer of {url} in {timeout:.0f} s; last: {last and last.text!r}")
