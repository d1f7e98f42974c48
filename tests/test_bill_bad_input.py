"""Bad input on the bills, served by the simulator on loopback: a line that matches no usage, a line in
another currency and a charge for zero tokens are counted and reported (metric, log, status page), never
divided by zero, never silently dropped, and none of them fails the poll or moves a rate."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from bill_support import FIRST_DAY, PREVIEWS, poll_all, preview_sim
from prometheus_client.parser import text_string_to_metric_families

from monitor.daemon import Daemon
from monitor.simulator import Simulator
from monitor.store import Ledger, Scope
from monitor.store.billed import BilledStore
from tests.daemon_support import HOUR, T0, Clock

DAY = 24 * HOUR
ODD_DAY = FIRST_DAY + DAY
USD_LINES = 2_250_000_000_000
"""The unmatched $1.50 and the zero-token charge of $0.75, in picodollars."""


def openai_line(item: str, value: str, currency: str, quantity: int) -> dict[str, object]:
    return {
        "object": "organization.costs.result",
        "amount": {"value": float(value), "currency": currency},
        "line_item": item,
        "project_id": None,
        "api_key_id": None,
        "quantity": quantity,
        "quantity_unit": "tokens",
    }


GHOST = {  # a model no usage of which is in the ledger, and no count: no rate can come of it
    "currency": "USD",
    "amount": "250",  # cents
    "workspace_id": None,
    "description": "Claude Ghost 9 Usage - Input Tokens",
    "cost_type": "tokens",
    "context_window": "0-200k",
    "model": "claude-ghost-9",
    "service_tier": "standard",
    "token_type": "uncached_input_tokens",
}


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def sim(clock: Clock) -> Iterator[Simulator]:
    with preview_sim(clock) as s:
        s.add_bill_line("openai", ODD_DAY, openai_line("gpt-nonexistent-9, input", "1.5", "usd", 500_000))
        s.add_bill_line(
            "openai", ODD_DAY, openai_line(f"{PREVIEWS['openai']}, input", "2.25", "eur", 750_000)
        )
        s.add_bill_line(
            "openai", ODD_DAY, openai_line(f"{PREVIEWS['openai']}, output (flex)", "0.75", "usd", 0)
        )
        s.add_bill_line("anthropic", ODD_DAY, GHOST)
        yield s


@pytest.fixture
def polled(
    tmp_path: Path, sim: Simulator, clock: Clock, caplog: pytest.LogCaptureFixture
) -> Iterator[Daemon]:
    caplog.set_level(logging.WARNING, logger="monitor.bill_prices")
    extra = "budgets:\n  - name: openai\n    amount_usd: 100000\n    period: month\n    scope: {provider: openai}\n"
    daemon = poll_all(tmp_path, sim, clock, extra=extra)  # every poll ok, the costs endpoint included
    yield daemon
    daemon.stop()


def test_each_odd_line_is_counted_with_its_reason(polled: Daemon) -> None:
    text = polled.exposition.render()[0].decode()
    counted = {
        (s.labels["account"], s.labels["reason"]): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "spend_monitor_bill_lines_unused"
    }
    assert counted == {
        ("openai-test", "unmatched"): 1,
        ("openai-test", "currency"): 1,
        ("openai-test", "no_tokens"): 1,
        ("anthropic-test", "unmatched"): 1,
    }


def test_each_odd_line_is_named_once_in_the_log_and_on_the_status_page(
    polled: Daemon, caplog: pytest.LogCaptureFixture
) -> None:
    logged = [
        r.getMessage()
        for r in caplog.get_records("setup")
        if "spend_monitor_bill_lines_unused" in r.getMessage()
    ]
    page = polled.status_page().decode()
    for words in (
        "'gpt-nonexistent-9, input' ($1.50): no usage of that model",
        "'gpt-7-preview, input' (2.25 EUR): not in USD",
        "'gpt-7-preview, output (flex)' ($0.75): a charge for zero tokens",
        "'Claude Ghost 9 Usage - Input Tokens' ($2.50): no usage of that model",
    ):
        assert len([line for line in logged if words in line]) == 1, words
        assert words.replace("'", "&#x27;") in page, words


def test_the_other_currency_is_kept_apart_and_the_usd_lines_are_billed(
    tmp_path: Path, sim: Simulator, polled: Daemon
) -> None:
    with Ledger.open(tmp_path / "spend.db") as ledger:
        store = BilledStore(ledger)
        [billed] = store.billed_by(("account",), ODD_DAY, ODD_DAY + DAY, accounts=["openai-test"])
        [euros] = store.other_currency_lines(ODD_DAY, ODD_DAY + DAY)
    assert billed["amount_pico"] == sim.billed("openai", ODD_DAY, ODD_DAY + DAY).total_pico + USD_LINES
    assert (euros.currency, euros.amount_pico) == ("EUR", 2_250_000_000_000)


def test_no_odd_line_moves_a_rate(tmp_path: Path, sim: Simulator, polled: Daemon) -> None:
    with Ledger.open(tmp_path / "spend.db") as ledger:
        cost = ledger.spend(ODD_DAY, ODD_DAY + DAY, Scope(model=PREVIEWS["openai"]))
    assert cost == sim.billed("openai", ODD_DAY, ODD_DAY + DAY).by_model[PREVIEWS["openai"]]


def test_the_budget_counts_the_usd_charges_no_usage_explains(polled: Daemon) -> None:
    [status] = polled.cycle.statuses
    assert status.billed_excess_pico == USD_LINES  # not the euros
