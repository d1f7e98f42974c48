"""The community source in the daemon: genai-prices data exported in a child process, refreshed from a URL,
the last good data kept when a refresh fails or returns garbage, and stored rows priced when it arrives.

The "network" is a real HTTP server on loopback serving the pinned genai-prices extract (tests/data).
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from monitor.cli import main
from monitor.config import Config, load_config
from monitor.price_updates import CACHE_NAME, PriceUpdates, community_prices, configured_table, export
from monitor.pricing import Pricer, PriceTable
from monitor.records import UsagePage, UsageRow, tokens_of
from monitor.store import Ledger

SNAPSHOT = Path(__file__).resolve().parent / "data" / "genai-prices-0.2.3-extract.json"
DEC_1 = 1_795_996_800  # 2026-12-01T00:00:00Z
HOUR = 3600


@dataclass
class Served:
    """What the loopback "genai-prices" URL answers."""

    status: int = 200
    body: bytes = b""
    requests: int = 0


@pytest.fixture
def served() -> Iterator[tuple[Served, str]]:
    state = Served()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests += 1
            self.send_response(state.status)
            self.send_header("Content-Length", str(len(state.body)))
            self.end_headers()
            self.wfile.write(state.body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/data.json"
    finally:
        server.shutdown()
        server.server_close()


def with_new_model(name: str) -> bytes:
    """The pinned extract plus a model no other source knows, as a fresh genai-prices release would be."""
    raw = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    (anthropic,) = [provider for provider in raw if provider["id"] == "anthropic"]
    anthropic["models"].append(
        {"id": name, "match": {"equals": name}, "prices": {"input_mtok": "3", "output_mtok": "15"}}
    )
    return json.dumps(raw).encode()


def config(tmp_path: Path, url: str, sources: str = "[bundled, files, genai-prices]") -> Config:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"""
storage:
  path: "{tmp_path / "spend.db"}"
providers:
  - name: anthropic-prod
    type: anthropic
    api_key: sk-ant-admin-test
pricing:
  sources: {sources}
  auto_update: true
  update_interval: 1h
  update_url: "{url}"
