"""The README's quick start works as written on config.example.yaml (tests/test_quick_start.py runs its commands).

Only the two admin keys it exports are set; the keys are dummies and the network is closed, so
the daemon's polls fail, but it must start, serve /healthz and stop cleanly on SIGTERM.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def quick_start_commands() -> list[str]:
    """The lines of the code block under '## Quick start with real keys', comments stripped."""
    section = README.read_text(encoding="utf-8").split("## Quick start with real keys", 1)[1]
    block = section.split("```", 2)[1]
    return [line.split("  #", 1)[0].strip() for line in block.splitlines() if line.strip()]


def workdir(tmp_path: Path) -> Path:
    """A directory like the repository's root for these commands: the example config and .venv."""
    (tmp_path / "config.example.yaml").write_bytes((ROOT / "config.example.yaml").read_bytes())
    (tmp_path / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    return tmp_path


def listen_port(config: Path) -> int:
    match = re.search(r'^listen: "127\.0\.0\.1:(\d+)"', config.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, "config.example.yaml listens on 127.0.0.1:PORT"
    return int(match.group(1))


def test_quick_start_is_five_commands_ending_with_run() -> None:
    commands = quick_start_commands()
    assert commands[0] == "cp config.example.yaml config.yaml"
    assert [c.split()[0] for c in commands[1:3]] == ["export", "export"]
    assert commands[-2:] == [
        ".venv/bin/spend-monitor check-config --config config.yaml",
        ".venv/bin/spend-monitor run --config config.yaml",
    ]


def test_quick_start_checks_the_config_then_runs_the_daemon(tmp_path: Path) -> None:
    *setup, run = quick_start_commands()
    cwd = workdir(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.endswith("_ADMIN_KEY")}
    script = "set -euo pipefail\n" + "\n".join(setup) + f"\nexec {run}\n"
    port = listen_port(cwd / "config.example.yaml")
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, f"port {port} is in use (is `make run` running?)"
    daemon = subprocess.Popen(
        ["bash", "-c", script], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        health = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and daemon.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert daemon.poll() is None, daemon.communicate()[0]
        assert health is not None and health.status_code == 200, health
        daemon.send_signal(signal.SIGTERM)
        output, _ = daemon.communicate(timeout=30)
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.communicate()
    assert daemon.returncode == 0, output
    assert "Traceback" not in output, output
    for secret in ("sk-admin-...", "sk-ant-admin..."):
        assert secret not in output


def test_quick_start_check_config_prints_ok(tmp_path: Path) -> None:
    *setup, _ = quick_start_commands()
    cwd = workdir(tmp_path)
    script = "set -euo pipefail\n" + "\n".join(setup) + "\n"
    done = subprocess.run(
        ["bash", "-c", script], check=False, cwd=cwd, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "ok", done.stdout
