"""Shared helpers for the rates-from-the-bill tests: the simulator's traffic of today plus a preview model
of each provider that no price source lists, polled by the daemon from a UTC midnight. Not a test module."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from monitor.config import Config
from monitor.daemon import Daemon
from monitor.simulator import (
    DEFAULT_ANTHROPIC_MODELS,
    DEFAULT_OPENAI_MODELS,
    PREVIEW_ANTHROPIC_MODEL,
    PREVIEW_OPENAI_MODEL,
    Simulator,
)
from tests.daemon_support import HOUR, T0, Clock, load, no_wait_factory, write_config

DAY = 24 * HOUR
FIRST_DAY = T0 // DAY * DAY - 3 * DAY
"""The daemon's first poll looks back to this UTC midnight: every day in the ledger is whole."""
LOOKBACK = f"{T0 - FIRST_DAY}s"
PREVIEWS = {"openai": PREVIEW_OPENAI_MODEL, "anthropic": PREVIEW_ANTHROPIC_MODEL}
ACCOUNTS = {"openai": "openai-test", "anthropic": "anthropic-test"}


@contextmanager
def preview_sim(clock: Clock, **options: object) -> Iterator[Simulator]:
    """Today's traffic mix and both preview models."""
    with Simulator(
        seed=7,
        clock=clock,
        start=T0 - 10 * DAY,
        openai_models=(*DEFAULT_OPENAI_MODELS, PREVIEW_OPENAI_MODEL),
        anthropic_models=(*DEFAULT_ANTHROPIC_MODELS, PREVIEW_ANTHROPIC_MODEL),
        **options,  # type: ignore[arg-type]
    ) as sim:
        yield sim


def config_for(tmp_path: Path, sim: Simulator, extra: str = "") -> Config:
    path = write_config(tmp_path / "config.yaml", sim, tmp_path / "spend.db", lookback=LOOKBACK, extra=extra)
    return load(path, sim)


def poll_all(tmp_path: Path, sim: Simulator, clock: Clock, extra: str = "") -> Daemon:
    """A daemon that has polled every account once (and refreshed); the caller stops it."""
    daemon = Daemon(config_for(tmp_path, sim, extra), clock=clock, provider_factory=no_wait_factory)
    for account in daemon.pollers:
        assert daemon.poll_account(account).ok, account
    return daemon


def complete_days(clock: Clock) -> list[int]:
    return list(range(FIRST_DAY, int(clock()) // DAY * DAY, DAY))


def preview_price_file(path: Path) -> Path:
    """A price file listing the OpenAI preview at 90% of what the simulator bills, every tier and token type."""
    path.write_text(
        """
- provider: openai
  model: gpt-7-preview
  prices:
    - effective_from: 2026-01-01
      source: "a negotiated sheet (test)"
      standard: {input: 2.70, cached_input: 0.27, cache_write: 3.375, output: 16.20}
      batch: {input: 1.35, cached_input: 0.135, cache_write: 1.6875, output: 8.10}
      fast: {input: 5.40, cached_input: 0.54, cache_write: 6.75, output: 32.40}
""",
        encoding="utf-8",
    )
    return path
