"""The three channels polled by one daemon, and everything downstream treating them like the first two
providers: metrics labelled by config type and name, budget scopes, reconciliation (billed vs computed
per channel), the report and the status page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.daemon import Daemon
from monitor.reconciliation import last_complete_day_drift
from monitor.records import pico_to_usd
from monitor.simulator import Simulator
from monitor.store import Ledger
from monitor.store.billed import BilledStore
from tests.channel_support import (
    DAY,
    azure_entry,
    channel_daemon,
    channel_env,
    ledger_usage,
    openrouter_entry,
    relay_entry,
    restart,
)
from tests.daemon_support import T0, Clock

BUDGETS = """
budgets:
  - name: relay-only
    amount_usd: 1000
    period: month
    scope: {provider: newapi}
  - name: channels
    amount_usd: 1000
    period: month
    scope: {provider: ["newapi", "openrouter", "azure_*"]}
"""
ACCOUNTS = {"relay": "newapi", "router": "openrouter", "azure": "azure_openai"}


@pytest.fixture(scope="module")
def polled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Daemon, Simulator, Clock]]:
    tmp = tmp_path_factory.mktemp("channels")
    clock = Clock(T0)
    with Simulator(seed=21, clock=clock, start=T0 - 40 * DAY) as sim:
        entries = relay_entry(sim, lookback="month") + openrouter_entry(sim, lookback="month")
        entries += azure_entry(sim, lookback="month")
        daemon = channel_daemon(tmp, sim, clock, entries, BUDGETS)
        try:
            for account in ACCOUNTS:
                assert daemon.poll_account(account).ok
            yield tmp, daemon, sim, clock
        finally:
            restart(daemon)


def test_metrics_label_each_channel_by_its_type_and_name(
    polled: tuple[Path, Daemon, Simulator, Clock],
) -> None:
    _, daemon, _, _ = polled
    lines = daemon.exposition.render()[0].decode().splitlines()
    for account, provider in ACCOUNTS.items():
        labels = f'account="{account}"'
        assert f'spend_monitor_account_healthy{{{labels},provider="{provider}"}} 1.0' in lines
        for family in ("llm_tokens_total", "llm_cost_usd_total", "llm_billed_cost_usd", "llm_spend_usd"):
            assert any(
                line.startswith(family + "{") and labels in line and f'provider="{provider}"' in line
                for line in lines
            ), (family, account)
    assert any('model="openai/gpt-4.1"' in line and 'provider="openrouter"' in line for line in lines)


def test_budget_scopes_count_the_channels(polled: tuple[Path, Daemon, Simulator, Clock]) -> None:
    tmp, daemon, _, clock = polled
    start = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp())
    relay = ledger_usage(tmp / "spend.db", "newapi", start, int(clock()) + 1)["cost"]
    everything = sum(
        ledger_usage(tmp / "spend.db", p, start, int(clock()) + 1)["cost"] for p in ACCOUNTS.values()
    )
    text = daemon.exposition.render()[0].decode()
    spend = {
        name: float(line.rsplit(" ", 1)[1])
        for name in ("relay-only", "channels")
        for line in text.splitlines()
        if line.startswith(f'llm_budget_spend_usd{{budget="{name}"}}')
    }
    # Where a channel's bill of a day is above its computed cost (OpenRouter's spend so far today, which
    # has no usage rows yet), the budget counts the bill (docs/budgets.md).
    above = billed_above_computed(tmp / "spend.db", start, int(clock()) + 1)
    assert above["relay"] == 0
    assert spend == {
        "relay-only": float(pico_to_usd(relay)),
        "channels": float(pico_to_usd(everything + sum(above.values()))),
    }
    assert relay > 0 and everything > relay


def billed_above_computed(db: Path, start: int, end: int) -> dict[str, int]:
    """Per account: the sum over its billed UTC days of what the bill is above the computed cost."""
    above = dict.fromkeys(ACCOUNTS, 0)
    with Ledger.open(db) as ledger:
        billed = BilledStore(ledger)
        bills = billed.billed_by(("account", "day_start"), start, end)
        for row in bills:
            day = row["day_start"]
            computed = sum(
                r["cost_total"]
                for r in ledger.spend_by(("account",), day, day + DAY)
                if r["account"] == row["account"]
            )
            above[row["account"]] += max(0, row["amount_pico"] - computed)
    return above


def test_drift_compares_each_channels_charge_with_its_computed_cost(
    polled: tuple[Path, Daemon, Simulator, Clock],
) -> None:
    tmp, _, _, clock = polled
    with Ledger.open(tmp / "spend.db") as ledger:
        drift = {
            d.account: d.ratio
            for d in last_complete_day_drift(
                ledger, BilledStore(ledger), datetime.fromtimestamp(clock(), UTC)
            )
        }
    assert (
        drift["relay"] is not None and abs(drift["relay"]) < 0.001
    )  # list x group ratio = the relay's quota, but for rounding
    assert drift["router"] is not None and drift["router"] > 0  # cached prompt tokens priced as input
    assert drift["azure"] is not None and drift["azure"] > 0  # no cache split in Azure's metrics


def test_the_report_lists_each_channel_with_computed_and_billed(
    polled: tuple[Path, Daemon, Simulator, Clock],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tmp, _, sim, _ = polled
    for name, value in channel_env(sim).items():
        monkeypatch.setenv(name, value)
    assert (
        main(["report", "--config", str(tmp / "config.yaml"), "--month", "2026-11", "--format", "json"]) == 0
    )
    report = json.loads(capsys.readouterr().out)
    rows = {(g["provider"], g["account"]): g for g in report["rows"]}
    assert set(rows) == {(p, a) for a, p in ACCOUNTS.items()}
    for row in rows.values():
        assert float(row["spend_usd"]) > 0 and float(row["billed_usd"]) > 0


def test_the_status_page_shows_each_channel_and_the_balances(
    polled: tuple[Path, Daemon, Simulator, Clock],
) -> None:
    _, daemon, _, _ = polled
    page = daemon.status_page().decode()
    for account, provider in ACCOUNTS.items():
        assert f"<td>{provider}</td><td>{account}</td>" in page
    assert "Prepaid balances" in page and "<td>relay</td><td>(account)</td>" in page
