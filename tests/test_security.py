"""Security properties of the whole monitor: secrets stay secret, the metrics endpoint is guarded,
and the container runs with least privilege.

The secrets are distinctive strings (API keys, a webhook signing secret, an apprise URL token) put
through a real config, the real adapters against the simulator with injected faults, the real
ledger, budgets, alert delivery and exposition; then every log record (DEBUG and up), exception
message, ledger file byte, exposition byte and served page is searched for them.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import re
import sqlite3
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import bcrypt
import httpx
import pytest
import yaml

from monitor.alerts import sign
from monitor.cli import main
from monitor.config import Config, load_config
from monitor.daemon import Daemon
from monitor.errors import ConfigError, ProviderError
from monitor.metrics import AccountRef, Exposition, LedgerView, MetricsServer, PollStats
from monitor.poller import PollResult
from monitor.pricing import Pricer, PriceTable
from monitor.providers import make_provider
from monitor.providers.anthropic import AnthropicProvider
from monitor.providers.openai import OpenAIProvider
from monitor.records import UsageRow, tokens_of
from monitor.simulator import Simulator

ROOT = Path(__file__).resolve().parents[1]
OPENAI_KEY = "sk-admin-SECRETopenai7c41e9b2d5"
ANTHROPIC_KEY = "sk-ant-admin01-SECRETanthropic3f8a61c0"
WEBHOOK_SECRET = "whsec-SECRETwebhook9b27d4"
APPRISE_TOKEN = "SECRETappriseToken58e3f1"
SECRETS = (OPENAI_KEY, ANTHROPIC_KEY, WEBHOOK_SECRET, APPRISE_TOKEN)
MARKERS = ("SECRETopenai", "SECRETanthropic", "SECRETwebhook", "SECRETapprise")
"""Distinctive parts: a secret shortened or wrapped in other text is still found."""

NOW = 1_781_092_800  # 2026-06-10T12:00:00Z
HOUR = 3600
DAY = 86400


def leaks(haystack: str | bytes) -> list[str]:
    """The secrets (or distinctive parts of them) found in `haystack`."""
    text = haystack.decode("utf-8", "replace") if isinstance(haystack, bytes) else haystack
    return [m for m in (*SECRETS, *MARKERS) if m in text]


class Receiver:
    """A loopback HTTP server that records every POST (path, headers, body); the first POST to each
    path gets a 500 (so a delivery error is stored and retried), later ones a 200."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, Message, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                first = all(path != self.path for path, _, _ in receiver.posts)
                receiver.posts.append((self.path, self.headers, body))
                self.send_response(500 if first else 200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"no" if first else b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02})
        self._thread.start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


class Records(logging.Handler):
    """Every log record of every logger, formatted with its traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass
class Run:
    """What one faulty run of the daemon left behind."""

    logs: list[str]
    results: list[PollResult]
    errors: list[str]
    ledger_bytes: bytes
    ledger_dump: str
    exposition: list[bytes]
    pages: dict[str, bytes]
    posts: list[tuple[str, Message, bytes]]
    usage_rows: int = 0
    reasons: set[str] = field(default_factory=set)


def _config_text(sim: Simulator, receiver: Receiver, db: Path) -> str:
    return f"""\
storage:
  path: {db}
providers:
  - name: openai-prod
    type: openai
    api_key: ${{SEC_OPENAI_KEY}}
    base_url: {sim.openai_base_url}
    endpoints: [completions, embeddings]
    initial_lookback: 1d
    max_attempts: 2
  - name: anthropic
    type: anthropic
    api_key: ${{file:{db.parent / "anthropic_admin_key"}}}
    base_url: {sim.anthropic_base_url}
    initial_lookback: 1d
    max_attempts: 2
budgets:
  - name: tiny-monthly
    amount_usd: 0.01
    period: month
    thresholds: [50, 100]
