"""Builders shared by the reconciliation tests (no tests here): a simulated organisation fetched over
real loopback HTTP through the real provider adapters, priced by the monitor's own price table and
written to a real ledger file with its billed costs.

A populated ledger is built once per (price table, seed) per test process and copied into each
test's tmp_path, so the tests stay fast and never share a file.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from monitor.pricing import Pricer, PriceTable
from monitor.providers.anthropic import AnthropicProvider
from monitor.providers.openai import OpenAIProvider
from monitor.simulator import SEEDS_ANTHROPIC_MODELS, SEEDS_OPENAI_MODELS, Simulator
from monitor.store import Ledger
from monitor.store.billed import BilledStore, days_between

DAY = 86400
NOW = 1795132800 + 10 * DAY + 5 * 3600 + 1234  # 2026-11-30T05:20:34Z, inside an open hour
TODAY = NOW // DAY * DAY
START = TODAY - 3 * DAY  # 2026-11-27: three complete UTC days and a partial one
SEED = 7
OPENAI = "openai-sim"
ANTHROPIC = "anthropic-sim"
OPENAI_KEY = "sk-admin-simulated-openai-0123456789"
ANTHROPIC_KEY = "sk-ant-admin01-simulated-anthropic-0123456789"

_BUILT: dict[tuple[str, int], Path] = {}
_WORKDIR = Path(tempfile.mkdtemp(prefix="drift-support-"))
atexit.register(shutil.rmtree, _WORKDIR, ignore_errors=True)


def simulator(seed: int = SEED) -> Simulator:
    """The organisation's providers (not started: call start() or use `with`), with the seeds' traffic:
    the drift tests change gpt-4.1's price, which needs gpt-4.1 to carry a large share of the spend."""
    return Simulator(
        seed=seed,
        clock=lambda: NOW,
        openai_key=OPENAI_KEY,
        anthropic_key=ANTHROPIC_KEY,
        openai_models=SEEDS_OPENAI_MODELS,
        anthropic_models=SEEDS_ANTHROPIC_MODELS,
    )


def providers(sim: Simulator) -> list[OpenAIProvider | AnthropicProvider]:
    """The real adapters pointed at the running simulator."""
    return [
        OpenAIProvider(
            account=OPENAI,
            api_key=OPENAI_KEY,
            base_url=sim.openai_base_url,
            bucket_width="1h",
            sleep=lambda _s: None,
        ),
        AnthropicProvider(
            account=ANTHROPIC,
            api_key=ANTHROPIC_KEY,
            base_url=sim.anthropic_base_url,
            bucket_width="1h",
            sleep=lambda _s: None,
        ),
    ]


def poll_into(
    sim: Simulator, ledger: Ledger, table: PriceTable, *, start: int = START, now: int = NOW
) -> None:
    """Fetch usage and billed costs of [start, now) from the running simulator into the ledger."""
    pricer = Pricer(table)
    billed = BilledStore(ledger)
    for provider in providers(sim):
        try:
            for endpoint in provider.endpoints:
                for page in provider.fetch_usage(endpoint, start, now, observed_at=now * 1000, now=now):
                    ledger.write_page(page, pricer.price_rows(page.rows))
            costs = [line for page in provider.fetch_costs(start, now, now=now) for line in page]
            billed.write_billed(
                provider.account, costs, observed_at=now * 1000, days=days_between(start, now)
            )
        finally:
            provider.close()


def populated_ledger(tmp_path: Path, table: PriceTable | None = None, *, seed: int = SEED) -> Path:
    """A copy, in tmp_path, of a ledger holding the simulated organisation's usage since START priced
    with `table` (default: the bundled one) and its billed costs."""
    table = table or PriceTable.bundled()
    key = (table.version, seed)
    if key not in _BUILT:
        path = _WORKDIR / f"ledger-{len(_BUILT)}.db"
        with simulator(seed) as sim, Ledger.open(path) as ledger:
            poll_into(sim, ledger, table)
        _BUILT[key] = path
    target = tmp_path / "spend.db"
    shutil.copyfile(_BUILT[key], target)
    return target


def gpt41_input_override(effective_from: str, input_usd: str = "2.20") -> list[Mapping[str, Any]]:
    """A `pricing.overrides` entry giving gpt-4.1 a different standard input price from a date on
    (the rest of its sheet as bundled): the monitor's table then disagrees with the provider's bill."""
    return [
        {
            "provider": "openai",
            "model": "gpt-4.1",
            "cheaper": "gpt-4.1-mini",
            "prices": [
                {
                    "effective_from": effective_from,
                    "source": "test: the monitor's table disagrees with the bill",
                    "standard": {
                        "input": Decimal(input_usd),
                        "cached_input": Decimal("0.50"),
                        "output": Decimal(8),
                    },
                    "batch": {"input": Decimal(1), "output": Decimal(4)},
                    "priority": {
                        "input": Decimal("3.50"),
                        "cached_input": Decimal("0.875"),
                        "output": Decimal(14),
                    },
                    "fine_tuned": {
                        "standard": {
                            "input": Decimal(3),
                            "cached_input": Decimal("0.75"),
                            "output": Decimal(12),
                        },
                        "batch": {
                            "input": Decimal("1.50"),
                            "cached_input": Decimal("0.50"),
                            "output": Decimal(6),
                        },
                    },
                }
            ],
        }
    ]
