"""`spend-monitor backfill` with the channels: a channel's own refusal (a relay's web page, an AADSTS
error) is one line and exit 1, never a traceback or a secret; OpenRouter says how far back it can go."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.simulator import Simulator
from monitor.simulator.core import AZURE_CLIENT_SECRET, NEWAPI_ACCESS_TOKEN
from tests.channel_support import (
    azure_entry,
    channel_env,
    openrouter_entry,
    relay_entry,
    write_channel_config,
)


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(seed=17) as s:  # the real clock, as the command has
        yield s


def backfill(tmp_path: Path, sim: Simulator, entry: str, days: int, monkeypatch: pytest.MonkeyPatch) -> int:
    for name, value in channel_env(sim).items():
        monkeypatch.setenv(name, value)
    config = write_channel_config(tmp_path / "c.yaml", sim, tmp_path / "spend.db", entry)
    since = (datetime.now(UTC) - timedelta(days=days)).date().isoformat()
    return main(["backfill", "--config", str(config), "--since", since])


def test_openrouter_says_when_asked_for_more_than_it_keeps(
    tmp_path: Path, sim: Simulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert backfill(tmp_path, sim, openrouter_entry(sim), 45, monkeypatch) == 0
    err = capsys.readouterr().err
    oldest = (datetime.now(UTC) - timedelta(days=30)).date()
    assert f"router: openrouter keeps the last 30 days only; usage before {oldest} cannot be fetched" in err


def test_a_relay_answering_a_web_page_is_one_line_and_exit_1(
    tmp_path: Path, sim: Simulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sim.inject("html", path="/newapi/api/log/self", count=1000)
    assert backfill(tmp_path, sim, relay_entry(sim, extra="    max_attempts: 2\n"), 3, monkeypatch) == 1
    err = capsys.readouterr().err
    (line,) = [line for line in err.splitlines() if line.startswith("relay/log:")]
    assert "not valid JSON" in line and "leave out /v1" in line
    assert "Traceback" not in err and NEWAPI_ACCESS_TOKEN not in err


def test_an_aadsts_error_is_one_line_and_exit_1(
    tmp_path: Path, sim: Simulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sim.inject("aadsts", path="/azure/login/*", count=1000)
    assert backfill(tmp_path, sim, azure_entry(sim), 2, monkeypatch) == 1
    err = capsys.readouterr().err
    (line,) = [line for line in err.splitlines() if line.startswith("azure/metrics:")]
    assert "AADSTS7000215: Invalid client secret provided" in line and "client_secret" in line
    assert "Traceback" not in err and AZURE_CLIENT_SECRET not in err