alerts:
  - type: webhook
    url: http://127.0.0.1:{receiver.port}/hook
    secret: ${{SEC_WEBHOOK_SECRET}}
  - type: apprise
    url: json://spend:${{SEC_APPRISE_TOKEN}}@127.0.0.1:{receiver.port}/apprise
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """Run the daemon's poll cycle three times per account through 401, 500, truncated and reset
    faults, with budget alerts refused once and then delivered; then call both adapters through
    every fault the simulator has. Everything is recorded for the tests below."""
    where = tmp_path_factory.mktemp("security")
    db = where / "spend.db"
    (where / "anthropic_admin_key").write_text(ANTHROPIC_KEY + "\n", encoding="utf-8")
    environ = {
        "SEC_OPENAI_KEY": OPENAI_KEY,
        "SEC_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "SEC_APPRISE_TOKEN": APPRISE_TOKEN,
    }
    records = Records()
    root = logging.getLogger()
    # Everything at DEBUG, whatever an earlier `main()` capped (it holds httpx at WARNING); apprise
    # keeps the WARNING level its channel sets on purpose (its DEBUG lines print target URLs).
    quiet = {name: logging.getLogger(name).level for name in ("", "httpx", "httpcore")}
    root.addHandler(records)
    for name in quiet:
        logging.getLogger(name).setLevel(logging.DEBUG)
    receiver = Receiver()
    clock = [float(NOW)]
    results: list[PollResult] = []
    errors: list[str] = []
    try:
        with Simulator(
            seed=7,
            clock=lambda: clock[0],
            start=NOW - 2 * DAY,
            openai_key=OPENAI_KEY,
            anthropic_key=ANTHROPIC_KEY,
            projects=2,
        ) as sim:
            text = _config_text(sim, receiver, db)
            (where / "config.yaml").write_text(text, encoding="utf-8")
            config = load_config(where / "config.yaml", environ=environ)
            daemon = Daemon(
                config,
                clock=lambda: clock[0],
                provider_factory=lambda cfg, _sleep: make_provider(cfg, sleep=lambda _s: None),
            )
            sim.inject("401", path="*/usage/completions")
            sim.inject("500", path="/anthropic/*", count=2)
            results += [daemon.poll_account("openai-prod"), daemon.poll_account("anthropic")]
            sim.inject("truncated", path="*/usage/embeddings", count=2)
            sim.inject("reset", path="/anthropic/*", count=2)
            results += [daemon.poll_account("openai-prod"), daemon.poll_account("anthropic")]
            results += [daemon.poll_account("openai-prod"), daemon.poll_account("anthropic")]
            clock[0] += 600  # the failed deliveries are due again
            daemon.deliver_alerts()
            exposition = [
                daemon.exposition.render()[0],
                daemon.exposition.render("application/openmetrics-text; version=1.0.0")[0],
            ]
            pages = {
                path: daemon.server.handle(path, Message())[2]
                for path in ("/", "/metrics", "/healthz", "/readyz")
            }
            daemon.stop()
            for fault in ("401", "403", "500", "502", "truncated", "reset"):
                for cfg in config.providers:
                    sim.clear_faults()
                    sim.inject(fault, path="*", count=2)
                    provider = make_provider(cfg, sleep=lambda _s: None)
                    try:
                        list(
                            provider.fetch_usage(
                                provider.endpoints[0], NOW - HOUR, NOW, observed_at=0, now=NOW
                            )
                        )
                    except ProviderError as exc:
                        errors.append(f"{type(exc).__name__}: {exc} {exc.args!r}")
                    finally:
                        provider.close()
            sim.clear_faults()
    finally:
        receiver.close()
        root.removeHandler(records)
        for name, level in quiet.items():
            logging.getLogger(name).setLevel(level)
    errors += [e.error for r in results for e in r.endpoints if e.error]
    files = sorted(where.glob("spend.db*"))
    with contextlib.closing(sqlite3.connect(db)) as conn:
        dump = "\n".join(conn.iterdump())
        usage_rows = conn.execute("SELECT COUNT(*) FROM usage").fetchone()[0]
    yield Run(
        logs=records.lines,
        results=results,
        errors=errors,
        ledger_bytes=b"".join(f.read_bytes() for f in files),
        ledger_dump=dump,
        exposition=exposition,
        pages=pages,
        posts=receiver.posts,
        usage_rows=usage_rows,
        reasons={e.reason for r in results for e in r.endpoints if not e.ok},
    )


def test_the_run_exercised_faults_writes_and_alerts(run: Run) -> None:
    """The checks below are only meaningful if secrets were in use: keys authenticated, faults
    produced errors, rows were written and both alert channels were called with their secrets."""
    assert {"auth", "server_error", "bad_response", "connection"} <= run.reasons
    assert run.usage_rows > 0
    assert 'INSERT INTO "alert_outbox"' in run.ledger_dump  # alert payloads were stored
    webhook = [(h, b) for p, h, b in run.posts if p == "/hook"]
    apprise = [h for p, h, _ in run.posts if p.startswith("/apprise")]
    assert len(webhook) >= 2 and len(apprise) >= 2  # refused once (error stored), then delivered
    headers, body = webhook[0]
    stamp, key = int(headers["X-Spend-Monitor-Timestamp"]), headers["Idempotency-Key"]
    assert headers["X-Spend-Monitor-Signature"] == sign(WEBHOOK_SECRET, stamp, key, body)
    assert base64.b64decode(apprise[0]["Authorization"].split()[1]).decode() == f"spend:{APPRISE_TOKEN}"
    assert len(run.errors) >= 12 + 3
    assert any("admin key was rejected" in line for line in run.logs)


