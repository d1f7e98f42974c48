"""The metrics HTTP server over real loopback sockets with a real HTTP client (httpx)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from monitor.errors import ConfigError, SpendMonitorError
from monitor.metrics import AccountRef, Exposition, LedgerView, MetricsServer, PollStats, TotalRow
from monitor.records import tokens_of
from monitor.web.listen import parse_listen

OPENMETRICS_ACCEPT = "application/openmetrics-text; version=1.0.0"


def ledger(project: str = "proj_a") -> LedgerView:
    return LedgerView(
        totals=[
            TotalRow(
                "openai",
                "prod",
                project,
                "gpt-4.1",
                "standard",
                "",
                tokens_of(input=5),
                tokens_of(input=7),
                1,
            )
        ]
    )


def publish(exposition: Exposition, data: LedgerView, now: float = 1_700_000_000.0) -> None:
    stats = PollStats([AccountRef("openai", "prod", ("completions",))])
    exposition.update(data, stats, version="0.1.0", pricing_version="p1", now=now)


class Probe:
    """What the daemon's health and readiness callables would report."""

    def __init__(self) -> None:
        self.health: tuple[bool, str] = (True, "ok")
        self.ready: tuple[bool, str] = (False, "waiting for the first poll of: prod")
        self.raise_health = False

    def check_health(self) -> tuple[bool, str]:
        if self.raise_health:
            raise RuntimeError("secret-ish internal detail")
        return self.health


@pytest.fixture
def probe() -> Probe:
    return Probe()


@pytest.fixture
def exposition() -> Exposition:
    exposition = Exposition()
    publish(exposition, ledger())
    return exposition


def start(exposition: Exposition, probe: Probe, **kw: Any) -> MetricsServer:
    server = MetricsServer(
        "127.0.0.1:0",
        exposition,
        health=probe.check_health,
        ready=lambda: probe.ready,
        **kw,
    )
    server.start()
    return server


@pytest.fixture
def server(exposition: Exposition, probe: Probe) -> Iterator[MetricsServer]:
    server = start(exposition, probe)
    yield server
    server.stop()


@pytest.fixture
def client(server: MetricsServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, trust_env=False, timeout=5) as client:
        yield client


def test_metrics_returns_the_cached_bytes(exposition: Exposition, client: httpx.Client) -> None:
    response = client.get("/metrics", headers={"Accept-Encoding": "identity"})
    body, content_type, _ = exposition.render(None, None)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert "content-encoding" not in response.headers
    assert response.content == body


def test_metrics_negotiates_openmetrics(exposition: Exposition, client: httpx.Client) -> None:
    response = client.get("/metrics", headers={"Accept": OPENMETRICS_ACCEPT, "Accept-Encoding": "identity"})
    assert response.headers["content-type"].startswith("application/openmetrics-text; version=1.0.0")
    assert response.content == exposition.render(OPENMETRICS_ACCEPT, None)[0]
    assert response.content.endswith(b"# EOF\n")


def test_metrics_are_gzipped_when_the_client_accepts_it(exposition: Exposition, client: httpx.Client) -> None:
    with client.stream("GET", "/metrics", headers={"Accept-Encoding": "gzip"}) as response:
        raw = b"".join(response.iter_raw())
    assert response.headers["content-encoding"] == "gzip"
    assert raw == exposition.render(None, "gzip")[0]
    assert (
        client.get("/metrics", headers={"Accept-Encoding": "gzip"}).content
        == exposition.render(None, None)[0]
    )


