"""December 2026 end to end: the daemon polls the simulator's traffic of today over loopback HTTP and prices
every token of it, to the cent of the provider's own ground truth, with no drift against the bills. And
what the usage rows cannot tell (OpenAI prompts above 272K tokens) shows up as drift, not as a guess."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from test_drift_support import ANTHROPIC_KEY, OPENAI, OPENAI_KEY, poll_into

from monitor.config import ReconciliationConfig
from monitor.daemon import Daemon
from monitor.pricing import PriceTable
from monitor.reconciliation import evaluate_drift, last_complete_day_drift
from monitor.simulator import Simulator
from monitor.store import Ledger
from monitor.store.alerts import AlertStore
from monitor.store.billed import BilledStore
from tests.daemon_support import (
    HOUR,
    T0,
    Clock,
    assert_ledger_is_ground_truth,
    load,
    no_wait_factory,
    write_config,
)

DAY = 24 * HOUR
LOOKBACK = 3 * DAY


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def sim(clock: Clock) -> Iterator[Simulator]:
    with Simulator(seed=7, clock=clock, start=T0 - 10 * DAY) as s:  # the default traffic: today's
        yield s


@pytest.fixture
def polled(tmp_path: Path, sim: Simulator, clock: Clock) -> Iterator[Daemon]:
    config = load(write_config(tmp_path / "config.yaml", sim, tmp_path / "spend.db"), sim)
    daemon = Daemon(config, clock=clock, provider_factory=no_wait_factory)
    assert {account: daemon.poll_account(account).ok for account in daemon.pollers} == {
        "openai-test": True,
        "anthropic-test": True,
    }
    yield daemon
    daemon.stop()


def test_todays_traffic_is_priced_to_the_cent_of_ground_truth(
    tmp_path: Path, sim: Simulator, clock: Clock, polled: Daemon
) -> None:
    start = (int(clock()) - LOOKBACK) // HOUR * HOUR
    assert_ledger_is_ground_truth(tmp_path / "spend.db", sim, start, (int(clock()) // HOUR + 1) * HOUR)


def test_todays_traffic_leaves_no_token_unpriced(tmp_path: Path, polled: Daemon) -> None:
    with Ledger.open(tmp_path / "spend.db") as ledger:
        assert ledger.unpriced() == []
        sources = ledger.db.conn.execute("SELECT DISTINCT price_source FROM usage").fetchall()
    assert sources == [("bundled",)]


def test_todays_models_tiers_and_token_types_reach_the_ledger(tmp_path: Path, polled: Daemon) -> None:
    with Ledger.open(tmp_path / "spend.db") as ledger:
        kinds = ledger.db.conn.execute(
            "SELECT model, service_tier, batch, inference_geo, SUM(tok_cache_write), SUM(tok_cache_write_1h), "
            "SUM(cost_total) FROM usage GROUP BY 1, 2, 3, 4"
        ).fetchall()
    found = {
        (m, tier, batch, geo): (write, write_1h, cost) for m, tier, batch, geo, write, write_1h, cost in kinds
    }
    for tier, batch in (("default", 0), ("fast", 0), ("default", 1)):
        write, _, cost = found[("gpt-6.1-sol", tier, batch, "")]
        assert write > 0 and cost > 0, tier  # cache writes priced on every tier
    assert found[("claude-opus-5-5", "fast", 0, "global")][2] > 0  # fast mode
    assert found[("claude-sonnet-5-5", "standard", 0, "us")][2] > 0  # US inference
    assert found[("claude-sonnet-5-5", "standard", 0, "global")][1] > 0  # 1-hour cache writes
    assert ("gpt-4.1-2025-04-14", "default", 0, "") in found


def test_no_account_drifts_from_its_bill(polled: Daemon, tmp_path: Path, clock: Clock) -> None:
    with Ledger.open(tmp_path / "spend.db") as ledger:
        rows = last_complete_day_drift(ledger, BilledStore(ledger), datetime.fromtimestamp(clock(), UTC))
    assert {r.account for r in rows} == {"openai-test", "anthropic-test"}
    assert all(r.ratio is not None and abs(r.ratio) < Decimal("0.001") for r in rows), rows


def test_openai_prompts_above_272k_tokens_show_up_as_drift_not_as_a_guess(tmp_path: Path) -> None:
    # OpenAI bills them at 2x input and 1.5x output; its usage rows carry no context window, so the
    # ledger prices them at the base price and the daily reconciliation with the bill names the gap.
    now = T0
    with (
        Simulator(
            seed=7,
            clock=lambda: now,
            openai_key=OPENAI_KEY,
            anthropic_key=ANTHROPIC_KEY,
            openai_long_prompts=True,
        ) as sim,
        Ledger.open(tmp_path / "spend.db") as ledger,
    ):
        poll_into(sim, ledger, PriceTable.bundled(), start=now // DAY * DAY - 3 * DAY, now=now)
        at = datetime.fromtimestamp(now, UTC)
        [openai_day] = [
            r for r in last_complete_day_drift(ledger, BilledStore(ledger), at) if r.account == OPENAI
        ]
        alerts = AlertStore(ledger)
        threshold = ReconciliationConfig().drift_threshold_percent
        evaluate_drift(ledger, BilledStore(ledger), alerts, ["webhook"], threshold, at)
        fired = [e for e in alerts.entries() if e.key.budget == OPENAI and e.event == "firing"]
    assert openai_day.ratio is not None and openai_day.ratio * 100 < -threshold  # computed below billed
    assert fired and any(m["model"] == "gpt-6.1-sol" for e in fired for m in e.payload["models"])


def test_a_model_only_the_community_source_knows_is_priced_from_it_end_to_end(
    tmp_path: Path, clock: Clock
) -> None:
    # The daemon as it runs: start() loads the genai-prices data (a child process) before the first poll.
    models = ("claude-sonnet-5-5", "claude-opus-5-5", "claude-3-sonnet")
    with Simulator(seed=7, clock=clock, start=T0 - 10 * DAY, anthropic_models=models) as sim:
        extra = "pricing:\n  sources: [bundled, files, genai-prices]\n"
        config = load(write_config(tmp_path / "config.yaml", sim, tmp_path / "spend.db", extra=extra), sim)
        daemon = Daemon(config, clock=clock, provider_factory=no_wait_factory)
        daemon.start()
        try:
            deadline = time.monotonic() + 120
            while not daemon.ready()[0] and time.monotonic() < deadline:
                time.sleep(0.2)
            assert daemon.ready() == (True, "ready")
        finally:
            daemon.stop()
        start = (int(clock()) - LOOKBACK) // HOUR * HOUR
        assert_ledger_is_ground_truth(tmp_path / "spend.db", sim, start, (int(clock()) // HOUR + 1) * HOUR)
    with Ledger.open(tmp_path / "spend.db") as ledger:
        assert ledger.unpriced() == []
        sources = dict(
            ledger.db.conn.execute(
                "SELECT DISTINCT model, price_source FROM usage WHERE provider = 'anthropic'"
            )
        )
    assert sources == {
        "claude-sonnet-5-5": "bundled",
        "claude-opus-5-5": "bundled",
        "claude-3-sonnet": "genai-prices",
    }
