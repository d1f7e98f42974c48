"""Shared helpers for the daemon tests: a settable clock, a config file pointing at a simulator,
and ledger-vs-ground-truth comparisons. Not a test module."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx

from monitor.config import Config, ProviderConfig, load_config
from monitor.providers import Provider, make_provider
from monitor.records import TOKEN_TYPES
from monitor.simulator import Simulator
from monitor.store import Ledger, Scope

HOUR = 3600
# 2026-11-25 10:30 UTC: a Wednesday morning, late in the month, mid-bucket.
T0 = 1795602600


class Clock:
    """A clock the test moves by hand; both the simulator and the daemon read it."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(
    path: Path,
    sim: Simulator,
    db: Path,
    *,
    listen: str | None = None,
    lookback: str = "3d",
    extra: str = "",
    timeout: str = "2s",
    max_attempts: int = 6,
) -> Path:
    listen = listen or f"127.0.0.1:{free_port()}"
    path.write_text(
        f"""
listen: "{listen}"
storage:
  path: "{db}"
providers:
  - name: openai-test
    type: openai
    api_key: ${{TEST_OPENAI_KEY}}
    base_url: "{sim.openai_base_url}"
    poll_interval: 60s
    initial_lookback: {lookback}
    timeout: {timeout}
    max_attempts: {max_attempts}
  - name: anthropic-test
    type: anthropic
    api_key: ${{TEST_ANTHROPIC_KEY}}
    base_url: "{sim.anthropic_base_url}"
    poll_interval: 60s
    initial_lookback: {lookback}
    timeout: {timeout}
    max_attempts: {max_attempts}
{extra}
""",
        encoding="utf-8",
    )
    return path


def key_env(sim: Simulator) -> dict[str, str]:
    return {"TEST_OPENAI_KEY": sim.openai_key, "TEST_ANTHROPIC_KEY": sim.anthropic_key}


def load(path: Path, sim: Simulator) -> Config:
    return load_config(path, environ={**os.environ, **key_env(sim)})


def no_wait_factory(cfg: ProviderConfig, sleep: Callable[[float], None]) -> Provider:
    """Providers whose retry backoff does not really sleep, so fault tests stay fast."""
    return make_provider(cfg, sleep=lambda _s: None)


def ledger_totals(db: Path, provider: str, start: int, end: int) -> dict[str, Any]:
    with Ledger.open(db) as ledger:
        rows = ledger.spend_by(["provider"], start, end, Scope(provider=(provider,)))
    assert len(rows) == 1, rows
    row = rows[0]
    return {"tokens": dict(row["tokens"]), "cost": int(row["cost_total"]), "requests": int(row["requests"])}


def truth_totals(sim: Simulator, provider: str, start: int, end: int) -> dict[str, Any]:
    truth = sim.ground_truth(provider, start, end).total
    return {
        "tokens": {t: int(truth.tokens.get(t, 0)) for t in TOKEN_TYPES},
        "cost": int(truth.cost_pico),
        "requests": int(truth.requests),
    }


def assert_ledger_is_ground_truth(db: Path, sim: Simulator, start: int, end: int) -> None:
    for provider in ("openai", "anthropic"):
        got = ledger_totals(db, provider, start, end)
        want = truth_totals(sim, provider, start, end)
        assert got == want, f"{provider}: ledger {got} != ground truth {want}"
        assert want["cost"] > 0


def spawn(args: list[str], env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:  # the child keeps its own descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "monitor.cli", *args],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_ready(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not become ready within {timeout}s")