def test_no_secret_in_any_log_record(run: Run) -> None:
    assert [line for line in run.logs if leaks(line)] == []


def test_no_secret_in_any_error_message(run: Run) -> None:
    assert [e for e in run.errors if leaks(e)] == []


def test_no_secret_in_the_ledger_file(run: Run) -> None:
    assert leaks(run.ledger_bytes) == []
    assert leaks(run.ledger_dump) == []


def test_the_ledger_keeps_api_key_ids_not_key_values(run: Run) -> None:
    ids = set(re.findall(r"'(key_[A-Za-z0-9_]+|apikey_[A-Za-z0-9_]+)'", run.ledger_dump))
    assert ids, "the simulator's api key ids should be in the ledger"
    assert not any(i.startswith("sk-") for i in ids)


def test_no_secret_in_the_exposition(run: Run) -> None:
    assert [leaks(body) for body in run.exposition] == [[], []]


def test_api_key_ids_are_not_metric_labels_unless_opted_in(run: Run) -> None:
    assert all(b"api_key=" not in body for body in run.exposition)


def test_no_secret_in_served_pages(run: Run) -> None:
    assert {path: leaks(body) for path, body in run.pages.items()} == {path: [] for path in run.pages}


def test_no_secret_in_alert_payloads(run: Run) -> None:
    assert [leaks(body) for _, _, body in run.posts] == [[]] * len(run.posts)


# -- a provider that echoes the credentials back ------------------------------------------------


class EchoServer:
    """Answers every GET with `status` and an error body quoting the request's credential headers."""

    def __init__(self, status: int) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                sent = f"{self.headers.get('Authorization')} {self.headers.get('x-api-key')}"
                body = f'{{"error": {{"message": "bad credentials: {sent} for {self.path}"}}}}'.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02})
        self._thread.start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


