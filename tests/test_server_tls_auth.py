"""TLS and bcrypt basic auth on the metrics server, with a self-signed certificate made by openssl."""

from __future__ import annotations

import base64
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bcrypt
import httpx
import pytest

from monitor.errors import ConfigError
from monitor.metrics import AccountRef, Exposition, LedgerView, MetricsServer, PollStats
from monitor.web.auth import BasicAuth
from monitor.web.listen import tls_context

PASSWORD = "correct horse:battery"  # a colon in the password is allowed
USERS = {"prom": bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()}


def exposition() -> Exposition:
    result = Exposition()
    result.update(
        LedgerView(), PollStats([AccountRef("openai", "prod", ("costs",))]), version="0.1.0", now=1.0
    )
    return result


def serve(**kw: Any) -> MetricsServer:
    server = MetricsServer(
        "127.0.0.1:0",
        exposition(),
        health=lambda: (True, "ok"),
        ready=lambda: (False, "waiting for the first poll of: prod"),
        **kw,
    )
    server.start()
    return server


def trusting(cert_file: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert_file))


@pytest.fixture
def tls_server(cert: tuple[Path, Path]) -> Iterator[MetricsServer]:
    server = serve(tls_cert_file=cert[0], tls_key_file=cert[1])
    yield server
    server.stop()


@pytest.fixture
def auth_server() -> Iterator[MetricsServer]:
    server = serve(basic_auth_users=USERS)
    yield server
    server.stop()


def test_metrics_are_served_over_tls(tls_server: MetricsServer, cert: tuple[Path, Path]) -> None:
    assert tls_server.url.startswith("https://127.0.0.1:")
    with httpx.Client(verify=trusting(cert[0]), trust_env=False) as client:
        response = client.get(tls_server.url + "/metrics")
    assert response.status_code == 200
    assert b"spend_monitor_build_info" in response.content


def test_plain_http_gets_no_answer_from_a_tls_server(tls_server: MetricsServer) -> None:
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{tls_server.port}/metrics", trust_env=False, timeout=5)


def test_a_client_that_never_starts_tls_does_not_block_others(
    tls_server: MetricsServer, cert: tuple[Path, Path]
) -> None:
    with socket.create_connection(("127.0.0.1", tls_server.port)):
        started = time.monotonic()
        response = httpx.get(
            tls_server.url + "/healthz", verify=trusting(cert[0]), trust_env=False, timeout=5
        )
        assert response.status_code == 200
        assert time.monotonic() - started < 2


def test_tls_needs_at_least_version_1_2(cert: tuple[Path, Path]) -> None:
    context = tls_context(*cert)
    assert context is not None
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2


def test_a_certificate_without_a_key_is_a_config_error(cert: tuple[Path, Path]) -> None:
    with pytest.raises(ConfigError, match=r"web\.tls_cert_file and web\.tls_key_file: set both"):
        tls_context(cert[0], None)


def test_an_unreadable_certificate_names_the_keys_and_the_file(
    tmp_path: Path, cert: tuple[Path, Path]
) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(
        ConfigError, match=r"web\.tls_cert_file / web\.tls_key_file: cannot load .*nope\.pem"
    ) as info:
        tls_context(missing, cert[1])
    assert "Traceback" not in str(info.value)


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_the_right_password_is_let_in(auth_server: MetricsServer) -> None:
    response = httpx.get(auth_server.url + "/metrics", headers=basic("prom", PASSWORD), trust_env=False)
    assert response.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic("prom", "wrong"),
        basic("nobody", PASSWORD),
        {"Authorization": "Bearer x"},
        {"Authorization": "Basic !!"},
    ],
    ids=["none", "wrong-password", "unknown-user", "other-scheme", "garbage"],
)
def test_anything_else_is_401_with_a_basic_challenge(
    auth_server: MetricsServer, headers: dict[str, str]
) -> None:
    response = httpx.get(auth_server.url + "/metrics", headers=headers, trust_env=False)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic realm=")
    assert b"llm_" not in response.content


def test_the_landing_page_needs_credentials_but_probes_do_not(auth_server: MetricsServer) -> None:
    assert httpx.get(auth_server.url + "/", trust_env=False).status_code == 401
    assert httpx.get(auth_server.url + "/healthz", trust_env=False).status_code == 200
    assert httpx.get(auth_server.url + "/readyz", trust_env=False).status_code == 503


def test_auth_over_tls_with_a_real_client(cert: tuple[Path, Path]) -> None:
    server = serve(tls_cert_file=cert[0], tls_key_file=cert[1], basic_auth_users=USERS)
    try:
        with httpx.Client(verify=trusting(cert[0]), trust_env=False, auth=("prom", PASSWORD)) as client:
            assert client.get(server.url + "/metrics").status_code == 200
    finally:
        server.stop()


def test_a_verified_password_is_not_hashed_again() -> None:
    auth = BasicAuth(USERS)
    header = basic("prom", PASSWORD)["Authorization"]
    assert auth.check(header) and auth.check(header)
    assert auth.bcrypt_runs == 1


def test_unknown_users_still_cost_a_bcrypt_run() -> None:
    auth = BasicAuth(USERS)
    assert not auth.check(basic("nobody", PASSWORD)["Authorization"])
    assert auth.bcrypt_runs == 1


def test_a_password_too_long_for_bcrypt_is_refused_not_an_error() -> None:
    assert not BasicAuth(USERS).check(basic("prom", "x" * 100)["Authorization"])


def test_a_malformed_hash_is_a_config_error_naming_the_user() -> None:
    with pytest.raises(ConfigError, match=r"web\.basic_auth_users\.prom: not a bcrypt hash; make one with"):
        BasicAuth({"prom": "plaintext-password"})
