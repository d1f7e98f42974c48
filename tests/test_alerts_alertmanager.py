"""End to end: a budget alert through the outbox into a real Alertmanager (Debian's prometheus-alertmanager).

The binary is installed by `make system-deps`; without it these tests fail (never skip).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from test_alerts_support import free_port
from test_budgets_support import budget, open_stores, write

from monitor.alerts import AlertmanagerNotifier, OutboxWorker
from monitor.budgets import BudgetEngine

pytestmark = pytest.mark.e2e

BINARY = "prometheus-alertmanager"
AM_CONFIG = """\
route:
  receiver: blackhole
  group_wait: 1h
receivers:
  - name: blackhole
"""


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which(BINARY) or (f"/usr/bin/{BINARY}" if Path(f"/usr/bin/{BINARY}").exists() else None)
    if binary is None:
        pytest.fail(f"{BINARY} is not installed: run make system-deps")
    workdir = tmp_path_factory.mktemp("alertmanager")
    (workdir / "alertmanager.yml").write_text(AM_CONFIG)
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={workdir / 'alertmanager.yml'}",
            f"--storage.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"alertmanager exited: {process.stderr.read().decode() if process.stderr else ''}"
                )
            try:
                if httpx.get(url + "/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("alertmanager did not become ready within 20 s")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()


def alerts(url: str, **filters: str) -> list[dict[str, Any]]:
    params = [("filter", f'{k}="{v}"') for k, v in filters.items()]
    params += [("active", "true"), ("silenced", "true"), ("inhibited", "true"), ("unprocessed", "true")]
    response = httpx.get(url + "/api/v2/alerts", params=params, timeout=5)
    response.raise_for_status()
    result: list[dict[str, Any]] = response.json()
    return result


def test_budget_alert_reaches_alertmanager_and_resolves(alertmanager: str, tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)  # Alertmanager judges startsAt/endsAt by its own clock
    ledger, store = open_stores(tmp_path / "l.db")
    at = now - timedelta(minutes=5)
    write(ledger, at, "85")
    engine = BudgetEngine([budget("e2e-monthly", thresholds=(80,))], ["am"], ZoneInfo("UTC"))
    statuses = engine.evaluate(ledger, store, now)
    worker = OutboxWorker(store, {"am": AlertmanagerNotifier("am", alertmanager, timeout=5)})
    assert worker.drain(now).counts == {("am", "sent"): 1}

    (alert,) = alerts(alertmanager, budget="e2e-monthly")
    assert {k: alert["labels"][k] for k in ("alertname", "budget", "threshold", "kind", "severity")} == {
        "alertname": "LLMBudgetThreshold",
        "budget": "e2e-monthly",
        "threshold": "80",
        "kind": "actual",
        "severity": "warning",
    }
    assert alert["status"]["state"] == "active" and alert["annotations"]["spend"] == "85"

    assert worker.repost_active(statuses, now + timedelta(seconds=1)) == 0  # re-post: still one alert
    assert len(alerts(alertmanager, budget="e2e-monthly")) == 1

    write(ledger, at, "10", observed=now + timedelta(seconds=1))  # a refund: back under 80%
    engine.evaluate(ledger, store, now + timedelta(seconds=2))
    assert worker.drain(now + timedelta(seconds=2)).counts == {("am", "sent"): 1}
    deadline = time.monotonic() + 10
    while alerts(alertmanager, budget="e2e-monthly") and time.monotonic() < deadline:
        time.sleep(0.2)  # the API lists resolved alerts no more
    assert alerts(alertmanager, budget="e2e-monthly") == []