ADAPTERS: dict[str, Callable[[str], OpenAIProvider | AnthropicProvider]] = {
    "openai": lambda url: OpenAIProvider(account="o", api_key=OPENAI_KEY, base_url=url, max_attempts=1),
    "anthropic": lambda url: AnthropicProvider(
        account="a", api_key=ANTHROPIC_KEY, base_url=url, max_attempts=1
    ),
}


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
@pytest.mark.parametrize("kind", sorted(ADAPTERS))
def test_credentials_echoed_by_a_provider_never_reach_errors_or_logs(
    kind: str, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    server = EchoServer(status)
    adapter = ADAPTERS[kind](server.url)
    try:
        with caplog.at_level(logging.DEBUG), pytest.raises(ProviderError) as caught:
            list(adapter.fetch_usage(adapter.endpoints[0], NOW - HOUR, NOW, observed_at=0, now=NOW))
    finally:
        adapter.close()
        server.close()
    assert "bad credentials" in str(caught.value)  # the provider's message is kept ...
    assert leaks(str(caught.value)) == []  # ... without the key it quoted
    assert [r.getMessage() for r in caplog.records if leaks(r.getMessage())] == []


def test_credentials_in_a_provider_base_url_never_reach_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    httpx_log = logging.getLogger("httpx")
    level = httpx_log.level
    httpx_log.setLevel(logging.INFO)  # as any program embedding the adapters has it by default
    server = EchoServer(404)
    host = server.url.removeprefix("http://")
    path = tmp_path / "config.yaml"
    path.write_text(PROVIDER + f"    base_url: http://gateway:{APPRISE_TOKEN}@{host}/v1\n", encoding="utf-8")
    try:
        try:
            config = load_config(path, environ=SECRET_ENV)
        except ConfigError as exc:  # refusing such a URL is as good as never logging it
            assert leaks(str(exc)) == []
            return
        adapter = make_provider(config.providers[0], sleep=lambda _s: None)
        with caplog.at_level(logging.DEBUG), pytest.raises(ProviderError):
            list(adapter.fetch_usage("completions", NOW - HOUR, NOW, observed_at=0, now=NOW))
        adapter.close()
    finally:
        server.close()
        httpx_log.setLevel(level)
    assert [r.getMessage() for r in caplog.records if leaks(r.getMessage())] == []


def test_check_config_refuses_credentials_in_a_base_url_without_quoting_them(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        PROVIDER + f"    base_url: https://gateway:{APPRISE_TOKEN}@api.example.com/v1\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ=SECRET_ENV)
    assert caught.value.problems == [
        f"{path}:5: providers[0].base_url: the URL carries credentials (user:password@ before the host) "
        "(remove them; the provider key belongs in api_key)"
    ]


@pytest.mark.parametrize("kind", sorted(ADAPTERS))
def test_a_provider_client_refuses_a_base_url_with_credentials(kind: str) -> None:
    with pytest.raises(ValueError, match="must not carry user:password@") as caught:
        ADAPTERS[kind](f"https://gateway:{APPRISE_TOKEN}@api.example.com/v1")
    assert leaks(str(caught.value)) == []


# -- config errors never echo secret values -----------------------------------------------------

SECRET_ENV = {"SEC_VALUE": OPENAI_KEY}
PROVIDER = "providers:\n  - name: openai-prod\n    type: openai\n    api_key: ${SEC_VALUE}\n"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(PROVIDER + "listen: ${SEC_VALUE}\n", id="secret-in-listen"),
        pytest.param(PROVIDER + "timezone: ${SEC_VALUE}\n", id="secret-in-timezone"),
        pytest.param(PROVIDER + "    base_url: ${SEC_VALUE}\n", id="secret-in-base-url"),
        pytest.param(PROVIDER + "    poll_interval: ${file:{tmp}/secret}\n", id="secret-file-in-duration"),
        pytest.param(
            PROVIDER + "alerts:\n  - {type: apprise, url: '${SEC_VALUE}'}\n", id="secret-apprise-url"
        ),
        pytest.param(
            PROVIDER + "alerts:\n  - {type: webhook, url: 'ftp://h/${SEC_VALUE}', secret: x}\n",
            id="secret-inside-webhook-url",
        ),
        pytest.param(
            PROVIDER
            + "alerts:\n  - {type: alertmanager, url: 'http://a', headers: {X-Key: \"${SEC_VALUE}\\n\"}}\n",
            id="secret-header-with-newline",
        ),
        pytest.param(
            PROVIDER + "web:\n  basic_auth_users: {prom: '${SEC_VALUE}'}\n", id="secret-as-bcrypt-hash"
        ),
        pytest.param(
            PROVIDER + "budgets:\n  - {name: '${SEC_VALUE}', amount_usd: 1, period: day}\n"
            "  - {name: '${SEC_VALUE}', amount_usd: 1, period: day}\n",
            id="secret-as-duplicate-budget-name",
        ),
        pytest.param(
            PROVIDER + "alerts:\n  - {type: alertmanager, name: '${SEC_VALUE}', url: 'http://a'}\n"
            "  - {type: alertmanager, name: '${SEC_VALUE}', url: 'http://b'}\n",
            id="secret-as-duplicate-channel-name",
        ),
        pytest.param(
            PROVIDER
            + "budgets:\n  - {name: b, amount_usd: 1, period: day, scope: {provider: '${SEC_VALUE}'}}\n",
            id="secret-as-scope-provider",
        ),
        pytest.param(
            PROVIDER
            + "budgets:\n  - {name: b, amount_usd: 1, period: day, scope: {account: '${SEC_VALUE}'}}\n",
            id="secret-as-scope-account",
        ),
        pytest.param(
            PROVIDER + "alerts:\n  - {type: apprise, url: 'slak://T1JJ3T3L2/${SEC_VALUE}'}\n",
            id="secret-in-mistyped-apprise-url",
        ),
        pytest.param(PROVIDER + f"    api_key: {OPENAI_KEY}\n", id="literal-key-duplicated"),
        pytest.param(PROVIDER.replace("${SEC_VALUE}", f"{OPENAI_KEY}: oops"), id="literal-key-yaml-error"),
        pytest.param(PROVIDER.replace("${SEC_VALUE}", f"'{OPENAI_KEY}"), id="literal-key-unclosed-quote"),
        pytest.param(PROVIDER.replace("${SEC_VALUE}", f"[{OPENAI_KEY}]"), id="literal-key-in-a-list"),
    ],
)
def test_config_errors_never_echo_secret_values(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    text: str,
) -> None:
    for name, value in SECRET_ENV.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "secret").write_text(OPENAI_KEY, encoding="utf-8")
    path = tmp_path / "config.yaml"
    path.write_text(text.replace("{tmp}", str(tmp_path)), encoding="utf-8")
    with caplog.at_level(logging.DEBUG):
        code = main(["check-config", "--config", str(path)])
    out, err = capsys.readouterr()
    assert code == 2
    assert err.startswith(f"spend-monitor: error: {path}")
    assert leaks(out + err) == []
    assert [r.getMessage() for r in caplog.records if leaks(r.getMessage())] == []