""",
        encoding="utf-8",
    )
    return load_config(path)


NOW_DT = datetime(2026, 12, 7, tzinfo=UTC)


@dataclass
class Jobs:
    """A scheduler stand-in that records the jobs added (the tests run them by hand)."""

    added: list[dict[str, Any]] = field(default_factory=list)

    def every(
        self, job_id: str, seconds: float, func: Callable[..., Any], *args: Any, first_run: datetime
    ) -> None:
        self.added.append(
            {"id": job_id, "seconds": seconds, "func": func, "args": args, "first_run": first_run}
        )


class Daemonish:
    """The parts of the daemon PriceUpdates works with: a pricer, its table, a ledger to reprice."""

    def __init__(self, cfg: Config) -> None:
        self.table = configured_table(cfg.pricing)
        self.pricer = Pricer(self.table)
        self.db = cfg.storage.path
        self.updates = PriceUpdates(cfg, self.pricer, self.use_table, self.ledger)

    def use_table(self, table: PriceTable) -> None:
        self.table = table
        self.pricer.use(table)

    def ledger(self) -> AbstractContextManager[Ledger]:
        return Ledger.open(self.db)

    def write(self, *models: str) -> None:
        rows = [
            UsageRow(
                "anthropic", "anthropic-prod", "messages", DEC_1, HOUR, model=m, tokens=tokens_of(input=10**6)
            )
            for m in models
        ]
        page = UsagePage(
            "anthropic", "anthropic-prod", "messages", HOUR, (DEC_1,), tuple(rows), 1, DEC_1 + HOUR
        )
        with self.ledger() as ledger:
            ledger.write_page(page, self.pricer.price_rows(rows))

    def stored(self) -> dict[str, tuple[str | None, int, int]]:
        with self.ledger() as ledger:
            rows = ledger.db.conn.execute(
                "SELECT model, price_source, cost_total, unpriced_tokens FROM usage"
            )
            return {m: (s, c, u) for m, s, c, u in rows}

    def cost_totals(self) -> dict[str, int]:
        with self.ledger() as ledger:
            return {t["model"]: t["cost_total"] for t in ledger.totals()}


def test_the_installed_packages_data_is_exported_in_a_child_process() -> None:
    prices = community_prices(export())
    assert prices.label.startswith("genai-prices ")
    names = {(s.provider, s.model) for s in prices.specs}
    assert {("openai", "gpt-6-astra"), ("anthropic", "claude-3-sonnet")} <= names
    assert "genai_prices" not in sys.modules  # its object graph never enters this process


def test_start_loads_the_community_source_and_prices_what_the_table_lacks(tmp_path: Path) -> None:
    daemon = Daemonish(config(tmp_path, "http://127.0.0.1:9/unused"))
    daemon.write("claude-3-sonnet", "claude-opus-5-5")
    assert daemon.stored()["claude-3-sonnet"] == (None, 0, 10**6)  # unpriced before the source loads
    jobs = Jobs()
    daemon.updates.start(jobs, lambda: None, now=NOW_DT)
    assert daemon.stored()["claude-3-sonnet"] == ("genai-prices", 3 * 10**12, 0)  # $3 per 1M input
    assert daemon.stored()["claude-opus-5-5"][0] == "bundled"
    assert (tmp_path / CACHE_NAME).exists()
    assert [(j["id"], j["seconds"]) for j in jobs.added] == [("prices:genai-prices", 3600.0)]


def test_a_new_community_release_prices_stored_rows_and_counters_only_grow(
    tmp_path: Path, served: tuple[Served, str]
) -> None:
    state, url = served
    daemon = Daemonish(config(tmp_path, url))
    daemon.updates.start(Jobs(), lambda: None, now=NOW_DT)
    daemon.write("claude-nova-preview", "claude-opus-5-5")
    before = daemon.cost_totals()
    state.body = with_new_model("claude-nova-preview")

    assert daemon.updates.update() is True

    assert daemon.stored()["claude-nova-preview"] == ("genai-prices", 3 * 10**12, 0)
    after = daemon.cost_totals()
    assert all(after[model] >= cost for model, cost in before.items())
    assert after["claude-nova-preview"] == 3 * 10**12
    assert daemon.updates.update() is False  # the same data again changes nothing


@pytest.mark.parametrize(
    ("status", "body"),
    [(503, b"upstream down"), (200, b"<html>not json</html>"), (200, b'{"providers": "garbage"}')],
    ids=["server error", "not json", "not price data"],
)
def test_a_failed_or_garbage_refresh_keeps_the_last_good_data_with_one_warning(
    tmp_path: Path, served: tuple[Served, str], status: int, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    state, url = served
    daemon = Daemonish(config(tmp_path, url))
    state.body = with_new_model("claude-nova-preview")
    daemon.updates.start(Jobs(), lambda: None, now=NOW_DT)
    assert daemon.updates.update() is True
    good = daemon.updates.current
    state.status, state.body = status, body
    caplog.set_level(logging.WARNING, logger="monitor.price_updates")

    assert (daemon.updates.update(), daemon.updates.update()) == (False, False)

    warnings = [r.getMessage() for r in caplog.records if r.name == "monitor.price_updates"]
    assert len(warnings) == 1
    assert url in warnings[0] and "pricing keeps genai-prices data fetched" in warnings[0]
    assert daemon.updates.current is good
    kept = UsageRow(
        "anthropic", "a", "messages", DEC_1, HOUR, model="claude-nova-preview", tokens=tokens_of(input=1)
    )
    assert Pricer(daemon.table).price(kept).price_source == "genai-prices"


def test_a_restart_without_network_prices_with_the_last_download(
    tmp_path: Path, served: tuple[Served, str]
) -> None:
    state, url = served
    first = Daemonish(config(tmp_path, url))
    first.updates.start(Jobs(), lambda: None, now=NOW_DT)
    state.body = with_new_model("claude-nova-preview")
    assert first.updates.update() is True
    state.status = 503

    restarted = Daemonish(config(tmp_path, url))
    restarted.updates.start(Jobs(), lambda: None, now=NOW_DT)

    assert restarted.updates.current is not None
    assert restarted.updates.current.label.startswith("genai-prices data fetched")
    assert restarted.table.source_of("anthropic", "claude-nova-preview") == "genai-prices"


def test_a_config_without_the_community_source_runs_no_export(tmp_path: Path) -> None:
    path = tmp_path / "plain.yaml"
    path.write_text(
        f"storage:\n  path: {tmp_path / 'spend.db'}\nproviders:\n"
        "  - {name: anthropic-prod, type: anthropic, api_key: sk-ant-admin-test}\n",
        encoding="utf-8",
    )
    daemon = Daemonish(load_config(path))
    jobs = Jobs()
    daemon.updates.start(jobs, lambda: None, now=NOW_DT)
    assert (daemon.updates.current, jobs.added, (tmp_path / CACHE_NAME).exists()) == (None, [], False)


def test_reprice_prices_rows_a_better_source_now_knows_and_records_the_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = tmp_path / "plain.yaml"
    plain.write_text(
        f"storage:\n  path: {tmp_path / 'spend.db'}\nproviders:\n"
        "  - {name: anthropic-prod, type: anthropic, api_key: sk-ant-admin-test}\n",
        encoding="utf-8",
    )
    daemon = Daemonish(load_config(plain))  # the table alone: claude-3-sonnet is unknown
    daemon.write("claude-3-sonnet", "claude-opus-5-5")
    chained = tmp_path / "chained.yaml"
    chained.write_text(
        plain.read_text() + "pricing:\n  sources: [bundled, files, genai-prices]\n", encoding="utf-8"
    )

    assert main(["reprice", "--config", str(chained), "--format", "json"]) == 0

    lines = {line["model"]: line for line in json.loads(capsys.readouterr().out)["rows"]}
    assert (lines["claude-3-sonnet"]["old_unpriced_tokens"], lines["claude-3-sonnet"]["new_usd"]) == (
        10**6,
        "3",
    )
    assert daemon.stored()["claude-3-sonnet"] == ("genai-prices", 3 * 10**12, 0)
    assert daemon.stored()["claude-opus-5-5"][0] == "bundled"
