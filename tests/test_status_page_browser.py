"""The status page in a real headless browser (Debian's chromium): served from a loopback http.server,
rendered with JavaScript irrelevant, the figures read back from the rendered DOM equal the ledger's,
hostile labels stay text, and a screenshot is kept in the test's tmp folder."""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from test_drift_support import NOW, OPENAI, populated_ledger
from test_status_page import HOSTILE, Page

from monitor.metrics.status_page import render_status_page
from monitor.pricing import PriceTable
from monitor.records import pico_to_usd
from monitor.status import build_status_data
from monitor.store import Ledger

pytestmark = pytest.mark.e2e

MONTH_START = 1793491200  # 2026-11-01T00:00:00Z
MONTH_END = 1796083200
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("chromium is missing: run make system-deps (it installs Debian's chromium)")
    return path


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """The status page of a ledger with November's usage (and a hostile poll error) on loopback."""
    with Ledger.open(populated_ledger(tmp_path)) as ledger:
        ledger.record_poll(OPENAI, "completions", started=NOW - 5, finished=NOW, ok=False, error=HOSTILE)
        data = build_status_data(
            ledger, [], table=PriceTable.bundled(), now=datetime.fromtimestamp(NOW, UTC), tz=ZoneInfo("UTC")
        )
        month = ledger.spend(MONTH_START, MONTH_END)
    body = render_status_page(data)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", month
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_chromium_renders_the_ledgers_figures_and_keeps_hostile_text_inert(
    served: tuple[str, int], tmp_path: Path
) -> None:
    url, month_pico = served
    screenshot = tmp_path / "status.png"
    result = subprocess.run(
        [
            chromium(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={screenshot}",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    dom = Page(result.stdout)
    month = [Decimal(v) for row, v in dom.usd if row == "month-spend"]
    assert month == [pico_to_usd(month_pico)]
    assert f"${pico_to_usd(month_pico):,.2f}" in "".join(dom.text)
    assert HOSTILE in "".join(dom.text)
    assert "script" not in dom.tags
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
