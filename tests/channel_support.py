"""Shared helpers for the channel tests (relay, OpenRouter, Azure OpenAI): a config naming the simulator's
channels, the daemon on a settable clock, and the ledger's view of one channel. Not a test module."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from monitor.config import Config, load_config
from monitor.daemon import Daemon
from monitor.records import TOKEN_TYPES
from monitor.simulator import Simulator, azure_api
from monitor.simulator.core import (
    AZURE_CLIENT_SECRET,
    NEWAPI_ACCESS_TOKEN,
    NEWAPI_USER_ID,
    OPENROUTER_MANAGEMENT_KEY,
)
from monitor.store import Ledger, Scope
from monitor.store.billed import BilledStore
from tests.daemon_support import Clock, free_port, no_wait_factory

DAY = 86_400


def relay_entry(sim: Simulator, *, lookback: str = "10d", name: str = "relay", extra: str = "") -> str:
    return f"""
  - name: {name}
    type: newapi
    base_url: "{sim.newapi_base_url}"
    access_token: ${{TEST_RELAY_TOKEN}}
    user_id: {NEWAPI_USER_ID}
    poll_interval: 60s
    initial_lookback: {lookback}
    timeout: 2s
{extra}"""


def openrouter_entry(sim: Simulator, *, lookback: str = "10d", name: str = "router", extra: str = "") -> str:
    return f"""
  - name: {name}
    type: openrouter
    api_key: ${{TEST_OPENROUTER_KEY}}
    base_url: "{sim.openrouter_base_url}"
    poll_interval: 60s
    initial_lookback: {lookback}
    timeout: 2s
{extra}"""


def azure_entry(sim: Simulator, *, lookback: str = "10d", name: str = "azure", extra: str = "") -> str:
    return f"""
  - name: {name}
    type: azure_openai
    tenant_id: {azure_api.TENANT}
    client_id: {azure_api.CLIENT_ID}
    client_secret: ${{TEST_AZURE_SECRET}}
    subscription_id: {azure_api.SUBSCRIPTION}
    resource_group: {azure_api.RESOURCE_GROUP}
    account: {azure_api.ACCOUNT}
    login_url: "{sim.azure_login_url}"
    management_url: "{sim.azure_management_url}"
    poll_interval: 60s
    initial_lookback: {lookback}
    timeout: 2s
{extra}"""


def channel_env(sim: Simulator) -> dict[str, str]:
    return {
        "TEST_RELAY_TOKEN": NEWAPI_ACCESS_TOKEN,
        "TEST_OPENROUTER_KEY": OPENROUTER_MANAGEMENT_KEY,
        "TEST_AZURE_SECRET": AZURE_CLIENT_SECRET,
    }


def write_channel_config(path: Path, sim: Simulator, db: Path, entries: str, extra: str = "") -> Path:
    path.write_text(
        f"""
listen: "127.0.0.1:{free_port()}"
storage:
  path: "{db}"
providers:{entries}
{extra}
""",
        encoding="utf-8",
    )
    return path


def load_channels(path: Path, sim: Simulator) -> Config:
    return load_config(path, environ={**os.environ, **channel_env(sim)})


RUNNING: list[Daemon] = []
"""Daemons `channel_daemon` made; a test module's autouse fixture calls `stop_daemons` after each test."""


def channel_daemon(tmp_path: Path, sim: Simulator, clock: Clock, entries: str, extra: str = "") -> Daemon:
    config = write_channel_config(tmp_path / "config.yaml", sim, tmp_path / "spend.db", entries, extra)
    daemon = Daemon(load_channels(config, sim), clock=clock, provider_factory=no_wait_factory)
    RUNNING.append(daemon)
    return daemon


def stop_daemons() -> None:
    """Stop every daemon `channel_daemon` made (a restart test stops the first one itself first)."""
    while RUNNING:
        RUNNING.pop().stop()


def restart(daemon: Daemon) -> None:
    """Stop `daemon` as a restart does, before another one opens its ledger."""
    daemon.stop()
    RUNNING.remove(daemon)


def ledger_usage(db: Path, provider: str, start: int, end: int) -> dict[str, Any]:
    """Tokens (every TOKEN_TYPES name), requests and computed cost of one channel's rows in [start, end)."""
    with Ledger.open(db) as ledger:
        rows = ledger.spend_by(["provider"], start, end, Scope(provider=(provider,)))
    if not rows:
        return {"tokens": dict.fromkeys(TOKEN_TYPES, 0), "requests": 0, "cost": 0}
    (row,) = rows
    tokens = {t: int(row["tokens"].get(t, 0)) for t in TOKEN_TYPES}
    return {"tokens": tokens, "requests": int(row["requests"]), "cost": int(row["cost_total"])}


def ledger_billed_by_day(db: Path, account: str, start: int, end: int) -> dict[int, int]:
    with Ledger.open(db) as ledger:
        rows = BilledStore(ledger).billed_by(["day_start"], start, end, accounts=[account])
    return {int(r["day_start"]): int(r["amount_pico"]) for r in rows if r["amount_pico"]}
