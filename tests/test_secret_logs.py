"""Secrets stay out of every log line, from any library: a real daemon at DEBUG whose alerts go to a
signed webhook and to an apprise `json://` URL with a token in its path (sent by apprise through
requests and urllib3, which logs request paths at DEBUG), with an OpenAI key containing a comma;
and check-config refuses a mistyped apprise scheme without printing the URL's tokens."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_alerts_support import Receiver

from monitor.cli import main
from monitor.redaction import redact
from monitor.simulator import Simulator
from tests.daemon_support import free_port, spawn, wait_ready, write_config

OPENAI_KEY = "sk-admin-SECRETopenai51c2,TAILSECRETc0mma77"
ANTHROPIC_KEY = "sk-ant-admin01-SECRETanthropic8e0d"
WEBHOOK_SECRET = "whsec-SECRETwebhook4411"
APPRISE_TOKEN = "SECRETappriseToken93a7"
SECRETS = (OPENAI_KEY, ANTHROPIC_KEY, WEBHOOK_SECRET, APPRISE_TOKEN, "TAILSECRETc0mma77", "SECRETopenai51c2")


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(seed=2, openai_key=OPENAI_KEY, anthropic_key=ANTHROPIC_KEY) as s:
        yield s


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def test_no_secret_in_any_log_line_at_debug(tmp_path: Path, sim: Simulator, receiver: Receiver) -> None:
    (tmp_path / "openai.key").write_text(OPENAI_KEY + "\n", encoding="utf-8")
    port = free_port()
    alerts = f"""
alerts:
  - type: webhook
    url: {receiver.url}/hook
    secret: ${{WEBHOOK_SECRET}}
  - type: apprise
    url: json://127.0.0.1:{receiver.port}/apprise/${{APPRISE_TOKEN}}
budgets:
  - {{name: tiny, amount_usd: 0.01, period: month, thresholds: [50, 100]}}
"""
    config = write_config(
        tmp_path / "c.yaml", sim, tmp_path / "spend.db", listen=f"127.0.0.1:{port}", extra=alerts
    )
    config.write_text(config.read_text().replace("${TEST_OPENAI_KEY}", f"${{file:{tmp_path}/openai.key}}"))
    env = {
        "TEST_ANTHROPIC_KEY": ANTHROPIC_KEY,
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "APPRISE_TOKEN": APPRISE_TOKEN,
    }
    proc = spawn(["--log-level", "DEBUG", "run", "--config", str(config)], env, tmp_path / "d.log")
    try:
        wait_ready(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not {"/hook", f"/apprise/{APPRISE_TOKEN}"} <= {
            r.path for r in receiver.requests
        }:
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    log = (tmp_path / "d.log").read_text()
    assert {r.path for r in receiver.requests} >= {"/hook", f"/apprise/{APPRISE_TOKEN}"}
    assert "urllib3" in log and "/apprise/[redacted]" in log  # urllib3 did log the request, redacted
    assert [s for s in SECRETS if s in log] == []


def test_a_key_with_a_comma_does_not_leak_its_tail_when_a_provider_echoes_part_of_it() -> None:
    echoed = "Incorrect API key provided: sk-admi***c2,TAILSECRETc0mma77. Check it."
    assert "TAILSECRET" not in redact(echoed, [OPENAI_KEY])
    assert "TAILSECRET" not in redact("Bearer sk-admin-SECRETopenai51c2,TAILSECRETc0mma77")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        pytest.param(
            f"slak://T1JJ3T3L2/A1BRTD4JD/{APPRISE_TOKEN}",
            "alerts[0].url: the value has a scheme apprise does not know ('slak') (did you mean 'slack://'?",
            id="mistyped-scheme",
        ),
        pytest.param(
            f"slack://{APPRISE_TOKEN}/only-two",
            "alerts[0].url: apprise cannot use the value: its tokens or form do not fit the 'slack' service",
            id="tokens-that-do-not-fit",
        ),
    ],
)
def test_check_config_refuses_a_bad_apprise_url_without_its_tokens(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    url: str,
    problem: str,
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        f"providers:\n  - {{name: o, type: openai, api_key: x}}\nalerts:\n  - type: apprise\n    url: {url}\n",
        encoding="utf-8",
    )
    assert main(["check-config", "--config", str(path)]) == 2
    _, err = capsys.readouterr()
    assert f"{path}:5: {problem}" in err
    shown = err + caplog.text
    assert "T1JJ3T3L2" not in shown and APPRISE_TOKEN not in shown
