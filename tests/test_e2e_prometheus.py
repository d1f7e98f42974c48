"""End to end: the daemon on the simulator, scraped by a real Prometheus, and every PromQL
expression of the shipped dashboards and alert rules run through Prometheus' HTTP API.

The daemon polls the simulated channels too (a relay, OpenRouter, Azure OpenAI), so the overview's
channel panels have data. The scenario is a bad day on purpose, so that every alert rule's condition holds and its
expression returns a series: budgets overspent, one account with a rejected key, a price in the
monitor's table 10% off the bill (drift), token kinds without a price (unpriced), an alert
channel that is down (outbox stuck), a series limit that folds series, and a second replica that
is down.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from monitor.simulator import Simulator
from tests.channel_support import azure_entry, channel_env, openrouter_entry, relay_entry
from tests.daemon_support import free_port, key_env, spawn, wait_ready, write_config
from tests.promql import extract_promql_expressions

pytestmark = pytest.mark.e2e

BAD_DAY = """
  - name: openai-stale
    type: openai
    api_key: sk-admin-not-the-right-key
    base_url: "{openai_url}"
    poll_interval: 10s
    initial_lookback: 1d
pricing:
  overrides:
    - model: gpt-4.1-mini
      provider: openai
      prices:
        - effective_from: 2025-04-14
          source: "e2e test: a stale price 10% above the list price"
          standard: {{input: 0.44, cached_input: 0.11, output: 1.76}}
          batch: {{input: 0.22, output: 0.88}}
          priority: {{input: 0.77, cached_input: 0.1925, output: 3.08}}
budgets:
  - name: overspent-month
    amount_usd: 1
    period: month
    thresholds: [50, 100]
    forecast_thresholds: [100]
alerts:
  - type: webhook
    url: http://127.0.0.1:{dead_port}/hook
    secret: e2e-webhook-secret
metrics:
  series_limit: 1400  # folds projects, models, keys and users: the fixed series of six accounts take ~500
  include_api_key: true
  include_user: true
"""

PROMETHEUS_CONFIG = """
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: llm-spend-monitor
    static_configs:
      - targets: ["127.0.0.1:{port}", "127.0.0.1:{dead_port}"]
"""


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: run `make system-deps` (Debian package prometheus)")
    return path


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(seed=3, extra_token_types=True) as s:
        yield s


@pytest.fixture
def daemon_url(tmp_path: Path, sim: Simulator) -> Iterator[str]:
    port, dead_port = free_port(), free_port()
    channels = (
        relay_entry(sim, lookback="2d")
        + openrouter_entry(sim, lookback="2d")
        + azure_entry(sim, lookback="2d")
    )
    extra = channels.rstrip("\n") + BAD_DAY.format(openai_url=sim.openai_base_url, dead_port=dead_port)
    config = write_config(
        tmp_path / "c.yaml",
        sim,
        tmp_path / "spend.db",
        listen=f"127.0.0.1:{port}",
        lookback="2d",
        extra=extra,
    )
    text = config.read_text().replace("poll_interval: 60s", "poll_interval: 10s")
    config.write_text(text)
    proc = spawn(
        ["run", "--config", str(config)], {**key_env(sim), **channel_env(sim)}, tmp_path / "daemon.log"
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}", timeout=120)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@pytest.fixture
def prometheus(tmp_path: Path, daemon_url: str) -> Iterator[str]:
    port = free_port()
    target_port = daemon_url.rsplit(":", 1)[1]
    config = tmp_path / "prometheus.yml"
    config.write_text(PROMETHEUS_CONFIG.format(port=target_port, dead_port=free_port()))
    with (tmp_path / "prometheus.log").open("wb") as log:
        proc = subprocess.Popen(
            [
                _binary("prometheus"),
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/-/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail(
                "Prometheus did not become ready: " + (tmp_path / "prometheus.log").read_text()[-2000:]
            )
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def _query(prometheus: str, expr: str) -> dict[str, object]:
    response = httpx.get(f"{prometheus}/api/v1/query", params={"query": expr}, timeout=10)
    body: dict[str, object] = response.json()
    return body


def _series(prometheus: str, expr: str) -> list[object]:
    body = _query(prometheus, expr)
    assert body.get("status") == "success", f"{expr}: {body}"
    data = body["data"]
    assert isinstance(data, dict)
    result = data["result"]
    assert isinstance(result, list)
    return result


def _wait_until(prometheus: str, expr: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _series(prometheus, expr):
            return
        time.sleep(1)
    raise AssertionError(f"no series for {expr} within {timeout}s")


def test_every_dashboard_and_alert_expression_returns_a_series(prometheus: str) -> None:
    # two scrapes of a daemon that has polled the failing account at least twice
    _wait_until(prometheus, "count_over_time(spend_monitor_build_info[1m]) >= 2")
    _wait_until(prometheus, "sum(increase(spend_monitor_poll_errors_total[15m])) > 0")
    _wait_until(prometheus, "increase(llm_unpriced_tokens_total[1h]) > 0")
    _wait_until(prometheus, "llm_cost_drift_ratio")
    _wait_until(prometheus, 'llm_account_balance_usd{provider="newapi"}')
    expressions = extract_promql_expressions()
    assert len(expressions) > 40
    empty = [f"{where}: {expr}" for where, expr in expressions if not _series(prometheus, expr)]
    assert not empty, "expressions with no series:\n" + "\n".join(empty)


def test_exposition_passes_promtool_check_metrics(daemon_url: str) -> None:
    body = httpx.get(f"{daemon_url}/metrics", timeout=10).content
    result = subprocess.run(
        [_binary("promtool"), "check", "metrics"], input=body, capture_output=True, check=False
    )
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
