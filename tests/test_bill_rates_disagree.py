"""A table price the bill disagrees with is named: in one log line (model, token type, both rates), in
`llm_price_observed_usd_per_million_tokens` beside `llm_price_usd_per_million_tokens`, and in the day's
drift alert, which says which price is off instead of only that the day drifted. Against the simulator
on loopback, whose bill charges 10% more for one token type than the bundled table says."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from bill_support import complete_days, poll_all, preview_sim
from prometheus_client.parser import text_string_to_metric_families

from monitor.daemon import Daemon
from monitor.simulator import Simulator
from monitor.store import Ledger
from monitor.store.alerts import AlertStore
from tests.daemon_support import HOUR, T0, Clock

DAY = 24 * HOUR
MODEL = "gpt-6.1-sol"


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def sim(clock: Clock) -> Iterator[Simulator]:
    with preview_sim(clock) as s:
        s.set_price(MODEL, "input", Decimal(3))  # the table (and OpenAI's page) say 2.00
        yield s


@pytest.fixture
def polled(
    tmp_path: Path, sim: Simulator, clock: Clock, caplog: pytest.LogCaptureFixture
) -> Iterator[Daemon]:
    caplog.set_level(logging.WARNING, logger="monitor.bill_prices")
    daemon = poll_all(tmp_path, sim, clock)
    yield daemon
    daemon.stop()


def samples(daemon: Daemon, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    text = daemon.exposition.render()[0].decode()
    return {
        tuple(sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    }


def test_the_disagreeing_rate_is_logged_once_naming_model_token_type_and_both_rates(
    polled: Daemon, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    logged = [r.getMessage() for r in caplog.get_records("setup")]  # the fixture polled
    lines = [line for line in logged if MODEL in line and "(standard)" in line]
    days = {line.split(" on ")[1].split()[0] for line in lines}
    assert len(lines) == len({*lines}), "each disagreement is logged once"
    assert len(days) == len(lines) == len(complete_days(clock)) + 1  # every day of the ledger, today too
    expected = "input (standard): billed $3 per 1M, the table $2 (+50.00%)"
    assert all(line.startswith("openai-test: on ") and expected in line for line in lines)
    assert not [line for line in logged if "gpt-6-luna" in line]  # agreeing prices are quiet


def test_the_observed_rate_is_exported_beside_the_list_price(polled: Daemon) -> None:
    observed = samples(polled, "llm_price_observed_usd_per_million_tokens")
    listed = samples(polled, "llm_price_usd_per_million_tokens")
    key = (("model", MODEL), ("provider", "openai"), ("service_tier", "standard"), ("token_type", "input"))
    assert observed[(("account", "openai-test"), *key)] == 3.0
    assert listed[key] == 2.0
    agreeing = (("account", "openai-test"), *key[:3], ("token_type", "output"))
    assert observed[agreeing] == 10.0  # every observed rate is exported, agreeing or not


def test_the_days_drift_alert_names_the_price_that_is_off(
    tmp_path: Path, sim: Simulator, clock: Clock
) -> None:
    # The daemon queues the alert for a channel it cannot reach: the outbox keeps what it would say.
    channel = "alerts:\n  - type: webhook\n    url: http://127.0.0.1:9/hook\n    secret: not-a-real-secret-0123456789\n"
    daemon = poll_all(tmp_path, sim, clock, extra=channel)
    daemon.stop()
    with Ledger.open(tmp_path / "spend.db") as ledger:
        fired = [e for e in AlertStore(ledger).entries() if e.key.kind == "drift" and e.event == "firing"]
    assert {e.key.budget for e in fired} == {"openai-test"}
    for entry in fired:
        [price] = [p for p in entry.payload["prices"] if p["token_type"] == "input" and p["model"] == MODEL]
        assert (price["billed_usd_per_million"], price["table_usd_per_million"]) == ("3", "2")
        assert price["drift_percent"] == "+50.00"
        assert (
            f"prices off: {MODEL} input (standard): billed $3 per 1M, the table $2"
            in entry.payload["summary"]
        )
