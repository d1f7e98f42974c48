"""Rates from the bill, end to end against the simulator on loopback: a model no price source knows is
priced from the provider's own bill of the same day (OpenAI line items with `quantity`, Anthropic's cost
report by description), equal to the bill to the cent, and priced again from a table once one has it."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pytest
from bill_support import (
    ACCOUNTS,
    FIRST_DAY,
    PREVIEWS,
    complete_days,
    config_for,
    poll_all,
    preview_price_file,
    preview_sim,
)

from monitor.daemon import Daemon
from monitor.pricing.bill import utc_day
from monitor.records import pico_to_usd
from monitor.simulator import Simulator
from monitor.store import Ledger, Scope
from tests.daemon_support import HOUR, T0, Clock, assert_ledger_is_ground_truth, no_wait_factory

DAY = 24 * HOUR


def cents(pico: int) -> Decimal:
    return pico_to_usd(pico).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def sim(clock: Clock) -> Iterator[Simulator]:
    with preview_sim(clock) as s:
        yield s


@pytest.fixture
def polled(tmp_path: Path, sim: Simulator, clock: Clock) -> Iterator[Daemon]:
    daemon = poll_all(tmp_path, sim, clock)
    yield daemon
    daemon.stop()


def preview_cost(db: Path, provider: str, day: int) -> int:
    with Ledger.open(db) as ledger:
        return ledger.spend(day, day + DAY, Scope(provider=provider, model=PREVIEWS[provider]))


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_model_no_source_knows_costs_what_its_bill_says_each_day_to_the_cent(
    tmp_path: Path, sim: Simulator, clock: Clock, polled: Daemon, provider: str
) -> None:
    # OpenAI: each line item's amount over its quantity; Anthropic: the day's amount per model, token
    # type, tier and context window over the ledger's tokens of them.
    for day in complete_days(clock):
        billed = sim.billed(provider, day, day + DAY).by_model[PREVIEWS[provider]]
        assert billed > 0
        assert cents(preview_cost(tmp_path / "spend.db", provider, day)) == cents(billed), utc_day(day)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_each_row_priced_from_the_bill_names_the_bill_of_its_day(
    tmp_path: Path, polled: Daemon, provider: str
) -> None:
    with Ledger.open(tmp_path / "spend.db") as ledger:
        found = ledger.db.conn.execute(
            "SELECT DISTINCT bucket_start / 86400 * 86400, price_source, price_id FROM usage WHERE model = ?",
            (PREVIEWS[provider],),
        ).fetchall()
    assert found
    for day, source, price_id in found:
        assert source == f"billed {utc_day(day)}"
        assert price_id.startswith(f"bill/{ACCOUNTS[provider]}/{PREVIEWS[provider]}/")
        assert price_id.endswith(utc_day(day))


def test_todays_traffic_with_models_no_source_knows_leaves_no_token_unpriced_and_equals_ground_truth(
    tmp_path: Path, sim: Simulator, clock: Clock, polled: Daemon
) -> None:
    with Ledger.open(tmp_path / "spend.db") as ledger:
        assert ledger.unpriced() == []
    end = (int(clock()) // HOUR + 1) * HOUR
    assert_ledger_is_ground_truth(tmp_path / "spend.db", sim, FIRST_DAY, end)


def test_today_is_priced_from_todays_partial_bill_and_again_as_the_day_goes_on(
    tmp_path: Path, sim: Simulator, clock: Clock, polled: Daemon
) -> None:
    today = int(clock()) // DAY * DAY
    before = preview_cost(tmp_path / "spend.db", "anthropic", today)
    clock.advance(3 * HOUR)
    polled.run_cycle()
    after = preview_cost(tmp_path / "spend.db", "anthropic", today)
    assert before > 0 and after > before
    assert after == sim.billed("anthropic", today, today + DAY).by_model[PREVIEWS["anthropic"]]


def test_without_the_bill_source_such_a_model_stays_unpriced(
    tmp_path: Path, sim: Simulator, clock: Clock
) -> None:
    daemon = poll_all(tmp_path, sim, clock, extra="pricing:\n  sources: [bundled, files]\n")
    daemon.stop()
    with Ledger.open(tmp_path / "spend.db") as ledger:
        unpriced = {u["model"] for u in ledger.unpriced()}
    assert unpriced == set(PREVIEWS.values())


def test_a_price_file_that_adds_the_model_prices_the_rows_the_bill_priced_again(
    tmp_path: Path, sim: Simulator, clock: Clock, polled: Daemon
) -> None:
    polled.stop()
    db = tmp_path / "spend.db"
    with Ledger.open(db) as ledger:
        tokens = ledger.spend_by(["model"], FIRST_DAY, T0 + DAY, Scope(model=PREVIEWS["openai"]))[0]["tokens"]
    extra = f"pricing:\n  files: [{preview_price_file(tmp_path / 'preview.yaml')}]\n"
    restarted = Daemon(config_for(tmp_path, sim, extra), clock=clock, provider_factory=no_wait_factory)
    try:
        assert restarted.refresh()  # the first refresh prices what the bill priced with the chain again
    finally:
        restarted.stop()
    with Ledger.open(db) as ledger:
        sources = {
            source
            for (source,) in ledger.db.conn.execute(
                "SELECT DISTINCT price_source FROM usage WHERE model = ?", (PREVIEWS["openai"],)
            )
        }
        cost = ledger.spend(FIRST_DAY, T0 + DAY, Scope(model=PREVIEWS["openai"]))
    assert sources == {"files"}
    # 10% below the simulator's list prices, every token type and tier
    assert cost * 10 == sim.billed("openai", FIRST_DAY, T0 + DAY).by_model[PREVIEWS["openai"]] * 9
    assert sum(tokens.values()) > 0
