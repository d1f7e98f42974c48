"""The metrics server in a process of its own (monitor.web.process and monitor.web.child), over real
loopback sockets: it answers byte for byte as the server in the daemon's process did, serves each
new exposition, page and probe answer it is handed, and lives and dies with the daemon."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from threading import Thread
from typing import TypeVar

import bcrypt
import httpx
import pytest
from test_server import ledger, publish

from monitor.errors import ConfigError, SpendMonitorError
from monitor.metrics import Exposition, MetricsServer
from monitor.metrics.exposition import negotiate
from monitor.web import frames
from monitor.web.child import serve
from monitor.web.process import WebProcess

PASSWORD = "s3cret:pass"
USERS = {"prom": bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()}
T = TypeVar("T")
AUTH = "Authorization: Basic cHJvbTpzM2NyZXQ6cGFzcw==\r\n"  # prom:s3cret:pass


class State:
    """What the daemon's probes would answer, with the change notification the daemon wires."""

    def __init__(self) -> None:
        self.health = (True, "ok")
        self.ready = (False, "waiting for the first poll of: prod")
        self.page = b"<!doctype html><p>status page</p>\n"
        self.listeners: list[Callable[[], None]] = []

    def change(self, **values: object) -> None:
        for name, value in values.items():
            setattr(self, name, value)
        for listener in self.listeners:
            listener()


def web_process(exposition: Exposition, state: State, **kw: object) -> WebProcess:
    web = WebProcess(
        "127.0.0.1:0",
        exposition,
        negotiate=negotiate,
        health=lambda: state.health,
        ready=lambda: state.ready,
        landing=lambda: state.page,
        **kw,  # type: ignore[arg-type]
    )
    exposition.on_publish(web.exposition_changed)
    state.listeners.append(web.probes_changed)
    return web


@pytest.fixture
def exposition() -> Exposition:
    result = Exposition()
    publish(result, ledger())
    return result


@pytest.fixture
def state() -> State:
    return State()


@pytest.fixture
def web(exposition: Exposition, state: State) -> Iterator[WebProcess]:
    process = web_process(exposition, state, basic_auth_users=USERS)
    process.start()
    yield process
    process.stop()


@pytest.fixture
def in_process(exposition: Exposition, state: State) -> Iterator[MetricsServer]:
    server = MetricsServer(
        "127.0.0.1:0",
        exposition,
        health=lambda: state.health,
        ready=lambda: state.ready,
        landing=lambda: state.page,
        basic_auth_users=USERS,
    )
    server.start()
    yield server
    server.stop()


