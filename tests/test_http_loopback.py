"""ApiClient against a real socket server on 127.0.0.1: a body cut off mid-transfer and a server
that stalls are retried like the transient faults they are, over a real TCP connection."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Callable, Iterator

import pytest

from monitor.errors import ProviderTransientError
from monitor.providers.http import ApiClient

GOOD = b'{"ok": true}'
Behaviour = Callable[[socket.socket, int], None]


def _answer(sock: socket.socket, body: bytes, declared: int | None = None) -> None:
    length = len(body) if declared is None else declared
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
    sock.sendall(head.encode() + body)


@pytest.fixture
def server() -> Iterator[Callable[[Behaviour], str]]:
    """Start a loopback server whose n-th connection (from 1) is handled by `behaviour(sock, n)`."""
    servers: list[socketserver.ThreadingTCPServer] = []

    def start(behaviour: Behaviour) -> str:
        count = {"n": 0}
        lock = threading.Lock()

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                with lock:
                    count["n"] += 1
                    n = count["n"]
                self.request.recv(65536)
                behaviour(self.request, n)

        srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        srv.daemon_threads = True
        threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        servers.append(srv)
        host, port = srv.server_address[:2]
        return f"http://{host!s}:{port}"

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


def client(base_url: str, waits: list[float], **kwargs: float) -> ApiClient:
    return ApiClient(
        account="acct",
        base_url=base_url,
        headers={},
        secrets=(),
        key_hint="providers[0].api_key",
        sleep=waits.append,
        **kwargs,  # type: ignore[arg-type]
    )


def test_a_body_cut_off_mid_transfer_is_retried(server: Callable[[Behaviour], str]) -> None:
    def behaviour(sock: socket.socket, n: int) -> None:
        if n == 1:
            _answer(sock, GOOD[:5], declared=len(GOOD))  # promise more than is sent, then close
        else:
            _answer(sock, GOOD)

    waits: list[float] = []
    api = client(server(behaviour), waits)
    assert api.get_json("/x", []) == {"ok": True}
    assert api.stats.errors["connection"] == 1
    assert len(waits) == 1


def test_a_stalled_server_times_out_and_is_retried(server: Callable[[Behaviour], str]) -> None:
    release = threading.Event()

    def behaviour(sock: socket.socket, n: int) -> None:
        if n == 1:
            release.wait(5)
        else:
            _answer(sock, GOOD)

    waits: list[float] = []
    api = client(server(behaviour), waits, timeout=0.2)
    try:
        assert api.get_json("/x", []) == {"ok": True}
    finally:
        release.set()
    assert api.stats.errors["timeout"] == 1


def test_a_refused_connection_gives_up_after_the_attempts(server: Callable[[Behaviour], str]) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens on this port now
    waits: list[float] = []
    api = client(f"http://127.0.0.1:{port}", waits, max_attempts=3)
    with pytest.raises(ProviderTransientError) as caught:
        api.get_json("/x", [])
    assert caught.value.reason == "connection"
    assert len(waits) == 2
