"""The network never holds the daemon: a receiver that accepts and never answers does not stall the
refresh (delivery has a thread and a lock of its own), and SIGTERM stops the daemon within 10 s
while a provider trickles one byte at a time and the receiver hangs."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.daemon import Daemon
from monitor.simulator import Simulator
from tests.daemon_support import HOUR, T0, Clock, free_port, key_env, load, no_wait_factory, write_config

BUDGET = """
budgets:
  - name: tiny
    amount_usd: 1
    period: month
alerts:
  - type: webhook
    url: {url}
    secret: whsec-test
    timeout: 30s
"""


class Hung:
    """A TCP server that accepts connections and holds them. With `trickle`, it answers each request
    with headers and then one body byte per `trickle` seconds, forever (a slow-loris provider)."""

    def __init__(self, trickle: float | None = None) -> None:
        self.trickle = trickle
        self.accepted = threading.Event()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._conns: list[socket.socket] = []
        self._closing = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self._conns.append(conn)
            self.accepted.set()
            if self.trickle is not None:
                threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            conn.recv(65536)
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n"
            )
            while not self._closing.wait(self.trickle):
                conn.sendall(b" ")

    def close(self) -> None:
        self._closing.set()
        self._sock.close()
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.close()


@pytest.fixture
def receiver() -> Iterator[Hung]:
    hung = Hung()
    yield hung
    hung.close()


@pytest.fixture
def trickle() -> Iterator[Hung]:
    hung = Hung(trickle=0.5)
    yield hung
    hung.close()


def test_a_hung_receiver_does_not_hold_up_the_refresh(tmp_path: Path, receiver: Hung) -> None:
    clock = Clock(T0)
    with Simulator(seed=2, clock=clock, start=T0 - 10 * 24 * HOUR) as sim:
        config = write_config(
            tmp_path / "config.yaml", sim, tmp_path / "spend.db", extra=BUDGET.format(url=receiver.url)
        )
        daemon = Daemon(load(config, sim), clock=clock, provider_factory=no_wait_factory)
        try:
            daemon.cycle.run(daemon.pollers)  # queues the budget's alert
            daemon.delivery.start()
            daemon.delivery.wake()
            assert receiver.accepted.wait(30), "delivery never reached the receiver"
            clock.advance(HOUR)
            assert daemon.cycle.refresh()
            assert daemon.delivery.sending, (
                "the refresh finished while the delivery still waits on the receiver"
            )
        finally:
            daemon.stop(timeout=1)


def test_sigterm_stops_the_daemon_within_10_s_whatever_the_network_does(
    tmp_path: Path, receiver: Hung, trickle: Hung
) -> None:
    with Simulator(seed=2) as sim:
        port = free_port()
        providers = write_config(
            tmp_path / "config.yaml",
            sim,
            tmp_path / "spend.db",
            listen=f"127.0.0.1:{port}",
            lookback="1d",
            timeout="30s",
            extra=BUDGET.format(url=receiver.url),
        ).read_text(encoding="utf-8")
        # the Anthropic account talks to a provider that trickles one byte every half second
        (tmp_path / "config.yaml").write_text(
            providers.replace(sim.anthropic_base_url, trickle.url).replace(
                "poll_interval: 60s", "poll_interval: 10s"
            ),
            encoding="utf-8",
        )
        log = (tmp_path / "daemon.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor.cli", "run", "--config", str(tmp_path / "config.yaml")],
            env={**os.environ, **key_env(sim)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            assert trickle.accepted.wait(60), "the trickling provider was never asked"
            assert receiver.accepted.wait(60), "the alert never reached the hung receiver"
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=30)
            took = time.monotonic() - started
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            log.close()
    assert code == 0, (tmp_path / "daemon.log").read_text(encoding="utf-8")
    assert took < 10, f"SIGTERM took {took:.1f} s"
