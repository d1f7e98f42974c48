"""The daemon as the container runs it: an unprivileged user, a read-only root filesystem, and one
writable data directory.

No container runtime runs here, so the test builds the same confinement from Linux parts: a
private mount namespace (`unshare --mount`) in which `/` is remounted read-only and only the data
directory stays writable, and `setpriv` dropping to the image's uid/gid 10001 with no
capabilities. Anything the daemon tried to write outside the data directory (a cache in $HOME, a
file in the working directory, bytecode) would fail there and show in its log or its readiness.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from monitor.simulator import Simulator
from tests.daemon_support import free_port, key_env, wait_ready, write_config

UID = 10001
"""The image's user (Dockerfile: useradd --uid 10001)."""

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not (shutil.which("unshare") and shutil.which("setpriv")),
    reason="needs root, unshare and setpriv to build a read-only root (CI runs as root)",
)


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(seed=5) as s:
        yield s


def confined(command: list[str], data: Path) -> list[str]:
    """`command` in a private mount namespace with `/` read-only except `data`, as uid/gid 10001."""
    script = (
        'mount --make-rprivate / && mount --bind "$1" "$1" && mount -o remount,bind,ro / && shift && '
        f'exec setpriv --reuid {UID} --regid {UID} --clear-groups --inh-caps=-all "$@"'
    )
    return ["unshare", "--mount", "sh", "-c", script, "confined", str(data), *command]


def test_the_daemon_runs_unprivileged_on_a_read_only_root_writing_only_its_data_directory(
    world_readable_dir: Path, sim: Simulator
) -> None:
    data = world_readable_dir / "data"
    data.mkdir()
    os.chown(data, UID, UID)
    db = data / "spend.db"
    port = free_port()
    config = write_config(
        world_readable_dir / "config.yaml", sim, db, listen=f"127.0.0.1:{port}", lookback="1d"
    )
    config.chmod(0o644)
    log = world_readable_dir / "daemon.log"
    env = {**os.environ, **key_env(sim), "HOME": "/nonexistent", "PYTHONDONTWRITEBYTECODE": ""}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            confined([sys.executable, "-m", "monitor.cli", "run", "--config", str(config)], data),
            env=env,
            cwd="/",
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_ready(f"http://127.0.0.1:{port}")
        status = Path(f"/proc/{proc.pid}/status").read_text(encoding="utf-8")
        uids = next(line.split()[1:] for line in status.splitlines() if line.startswith("Uid:"))
        assert set(uids) == {str(UID)}, f"the daemon runs as uid {uids}"
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert "llm_tokens_total{" in metrics
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log.read_text(encoding="utf-8", errors="replace")
    for symptom in ("Read-only file system", "Permission denied", "Traceback"):
        assert symptom not in text, f"{symptom!r} in the daemon's log:\n{text[-3000:]}"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        assert conn.execute("SELECT COUNT(*) FROM usage").fetchone()[0] > 0
    assert {p.stat().st_uid for p in data.iterdir()} == {UID}