def test_yaml_tags_in_a_config_never_run_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    witness = tmp_path / "pwned"
    path = tmp_path / "config.yaml"
    path.write_text(
        "providers:\n  - name: a\n    type: openai\n"
        f"    api_key: !!python/object/apply:os.system ['touch {witness}']\n",
        encoding="utf-8",
    )
    assert main(["check-config", "--config", str(path)]) == 2
    assert "providers[0].api_key" in capsys.readouterr().err
    assert not witness.exists()


def test_yaml_tags_in_a_price_file_never_run_code(tmp_path: Path) -> None:
    witness = tmp_path / "pwned"
    prices = tmp_path / "prices.yaml"
    prices.write_text(f"models:\n  - !!python/object/apply:os.system ['touch {witness}']\n", encoding="utf-8")
    with pytest.raises(Exception, match="could not determine a constructor"):
        PriceTable.load(extra_files=[prices])
    assert not witness.exists()


# -- the metrics endpoint: loopback by default, TLS and basic auth from the config ----------------

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def secured(cert: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[MetricsServer]:
    """A metrics server configured from a config file's web section: TLS and one bcrypt user."""
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    path = tmp_path_factory.mktemp("web") / "config.yaml"
    path.write_text(
        PROVIDER + f"web:\n  tls_cert_file: {cert[0]}\n  tls_key_file: {cert[1]}\n"
        f"  basic_auth_users: {{prometheus: '{hashed}'}}\n",
        encoding="utf-8",
    )
    web = load_config(path, environ=SECRET_ENV).web
    exposition = Exposition()
    exposition.update(
        LedgerView(), PollStats([AccountRef("openai", "openai-prod", ())]), version="t", now=1.0
    )
    server = MetricsServer(
        "127.0.0.1:0",
        exposition,
        health=lambda: (True, "ok"),
        ready=lambda: (True, "ready"),
        tls_cert_file=web.tls_cert_file,
        tls_key_file=web.tls_key_file,
        basic_auth_users=web.basic_auth_users,
    )
    server.start()
    yield server
    server.stop()


def client(cert: Path) -> httpx.Client:
    return httpx.Client(verify=ssl.create_default_context(cafile=str(cert)), trust_env=False, timeout=5)


def test_the_right_password_over_tls_gets_the_metrics(
    secured: MetricsServer, cert: tuple[Path, Path]
) -> None:
    with client(cert[0]) as c:
        response = c.get(f"{secured.url}/metrics", auth=("prometheus", PASSWORD))
    assert secured.url.startswith("https://")
    assert response.status_code == 200
    assert b"spend_monitor_build_info" in response.content


@pytest.mark.parametrize(
    "auth",
    [
        pytest.param(("prometheus", PASSWORD + "x"), id="wrong-password"),
        pytest.param(("grafana", PASSWORD), id="unknown-user"),
        pytest.param(("prometheus", ""), id="empty-password"),
        pytest.param(None, id="no-credentials"),
    ],
)
def test_anything_but_the_right_password_is_401(
    secured: MetricsServer, cert: tuple[Path, Path], auth: tuple[str, str] | None
) -> None:
    with client(cert[0]) as c:
        response = c.get(f"{secured.url}/metrics", auth=auth)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic ")
    assert b"spend_monitor" not in response.content
    assert PASSWORD.encode() not in response.content


def test_plain_http_to_the_tls_port_gets_nothing(secured: MetricsServer) -> None:
    with pytest.raises(httpx.TransportError):
        httpx.get(
            f"http://127.0.0.1:{secured.port}/metrics",
            auth=("prometheus", PASSWORD),
            trust_env=False,
            timeout=5,
        )


def test_a_client_that_does_not_trust_the_certificate_is_refused(secured: MetricsServer) -> None:
    untrusting = ssl.create_default_context()  # the system store: the self-signed cert is not in it
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{secured.url}/metrics", verify=untrusting, trust_env=False, timeout=5)


def test_probes_stay_open_but_reveal_no_metrics(secured: MetricsServer, cert: tuple[Path, Path]) -> None:
    with client(cert[0]) as c:
        health, ready, landing = (c.get(f"{secured.url}{p}") for p in ("/healthz", "/readyz", "/"))
    assert (health.status_code, ready.status_code, landing.status_code) == (200, 200, 401)
    assert b"spend_monitor" not in health.content + ready.content


def test_credentials_never_reach_the_server_log(
    secured: MetricsServer, cert: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG), client(cert[0]) as c:
        c.get(f"{secured.url}/metrics", auth=("prometheus", PASSWORD))
        c.get(f"{secured.url}/metrics", auth=("prometheus", "wrong-" + PASSWORD))
    token = base64.b64encode(f"prometheus:{PASSWORD}".encode()).decode()
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert PASSWORD not in text
    assert token not in text


def test_the_default_listen_address_is_loopback(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(PROVIDER, encoding="utf-8")
    config: Config = load_config(path, environ=SECRET_ENV)
    assert config.listen.rsplit(":", 1)[0] == "127.0.0.1"


def test_listening_on_every_interface_logs_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    server = MetricsServer("0.0.0.0:0", Exposition(), health=lambda: (True, ""), ready=lambda: (True, ""))
    with caplog.at_level(logging.WARNING, logger="monitor.metrics"):
        server.start()
    server.stop()
    assert any("all interfaces" in r.getMessage() for r in caplog.records)


# -- the container: non-root, read-only root, data on a volume ----------------------------------


def _final_stage(dockerfile: str) -> list[str]:
    """The instructions of the last build stage (continuation lines joined)."""
    text = re.sub(r"\\\n\s*", " ", dockerfile)
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    last_from = max(i for i, line in enumerate(lines) if line.upper().startswith("FROM "))
    return lines[last_from:]


def test_the_image_runs_as_a_non_root_user() -> None:
    stage = _final_stage((ROOT / "Dockerfile").read_text(encoding="utf-8"))
    users = [line.split(None, 1)[1] for line in stage if line.upper().startswith("USER ")]
    assert users, "the final stage sets no USER, so it runs as root"
    user = users[-1].split(":")[0]
    assert user not in ("0", "root")


def test_the_image_keeps_its_data_on_a_data_volume() -> None:
    stage = _final_stage((ROOT / "Dockerfile").read_text(encoding="utf-8"))
    volumes = [line.split(None, 1)[1] for line in stage if line.upper().startswith("VOLUME ")]
    assert any("/data" in v.replace('"', " ").replace("[", " ").split() for v in volumes)


def test_the_image_bakes_in_no_secrets() -> None:
    stage = _final_stage((ROOT / "Dockerfile").read_text(encoding="utf-8"))
    env_and_args = [line for line in stage if line.upper().startswith(("ENV ", "ARG "))]
    assert [line for line in env_and_args if re.search(r"(?i)(key|secret|token|password)\s*=", line)] == []


def test_compose_runs_the_monitor_with_a_read_only_root() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    monitor = compose["services"]["monitor"]
    assert monitor["read_only"] is True
    assert any(str(v).split(":")[1] == "/data" for v in monitor["volumes"])


def test_compose_passes_the_monitor_no_literal_secrets() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    environment = compose["services"]["monitor"].get("environment") or {}
    items = (
        environment.items() if isinstance(environment, dict) else (e.partition("=")[::2] for e in environment)
    )
    assert [
        k for k, v in items if re.search(r"(?i)key|secret|token|password", k) and v and "${" not in str(v)
    ] == []


def test_provider_text_cannot_forge_log_lines(caplog: pytest.LogCaptureFixture) -> None:
    row = UsageRow(
        provider="openai",
        account="openai-prod",
        endpoint="completions",
        bucket_start=NOW - NOW % HOUR,
        bucket_width=HOUR,
        model="gpt-4.1",
        service_tier="flex\n2026-06-10 12:00:00 ERROR monitor.daemon: forged line",
        tokens=tokens_of(input=10),
    )
    with caplog.at_level(logging.DEBUG):
        Pricer(PriceTable.bundled()).price(row)
    assert caplog.records, "an unknown tier is logged once"
    assert [r.getMessage() for r in caplog.records if "\n" in r.getMessage()] == []