def test_head_sends_headers_without_a_body(exposition: Exposition, client: httpx.Client) -> None:
    response = client.head("/metrics", headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(exposition.render(None, None)[0])
    assert response.content == b""


def test_scrapes_do_not_change_until_the_exposition_is_updated(
    exposition: Exposition, client: httpx.Client
) -> None:
    first = client.get("/metrics").content
    assert b'project="proj_b"' not in first
    assert client.get("/metrics").content == first
    publish(exposition, ledger("proj_b"), now=1_700_000_300.0)
    assert b'project="proj_b"' in client.get("/metrics").content


def test_metrics_is_503_before_the_first_snapshot(probe: Probe) -> None:
    server = start(Exposition(), probe)
    try:
        response = httpx.get(server.url + "/metrics", trust_env=False)
    finally:
        server.stop()
    assert response.status_code == 503


def test_query_strings_are_ignored(client: httpx.Client) -> None:
    assert client.get("/metrics?name[]=llm_tokens_total").status_code == 200


def test_healthz_is_ok_while_healthy_and_503_with_the_reason_otherwise(
    probe: Probe, client: httpx.Client
) -> None:
    assert (client.get("/healthz").status_code, client.get("/healthz").text) == (200, "ok\n")
    probe.health = (False, "scheduler not running")
    response = client.get("/healthz")
    assert (response.status_code, response.text) == (503, "scheduler not running\n")


def test_a_raising_health_check_is_503_without_its_details(probe: Probe, client: httpx.Client) -> None:
    probe.raise_health = True
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "secret" not in response.text


def test_readyz_lists_who_is_pending_until_ready(probe: Probe, client: httpx.Client) -> None:
    response = client.get("/readyz")
    assert (response.status_code, response.text) == (503, "waiting for the first poll of: prod\n")
    probe.ready = (True, "ready")
    assert client.get("/readyz").status_code == 200


def test_landing_page_links_the_endpoints_and_escapes_status(probe: Probe, client: httpx.Client) -> None:
    probe.ready = (False, "waiting for <script>alert(1)</script>")
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    for link in ("metrics", "healthz", "readyz"):
        assert f'href="{link}"' in response.text
    assert "<script>" not in response.text
    assert "&lt;script&gt;" in response.text


def test_a_landing_callable_replaces_the_default_page(exposition: Exposition, probe: Probe) -> None:
    server = start(exposition, probe, landing=lambda: b"<p>status page</p>")
    try:
        response = httpx.get(server.url + "/", trust_env=False)
    finally:
        server.stop()
    assert response.content == b"<p>status page</p>"


def test_unknown_paths_are_404_and_other_methods_405(client: httpx.Client) -> None:
    assert client.get("/nope").status_code == 404
    response = client.post("/metrics", content=b"x")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


def test_a_stalled_client_does_not_block_scrapes(server: MetricsServer, client: httpx.Client) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as stalled:
        stalled.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")  # the headers never end
        started = time.monotonic()
        assert client.get("/metrics").status_code == 200
        assert time.monotonic() - started < 2


def test_a_silent_client_is_disconnected_after_the_request_timeout(
    exposition: Exposition, probe: Probe
) -> None:
    server = start(exposition, probe, request_timeout=0.3)
    try:
        with socket.create_connection(("127.0.0.1", server.port)) as silent:
            silent.settimeout(5)
            started = time.monotonic()
            assert silent.recv(1) == b""
            assert time.monotonic() - started < 3
    finally:
        server.stop()


def test_port_zero_binds_a_free_port_and_url_names_it(server: MetricsServer) -> None:
    assert server.port > 0
    assert server.url == f"http://127.0.0.1:{server.port}"


def test_a_busy_port_is_a_clear_error(exposition: Exposition, probe: Probe, server: MetricsServer) -> None:
    other = MetricsServer(
        f"127.0.0.1:{server.port}", exposition, health=probe.check_health, ready=lambda: probe.ready
    )
    with pytest.raises(SpendMonitorError, match=f"listen 127.0.0.1:{server.port}: cannot listen"):
        other.start()


def test_after_stop_nothing_listens(exposition: Exposition, probe: Probe) -> None:
    server = start(exposition, probe)
    url = server.url
    server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/healthz", trust_env=False)


@pytest.mark.parametrize(
    ("listen", "expected"), [("127.0.0.1:9877", ("127.0.0.1", 9877)), ("[::1]:0", ("::1", 0))]
)
def test_listen_addresses_parse(listen: str, expected: tuple[str, int]) -> None:
    assert parse_listen(listen) == expected


@pytest.mark.parametrize("listen", ["localhost", "127.0.0.1:http", "127.0.0.1:70000", "[zz::1]:80", "::1:80"])
def test_bad_listen_addresses_name_the_key_and_the_fix(listen: str) -> None:
    with pytest.raises(ConfigError, match=r"^listen: .* is not HOST:PORT; write e\.g\. 127\.0\.0\.1:9877"):
        parse_listen(listen)
