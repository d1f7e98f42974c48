"""The models of the simulated traffic: today's defaults (December 2026), the seeds' of before, the
benchmarks' ten, made-up previews no price source lists, and the embedding model."""

from __future__ import annotations

DEFAULT_OPENAI_MODELS = (
    "gpt-6.1-sol",
    "gpt-6-luna",
    "gpt-4.1-2025-04-14",
    "gpt-4.1-mini-2025-04-14",
    "ft:gpt-4.1-mini-2025-04-14:acme::sim123",
)
"""Today's traffic (December 2026): GPT-6.1 Sol and GPT-6 Luna with cache writes on the default, fast and
batch tiers, and some GPT-4.1 (with a fine-tune) as in the seeds' examples."""
DEFAULT_ANTHROPIC_MODELS = (
    "claude-sonnet-5-5",
    "claude-opus-5-5",
    "claude-haiku-4-5-20251001",
)
"""Claude Sonnet and Opus 5.5 (5-minute and 1-hour cache writes, Opus in fast mode, some US inference)
and Claude Haiku 4.5."""
PREVIEW_OPENAI_MODEL = "gpt-7-preview"
PREVIEW_ANTHROPIC_MODEL = "claude-sonnet-6-preview"
"""Models no price source lists (previews made up for the simulator): the bill alone prices them. Add
them to the traffic with `openai_models=(*DEFAULT_OPENAI_MODELS, PREVIEW_OPENAI_MODEL)` and alike."""
SEEDS_OPENAI_MODELS = (
    "gpt-4.1-2025-04-14",
    "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-nano-2025-04-14",
    "ft:gpt-4.1-mini-2025-04-14:acme::sim123",
)
SEEDS_ANTHROPIC_MODELS = (
    "claude-sonnet-4-5-20250929",
    "claude-haiku-4-5-20251001",
    "claude-opus-4-1-20250805",
)
"""The default traffic before December 2026, for tests and benchmarks that compare with older figures."""
BENCHMARK_OPENAI_MODELS = (
    *SEEDS_OPENAI_MODELS[:3],
    "gpt-4o-2024-08-06",
    "gpt-4o-mini-2024-07-18",
    "o3-2025-04-16",
    "o4-mini-2025-04-16",
    "gpt-5-2025-08-07",
    "gpt-5-mini-2025-08-07",
    "gpt-5-nano-2025-08-07",
)
"""Ten priced OpenAI model names, for `openai_models=` in benchmarks."""
EMBEDDING_MODEL = "text-embedding-3-small"
