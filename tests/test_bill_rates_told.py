"""Telling people about the rates from the bill, against the simulator on loopback: the status page lists
the models priced from a bill and the prices a bill disagrees with, `prices --config` shows the bill's
rates beside the table's with their day, `reprice` moves rows priced from a bill to a table price that
arrived, while every counter of the metrics stays monotonic, and the FOCUS export lists them at the bill's
rate."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from bill_support import ACCOUNTS, PREVIEWS, config_for, poll_all, preview_price_file, preview_sim
from prometheus_client.parser import text_string_to_metric_families
from test_status_page import Page

from monitor.cli import main
from monitor.daemon import Daemon
from monitor.records import pico_to_usd
from monitor.simulator import Simulator
from monitor.store import Ledger, Scope
from tests.daemon_support import HOUR, T0, Clock, key_env, no_wait_factory

DAY = 24 * HOUR
NO_BILL = "pricing:\n  sources: [bundled, files]\n"
Samples = dict[tuple[tuple[str, str], ...], float]


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def sim(clock: Clock) -> Iterator[Simulator]:
    with preview_sim(clock) as s:
        s.set_price("gpt-6.1-sol", "input", Decimal(3))  # the table says 2
        yield s


@pytest.fixture
def env(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in key_env(sim).items():
        monkeypatch.setenv(name, value)


def samples(daemon: Daemon, name: str) -> Samples:
    text = daemon.exposition.render()[0].decode()
    return {
        tuple(sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    }


def restarted(tmp_path: Path, sim: Simulator, clock: Clock, extra: str = "") -> Daemon:
    """A new daemon on the same ledger that refreshes once (no poll), as after a restart."""
    daemon = Daemon(config_for(tmp_path, sim, extra), clock=clock, provider_factory=no_wait_factory)
    try:
        assert daemon.refresh()
    finally:
        daemon.stop()
    return daemon


def test_the_status_page_lists_what_the_bill_priced_and_the_prices_it_disagrees_with(
    tmp_path: Path, sim: Simulator, clock: Clock
) -> None:
    daemon = poll_all(tmp_path, sim, clock)
    daemon.stop()
    page = Page(daemon.status_page().decode())
    text = " ".join(page.text)
    priced = dict(page.usd)
    with Ledger.open(tmp_path / "spend.db") as ledger:
        month = ledger.bill_priced(T0 - 24 * DAY - T0 % DAY, T0 + DAY)
    assert {p.model for p in month} == set(PREVIEWS.values())
    assert [v for k, v in page.usd if k == "bill-priced"] == [
        format(pico_to_usd(p.cost_pico).normalize(), "f") for p in month
    ]
    assert "gpt-6.1-sol" in text and "+50.00%" in text  # the rates-off row: $3 billed, $2 in the table
    assert priced  # money cells carry their exact amounts


def prices_of(config: str, model: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, str]]:
    """`spend-monitor prices --config CONFIG --date 2026-11-24 --model MODEL --format json`."""
    capsys.readouterr()
    assert (
        main(["prices", "--config", config, "--date", "2026-11-24", "--model", model, "--format", "json"])
        == 0
    )
    rows: list[dict[str, str]] = json.loads(capsys.readouterr().out)
    return rows


def test_prices_shows_the_bills_rates_beside_the_tables_with_their_day(
    tmp_path: Path, sim: Simulator, clock: Clock, env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    poll_all(tmp_path, sim, clock).stop()
    config = str(tmp_path / "config.yaml")
    rows = prices_of(config, "gpt-6.1-sol", capsys)
    standard = [
        (r["price_source"], r["input"], r["output"])
        for r in rows
        if r["tier"] == "standard" and not r["context"]
    ]
    assert standard == [
        ("bundled", "2", "10"),
        ("billed 2026-11-24", "3", "10"),
    ]  # the table's, then the bill's
    preview = {r["tier"]: r for r in prices_of(config, "gpt-7-preview", capsys)}
    assert set(preview) == {"standard", "batch", "fast"}
    assert (preview["standard"]["input"], preview["standard"]["output"]) == ("3", "18")
    assert {r["effective_from"] for r in preview.values()} == {"2026-11-24"}
    assert preview["standard"]["source"] == "openai-test's bill"


def at_least(later: Samples, earlier: Samples) -> list[tuple[tuple[tuple[str, str], ...], float, float]]:
    """The series of `earlier` that went down (or vanished) in `later`."""
    return [
        (key, value, later.get(key, 0.0)) for key, value in earlier.items() if later.get(key, 0.0) < value
    ]


def test_pricing_from_the_bill_then_a_table_keeps_every_counter_monotonic(
    tmp_path: Path, sim: Simulator, clock: Clock, env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    first = poll_all(tmp_path, sim, clock, extra=NO_BILL)  # the previews stay unpriced
    first.stop()
    unpriced = samples(first, "llm_unpriced_tokens_total")
    costs = samples(first, "llm_cost_usd_total")
    preview = (("account", "openai-test"), ("model", PREVIEWS["openai"]), ("provider", "openai"))
    assert samples(first, "llm_unpriced_tokens_now")[preview] == unpriced[preview] > 0

    billed = restarted(tmp_path, sim, clock)  # with the bill: the previews are priced from it
    assert at_least(samples(billed, "llm_unpriced_tokens_total"), unpriced) == []
    assert samples(billed, "llm_unpriced_tokens_now") == {}
    assert at_least(samples(billed, "llm_cost_usd_total"), costs) == []

    extra = f"pricing:\n  files: [{preview_price_file(tmp_path / 'preview.yaml')}]\n"
    config_for(tmp_path, sim, extra)  # the config the reprice command reads
    assert main(["reprice", "--config", str(tmp_path / "config.yaml")]) == 0
    assert "changed" in capsys.readouterr().err
    tabled = restarted(tmp_path, sim, clock, extra)
    assert at_least(samples(tabled, "llm_cost_usd_total"), samples(billed, "llm_cost_usd_total")) == []
    assert at_least(samples(tabled, "llm_unpriced_tokens_total"), unpriced) == []
    with Ledger.open(tmp_path / "spend.db") as ledger:
        net = ledger.spend(0, T0 + DAY, Scope(model=PREVIEWS["openai"]))
        sources = {
            s
            for (s,) in ledger.db.conn.execute(
                "SELECT DISTINCT price_source FROM usage WHERE model = ?", (PREVIEWS["openai"],)
            )
        }
    gross = sum(
        v for k, v in samples(tabled, "llm_cost_usd_total").items() if ("model", PREVIEWS["openai"]) in k
    )
    taken = sum(
        v
        for k, v in samples(tabled, "llm_cost_repriced_usd_total").items()
        if ("model", PREVIEWS["openai"]) in k
    )
    assert sources == {"files"}
    assert taken > 0 and gross - taken == pytest.approx(float(pico_to_usd(net)), rel=1e-9)
    assert gross * 0.9 == pytest.approx(gross - taken, rel=1e-9)  # the file is 10% below the bill


def test_the_focus_export_lists_what_the_bill_priced_at_its_days_rate(
    tmp_path: Path, sim: Simulator, clock: Clock, env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    poll_all(tmp_path, sim, clock).stop()
    capsys.readouterr()
    config = str(tmp_path / "config.yaml")
    assert main(["export", "--config", config, "--format", "focus", "--month", "2026-11"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    for provider, model in PREVIEWS.items():
        priced = [r for r in rows if r["x_Model"] == model and r["x_TokenType"]]
        assert priced, model
        for r in priced:  # listed at its day's bill, like the ledger's cost, never at $0 or unpriced
            assert (r["x_Unpriced"], r["ListCost"]) == ("false", r["EffectiveCost"]), r
            assert Decimal(r["ListCost"]) > 0 and r["ListUnitPrice"], r
            assert r["SkuPriceId"].startswith(f"bill/{ACCOUNTS[provider]}/{model}/"), r
