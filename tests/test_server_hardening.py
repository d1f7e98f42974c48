"""The metrics server under hostile clients, over real loopback sockets: no request smuggling in a
GET body, a backlog that takes a burst of connects, a Server header without the Python version,
and bcrypt that guessing clients cannot spread over every core."""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Iterator

import bcrypt
import httpx
import pytest

from monitor.metrics import Exposition, MetricsServer
from monitor.web.auth import BasicAuth

HASH = bcrypt.hashpw(b"right", bcrypt.gensalt(rounds=10)).decode()


def serve(**kw: object) -> MetricsServer:
    server = MetricsServer(
        "127.0.0.1:0",
        Exposition(),
        health=lambda: (True, "ok"),
        ready=lambda: (True, "ready"),
        **kw,  # type: ignore[arg-type]
    )
    server.start()
    return server


@pytest.fixture
def server() -> Iterator[MetricsServer]:
    s = serve()
    yield s
    s.stop()


def exchange(port: int, raw: bytes) -> bytes:
    """Send `raw` on one connection and read until the server closes it."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(raw)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def test_a_get_with_a_body_is_refused_and_its_body_never_parsed_as_a_request(server: MetricsServer) -> None:
    smuggled = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    raw = b"GET /readyz HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(smuggled) + smuggled
    received = exchange(server.port, raw)
    assert received.count(b"HTTP/1.1 ") == 1
    assert received.startswith(b"HTTP/1.1 400 ")
    assert b"Connection: close" in received


def test_a_get_with_a_chunked_body_is_refused_too(server: MetricsServer) -> None:
    raw = b"GET /readyz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nGET /\r\n0\r\n\r\n"
    received = exchange(server.port, raw)
    assert received.count(b"HTTP/1.1 ") == 1 and received.startswith(b"HTTP/1.1 400 ")


def test_keep_alive_without_a_body_still_serves_several_requests(server: MetricsServer) -> None:
    with httpx.Client(base_url=server.url) as client:
        assert [client.get("/healthz").status_code for _ in range(3)] == [200, 200, 200]


def test_the_server_header_does_not_show_the_python_version(server: MetricsServer) -> None:
    assert httpx.get(f"{server.url}/healthz").headers["server"] == "spend-monitor"


def test_a_burst_of_100_connects_is_accepted_without_a_syn_retry(server: MetricsServer) -> None:
    waits: list[float] = []
    sockets: list[socket.socket] = []
    lock = threading.Lock()
    go = threading.Event()

    def connect() -> None:
        go.wait()
        started = time.monotonic()
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        with lock:
            waits.append(time.monotonic() - started)
            sockets.append(sock)

    threads = [threading.Thread(target=connect) for _ in range(100)]
    for t in threads:
        t.start()
    go.set()
    for t in threads:
        t.join()
    for sock in sockets:
        sock.close()
    assert len(waits) == 100
    assert max(waits) < 0.9  # a dropped SYN is retried after 1 s


def authorization(password: str) -> str:
    return "Basic " + base64.b64encode(f"prom:{password}".encode()).decode()


def test_a_wrong_password_repeated_costs_one_bcrypt() -> None:
    auth = BasicAuth({"prom": HASH})
    assert not any(auth.check(authorization("wrong")) for _ in range(20))
    assert auth.bcrypt_runs == 1
    assert auth.check(authorization("right")) and auth.check(authorization("right"))
    assert auth.bcrypt_runs == 2


def test_eight_guessing_clients_keep_at_most_one_core_busy() -> None:
    auth = BasicAuth({"prom": HASH})
    stop = time.monotonic() + 1.5

    def guess(client: int) -> None:
        n = 0
        while time.monotonic() < stop:
            auth.check(authorization(f"guess-{client}-{n}"))
            n += 1

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(8)]
    cpu, wall = time.process_time(), time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cores = (time.process_time() - cpu) / (time.monotonic() - wall)
    assert auth.bcrypt_runs >= 4
    assert cores < 1.3
