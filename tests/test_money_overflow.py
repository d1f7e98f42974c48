"""Money that cannot overflow: usage rows and billed lines within every documented bound, whose sums
pass SQLite's 64-bit integers (about $9.2M in picodollars), are stored, summed exactly, shown on
/metrics and the status page, and survive a restart. A row beyond what one row can hold is refused
with its page, never stored.

A hostile OpenAI organisation on loopback serves two hours with 10**12 output tokens of gpt-4.1
each ($8,000,000 apiece at $8 per 1M) and a day billed as two lines of $9,000,000.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from test_bad_input_payloads import PayloadServer

from monitor.config import load_config
from monitor.daemon import Daemon
from monitor.records import usd_to_pico
from monitor.store import Ledger
from tests.daemon_support import HOUR, T0, Clock, free_port

DAY = 86400
BUCKETS = (T0 // HOUR * HOUR - 3 * HOUR, T0 // HOUR * HOUR - 2 * HOUR)
OUTPUT_TOKENS = 10**12
ROW_USD = Decimal(8_000_000)
LINE_USD = Decimal(9_000_000)


class HostileOrg:
    """OpenAI's usage and costs endpoints on loopback, answering with huge but valid numbers."""

    def __init__(self, output_tokens: int = OUTPUT_TOKENS) -> None:
        self.output_tokens = output_tokens
        self._server = PayloadServer()
        self._server.respond = lambda path, _query: (200, json.dumps(self.answer(path)).encode())
        self.url = f"{self._server.base_url}/v1"

    def answer(self, path: str) -> dict[str, Any]:
        if path.endswith("/organization/costs"):
            day = T0 // DAY * DAY
            lines = [
                {
                    "object": "organization.costs.result",
                    "amount": {"value": int(LINE_USD), "currency": "usd"},
                    "line_item": f"gpt-4.1-2025-04-14, output, line {i}",
                    "project_id": "proj_big",
                }
                for i in (1, 2)
            ]
            bucket = {"object": "bucket", "start_time": day, "end_time": day + DAY, "results": lines}
            return {"object": "page", "data": [bucket], "has_more": False, "next_page": None}
        results = []
        if path.endswith("/usage/completions"):
            results = [
                {
                    "object": "organization.usage.completions.result",
                    "input_tokens": 0,
                    "output_tokens": self.output_tokens,
                    "num_model_requests": 1,
                    "project_id": "proj_big",
                    "model": "gpt-4.1-2025-04-14",
                }
            ]
        buckets = [
            {"object": "bucket", "start_time": b, "end_time": b + HOUR, "results": results} for b in BUCKETS
        ]
        return {"object": "page", "data": buckets, "has_more": False, "next_page": None}

    def close(self) -> None:
        self._server.close()


@pytest.fixture
def org() -> Iterator[HostileOrg]:
    server = HostileOrg()
    yield server
    server.close()


def config_file(tmp_path: Path, org: HostileOrg) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"""
listen: "127.0.0.1:{free_port()}"
storage:
  path: "{tmp_path / "spend.db"}"
providers:
  - name: big-org
    type: openai
    api_key: sk-admin-hostile-test
    base_url: "{org.url}"
    initial_lookback: 1d
    max_attempts: 1
budgets:
  - name: everything
    amount_usd: 1000000
    period: month
""",
        encoding="utf-8",
    )
    return path


def make_daemon(path: Path) -> Daemon:
    return Daemon(load_config(path), clock=Clock(T0))


def metric_sum(text: str, name: str, **labels: str) -> Decimal:
    total = Decimal(0)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += Decimal(repr(sample.value))
    return total


def test_sums_past_int64_are_stored_refreshed_served_and_survive_a_restart(
    tmp_path: Path, org: HostileOrg
) -> None:
    path = config_file(tmp_path, org)
    first = make_daemon(path)
    try:
        results = first.run_cycle()
        assert results["big-org"].ok, [e.error for e in results["big-org"].endpoints]
        assert first.refresh() and first.ready() == (True, "ready")
        first.server.start()
        text = httpx.get(f"{first.server.url}/metrics", headers={"Accept": "text/plain"}, timeout=10).text
        page = httpx.get(f"{first.server.url}/", timeout=10).text
    finally:
        first.stop()

    assert metric_sum(text, "llm_cost_usd_total", account="big-org", token_type="output") == 2 * ROW_USD
    assert metric_sum(text, "llm_spend_usd", account="big-org", period="month") == 2 * ROW_USD
    assert metric_sum(text, "llm_billed_cost_usd", account="big-org", period="day") == 2 * LINE_USD
    assert 'data-usd="16000000"' in page and "$16,000,000.00" in page
    with Ledger.open(tmp_path / "spend.db") as ledger:
        assert ledger.spend(0, 2**40) == usd_to_pico(2 * ROW_USD)
        (total,) = ledger.totals()
        assert total["cost_total"] == usd_to_pico(2 * ROW_USD) > 2**63

    second = make_daemon(path)
    try:
        second.start()  # used to exit 1: every refresh failed with "integer overflow"
        assert second.ready() == (False, "waiting for the first poll of: big-org")
        assert second.run_cycle()["big-org"].ok
        assert second.ready() == (True, "ready")
    finally:
        second.stop()
    with Ledger.open(tmp_path / "spend.db") as ledger:
        assert ledger.spend(0, 2**40) == usd_to_pico(2 * ROW_USD)


def test_a_row_beyond_what_one_row_holds_is_refused_with_its_page(tmp_path: Path) -> None:
    org = HostileOrg(output_tokens=2 * 10**12)  # $16M in one row: past 2**63 picodollars
    try:
        daemon = make_daemon(config_file(tmp_path, org))
        try:
            result = daemon.run_cycle()["big-org"]
        finally:
            daemon.stop()
    finally:
        org.close()
    (completions,) = [e for e in result.endpoints if e.endpoint == "completions"]
    assert (completions.ok, completions.reason) == (False, "store")
    assert "has cost of output tokens $16,000,000.00, beyond what one row can hold" in completions.error
    assert "model gpt-4.1-2025-04-14, project proj_big" in completions.error
    with Ledger.open(tmp_path / "spend.db") as ledger:
        assert ledger.spend(0, 2**40) == 0
        assert ledger.cursor("big-org", "completions") is None