def exchange(port: int, raw: bytes) -> bytes:
    """Send `raw` (ending in Connection: close) and read the whole answer, without its Date header."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, sep, body = received.partition(b"\r\n\r\n")
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"date:")]
    return b"\r\n".join(lines) + sep + body


def get(path: str, headers: str = AUTH, method: str = "GET") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: x\r\n{headers}Connection: close\r\n\r\n".encode()


REQUESTS = {
    "metrics, as Prometheus scrapes": get(
        "/metrics",
        AUTH + "Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,"
        "*/*;q=0.1\r\nAccept-Encoding: gzip\r\n",
    ),
    "metrics, text without gzip": get("/metrics", AUTH + "Accept-Encoding: identity\r\n"),
    "metrics, gzip refused with q=0": get("/metrics", AUTH + "Accept-Encoding: gzip;q=0\r\n"),
    "metrics, openmetrics with dots escaping": get(
        "/metrics", AUTH + "Accept: application/openmetrics-text; version=1.0.0; escaping=dots\r\n"
    ),
    "metrics, text 1.0 with values escaping": get(
        "/metrics", AUTH + "Accept: text/plain; version=1.0.0; escaping=values\r\nAccept-Encoding: gzip\r\n"
    ),
    "metrics, an unparsable version": get("/metrics", AUTH + "Accept: text/plain; version=x\r\n"),
    "metrics, HEAD": get("/metrics", AUTH, method="HEAD"),
    "metrics without credentials": get("/metrics", ""),
    "metrics with a wrong password": get("/metrics", "Authorization: Basic cHJvbTp3cm9uZw==\r\n"),
    "status page": get("/"),
    "status page without credentials": get("/", ""),
    "healthz, open": get("/healthz", ""),
    "readyz, open": get("/readyz", ""),
    "unknown path": get("/nope"),
    "query string": get("/metrics?name[]=x"),
    "POST": b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx",
    "GET with a body": b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
    "GET with a chunked body": b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
}


@pytest.mark.parametrize("name", list(REQUESTS))
def test_the_child_answers_byte_for_byte_as_the_server_in_the_daemon_did(
    name: str, web: WebProcess, in_process: MetricsServer
) -> None:
    raw = REQUESTS[name]
    assert exchange(web.port, raw) == exchange(in_process.port, raw)


def test_the_child_serves_each_new_exposition(exposition: Exposition, web: WebProcess) -> None:
    auth = httpx.BasicAuth("prom", PASSWORD)
    assert b'project="proj_b"' not in httpx.get(f"{web.url}/metrics", auth=auth).content
    publish(exposition, ledger("proj_b"), now=1_700_000_300.0)
    body = wait_for(lambda: httpx.get(f"{web.url}/metrics", auth=auth).content, lambda b: b'"proj_b"' in b)
    assert body == exposition.render(None, None)[0]


def test_the_child_answers_the_probes_and_the_page_as_they_change(state: State, web: WebProcess) -> None:
    assert httpx.get(f"{web.url}/readyz").status_code == 503
    state.change(ready=(True, "ready"), health=(False, "shutting down"), page=b"<p>new page</p>")
    readyz = wait_for(lambda: httpx.get(f"{web.url}/readyz"), lambda r: r.status_code == 200)
    assert readyz.text == "ready\n"
    healthz = httpx.get(f"{web.url}/healthz")
    assert (healthz.status_code, healthz.text) == (503, "shutting down\n")
    assert httpx.get(f"{web.url}/", auth=httpx.BasicAuth("prom", PASSWORD)).content == b"<p>new page</p>"


def test_metrics_are_503_until_the_first_snapshot_is_handed_over(state: State) -> None:
    empty = Exposition()
    web = web_process(empty, state)
    web.start()
    try:
        assert httpx.get(f"{web.url}/metrics").status_code == 503
        publish(empty, ledger())
        wait_for(lambda: httpx.get(f"{web.url}/metrics").status_code, lambda code: code == 200)
    finally:
        web.stop()


def test_tls_and_basic_auth_reach_the_child(
    exposition: Exposition, state: State, cert: tuple[Path, Path]
) -> None:
    web = web_process(exposition, state, tls_cert_file=cert[0], tls_key_file=cert[1], basic_auth_users=USERS)
    web.start()
    try:
        assert web.url.startswith("https://127.0.0.1:")
        trusting = ssl.create_default_context(cafile=str(cert[0]))
        with httpx.Client(verify=trusting, trust_env=False, timeout=10) as client:
            assert client.get(f"{web.url}/metrics").status_code == 401
            scraped = client.get(f"{web.url}/metrics", auth=httpx.BasicAuth("prom", PASSWORD))
        assert scraped.content == exposition.render(None, None)[0]
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{web.port}/metrics", trust_env=False, timeout=5)
    finally:
        web.stop()


def test_settings_the_child_could_not_use_fail_as_they_did_in_process(
    exposition: Exposition, state: State, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=r"web\.tls_cert_file / web\.tls_key_file: cannot load"):
        web_process(exposition, state, tls_cert_file=tmp_path / "no.pem", tls_key_file=tmp_path / "no.key")
    with pytest.raises(ConfigError, match=r"web\.basic_auth_users\.prom: not a bcrypt hash"):
        web_process(exposition, state, basic_auth_users={"prom": "plain"})
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        web = WebProcess(
            f"127.0.0.1:{port}",
            exposition,
            negotiate=negotiate,
            health=lambda: state.health,
            ready=lambda: state.ready,
            landing=lambda: state.page,
        )
        with pytest.raises(SpendMonitorError, match=f"listen 127.0.0.1:{port}: cannot listen"):
            web.start()


def test_a_child_that_dies_is_started_again_with_the_state_it_had(
    exposition: Exposition, state: State, web: WebProcess
) -> None:
    state.change(ready=(True, "ready"))
    first = web.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    answer = wait_for(lambda: _try_get(f"{web.url}/readyz"), lambda r: r is not None and r.status_code == 200)
    assert answer is not None and web.pid not in (None, first)
    scraped = httpx.get(f"{web.url}/metrics", auth=httpx.BasicAuth("prom", PASSWORD))
    assert scraped.content == exposition.render(None, None)[0]


def test_the_child_ignores_sigterm_and_ends_with_the_daemons_pipe(web: WebProcess) -> None:
    pid = web.pid
    assert pid is not None
    os.kill(pid, signal.SIGTERM)  # a service manager signalling the whole group
    time.sleep(0.3)
    assert httpx.get(f"{web.url}/healthz").status_code == 200
    started = time.monotonic()
    web.stop()
    assert time.monotonic() - started < 3
    assert not Path(f"/proc/{pid}").exists()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{web.url}/healthz", trust_env=False)


def test_the_child_imports_neither_prometheus_client_nor_the_config_nor_sqlite() -> None:
    probe = "import sys, monitor.web.child; print(' '.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = set(done.stdout.split())
    heavy = {"prometheus_client", "monitor.config", "monitor.metrics", "sqlite3", "httpx", "yaml", "apprise"}
    assert loaded & heavy == set()


def wait_for(get: Callable[[], T], done: Callable[[T], bool], timeout: float = 10.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = get()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def _try_get(url: str) -> httpx.Response | None:
    try:
        return httpx.get(url, trust_env=False, timeout=5)
    except httpx.TransportError:
        return None


def test_the_child_answers_the_probes_it_started_with_before_any_change(tmp_path: Path) -> None:
    """No 503 "starting" from /healthz between the child's start and the daemon's first PROBES frame."""
    to_child_r, to_child_w = os.pipe()
    from_child_r, from_child_w = os.pipe()
    config = {
        "listen": "127.0.0.1:0",
        "tls_cert_file": None,
        "tls_key_file": None,
        "basic_auth_users": None,
        "request_timeout": 5.0,
        "address": ["127.0.0.1", 0],
        "log_level": 30,
        "health": [True, "ok"],
        "ready": [False, "waiting for the first poll of: prod"],
    }
    with (
        open(to_child_r, "rb") as inp,
        open(from_child_w, "wb") as out,
        open(to_child_w, "wb") as daemon_out,
        open(from_child_r, "rb") as daemon_in,
    ):
        child = Thread(target=serve, args=(inp, out), daemon=True)
        child.start()
        frames.write_frame(daemon_out, frames.CONFIG, frames.dump(config))
        daemon_out.flush()
        started = frames.read_frame(daemon_in)
        assert started is not None and started[0] == frames.STARTED
        port = int(frames.load(started[1][0])["port"])
        health = httpx.get(f"http://127.0.0.1:{port}/healthz")
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz")
        daemon_out.close()  # the daemon's pipe ends: the child stops
        child.join(10)
    assert (health.status_code, health.text) == (200, "ok\n")
    assert (ready.status_code, ready.text) == (503, "waiting for the first poll of: prod\n")
