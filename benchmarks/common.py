"""Helpers the chaos, soak and poll benchmarks share: clocks, a webhook receiver, tables, ledger checks.

Not a benchmark itself (no `main()`, so `benchmarks/run_all.py` skips it). Everything here runs on
loopback only and reads no clock of its own except where a helper says so.
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from monitor.alerts.webhook import verify
from monitor.records import TOKEN_TYPES, pico_to_usd
from monitor.simulator import Simulator
from monitor.store import Ledger, Scope

ROOT = Path(__file__).resolve().parent.parent
HOUR = 3600
DAY = 86400
PROVIDERS = ("openai", "anthropic")


# ---- clocks ------------------------------------------------------------------------------------


class SteppedClock:
    """A simulated clock moved by hand, mirrored to `path` (if given) for child processes to read.

    The file is replaced atomically on every change, so a reader never sees a half-written value.
    """

    def __init__(self, now: float, path: Path | None = None) -> None:
        self.path = path
        self.now = now
        self._write()

    def __call__(self) -> float:
        return self.now

    def set(self, now: float) -> None:
        self.now = now
        self._write()

    def advance(self, seconds: float) -> None:
        self.set(self.now + seconds)

    def _write(self) -> None:
        if self.path is None:
            return
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(repr(self.now), encoding="ascii")
        os.replace(tmp, self.path)


class FileClock:
    """A child process's view of a SteppedClock: reads the file on every call."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self) -> float:
        return float(self.path.read_text(encoding="ascii"))


def budgets_yaml(openai_monthly_usd: int = 100_000) -> str:
    """The two budgets the daemon benchmarks run with (a config's `budgets:` block): an OpenAI
    monthly one and an everything-daily one, so budget evaluation is part of every refresh."""
    return f"""budgets:
  - name: openai-monthly
    amount_usd: {openai_monthly_usd}
    period: month
    scope: {{provider: openai}}
  - name: everything-daily
    amount_usd: 20000
    period: day
"""


def spawn_daemon(
    config: Path, env: dict[str, str], log: Path, *, python: Path | None = None, tree: Path = ROOT
) -> subprocess.Popen[bytes]:
    """A real `spend-monitor run --config CONFIG` subprocess, its stdout and stderr in `log`, with
    `env` added to this process' environment: `python` (default: this interpreter) runs the code of
    `tree` (default: this repository; `python -m` puts the working directory first on the path)."""
    with log.open("wb") as out:  # the child keeps its own descriptor
        return subprocess.Popen(
            [str(python or sys.executable), "-m", "monitor.cli", "run", "--config", str(config)],
            cwd=tree,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---- figures -----------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by the nearest-rank method; nan for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain text table with left-aligned columns (copies into Markdown after a `|` swap)."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def usd(pico: int) -> str:
    """Exact dollars of a picodollar amount, for tables."""
    return f"${pico_to_usd(pico)}"


# ---- the ledger against the simulator -----------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """Usage of one provider in [start, end): the ledger's figures and the simulator's ground truth."""

    provider: str
    ledger_tokens: dict[str, int]
    truth_tokens: dict[str, int]
    ledger_cost: int
    truth_cost: int
    ledger_requests: int
    truth_requests: int

    @property
    def equal(self) -> bool:
        return (
            self.ledger_tokens == self.truth_tokens
            and self.ledger_cost == self.truth_cost
            and self.ledger_requests == self.truth_requests
        )


def compare_with_truth(db: Path, sim: Simulator, start: int, end: int) -> list[Comparison]:
    """The ledger's tokens, picodollars and requests per provider against `sim.ground_truth`."""
    result = []
    with Ledger.open(db) as ledger:
        for provider in PROVIDERS:
            rows = ledger.spend_by(["provider"], start, end, Scope(provider=(provider,)))
            got: dict[str, Any] = rows[0] if rows else {"tokens": {}, "cost_total": 0, "requests": 0}
            truth = sim.ground_truth(provider, start, end).total
            result.append(
                Comparison(
                    provider=provider,
                    ledger_tokens={t: int(dict(got["tokens"]).get(t, 0)) for t in TOKEN_TYPES},
                    truth_tokens={t: int(truth.tokens.get(t, 0)) for t in TOKEN_TYPES},
                    ledger_cost=int(got["cost_total"]),
                    truth_cost=int(truth.cost_pico),
                    ledger_requests=int(got["requests"]),
                    truth_requests=int(truth.requests),
                )
            )
    return result


def ledger_rows(db: Path) -> int:
    """Usage rows in the ledger (from the exact cumulative totals table)."""
    with Ledger.open(db) as ledger:
        return sum(int(r["rows"]) for r in ledger.totals())


# ---- a webhook receiver that is sometimes down --------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """One POST the receiver saw. `accepted` is True when it answered 2xx."""

    key: str
    event: str
    budget: str
    kind: str
    accepted: bool
    signature_ok: bool


RECEIVER_MODES = ("up", "error", "down")
"""up: answers 200; error: answers 500; down: the port is closed (connection refused)."""


class WebhookReceiver:
    """A signed-webhook endpoint on loopback that records every delivery by its Idempotency-Key.

    `set_mode("down")` closes the listening socket (the sender gets "connection refused"),
    `set_mode("error")` answers 500, `set_mode("up")` answers 200. `on_accept` is called after a
    200 has been written, from the handler thread: the chaos driver uses it to SIGKILL the daemon
    between "the receiver accepted" and "marked delivered".
    """

    def __init__(self, secret: str, *, port: int | None = None) -> None:
        self.secret = secret
        self.port = port or free_port()
        self.mode = "down"
        self.on_accept: Callable[[Delivery], None] | None = None
        self._deliveries: list[Delivery] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    @property
    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self._deliveries)

    def set_mode(self, mode: str) -> None:
        if mode not in RECEIVER_MODES:
            raise ValueError(f"receiver mode must be one of {RECEIVER_MODES}, got {mode!r}")
        self.mode = mode
        if mode == "down":
            self._close()
        elif self._server is None:
            self._open()

    def close(self) -> None:
        self._close()

    def _open(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver._handle(self, body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: deliveries are recorded, not logged."""

        for attempt in range(50):  # the old socket may linger for a moment after a "down"
            try:
                server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
                break
            except OSError:
                if attempt == 49:
                    raise
                time.sleep(0.1)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True
        self._thread.start()

    def _close(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def _handle(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        # The daemon's clock is simulated here, so the timestamp's age is not checked (max_age: any).
        signature_ok = verify(self.secret, handler.headers, body, now=0, max_age=float("inf"))
        try:
            document = json.loads(body)
        except ValueError:
            document = {}
        alert = document.get("alert") or {}
        accepted = self.mode == "up"
        delivery = Delivery(
            key=handler.headers.get("Idempotency-Key", ""),
            event=str(document.get("event", "")),
            budget=str(alert.get("budget", "")),
            kind=str(alert.get("kind", "")),
            accepted=accepted,
            signature_ok=signature_ok,
        )
        with self._lock:
            self._deliveries.append(delivery)
        status = 200 if accepted else 500
        handler.send_response(status)
        handler.send_header("Content-Length", "0")
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.flush()
        handler.close_connection = True
        if accepted and self.on_accept is not None:
            self.on_accept(delivery)
