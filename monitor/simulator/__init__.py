"""A realistic simulator of OpenAI's and Anthropic's organization usage and cost APIs, on loopback HTTP.

It is the "provider": it never imports the monitor's pricing, store or daemon, and carries its own
price sheet. Used by `spend-monitor demo`, the integration and chaos tests and the benchmarks.

    with Simulator(seed=1, clock=lambda: now) as sim:
        client.get(f"{sim.openai_base_url}/organization/usage/completions", ...)
        sim.ground_truth("openai", start, end).cost_pico
"""

from monitor.simulator.core import Simulator
from monitor.simulator.prices import PriceKey
from monitor.simulator.server import FAULTS, RequestRecord
from monitor.simulator.traffic_models import (
    BENCHMARK_OPENAI_MODELS,
    DEFAULT_ANTHROPIC_MODELS,
    DEFAULT_OPENAI_MODELS,
    EMBEDDING_MODEL,
    PREVIEW_ANTHROPIC_MODEL,
    PREVIEW_OPENAI_MODEL,
    SEEDS_ANTHROPIC_MODELS,
    SEEDS_OPENAI_MODELS,
)
from monitor.simulator.truth import Billed, GroundTruth, Totals

__all__ = [
    "BENCHMARK_OPENAI_MODELS",
    "DEFAULT_ANTHROPIC_MODELS",
    "DEFAULT_OPENAI_MODELS",
    "EMBEDDING_MODEL",
    "FAULTS",
    "PREVIEW_ANTHROPIC_MODEL",
    "PREVIEW_OPENAI_MODEL",
    "SEEDS_ANTHROPIC_MODELS",
    "SEEDS_OPENAI_MODELS",
    "Billed",
    "GroundTruth",
    "PriceKey",
    "RequestRecord",
    "Simulator",
    "Totals",
]
