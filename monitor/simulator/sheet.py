"""The simulated providers' published list prices (USD per 1M tokens), release dates and geo multipliers.

The simulator is the "provider", so it must not use `monitor.pricing`: it carries the list prices of
the models it can generate, from the providers' pages of the seeds' era (shared/pricing-facts.md,
shared/pricing/reference-prices.yaml) and of December 2026 (developers.openai.com for GPT-6.1 Sol and
GPT-6 Luna, platform.claude.com for Claude Sonnet and Opus 5.5; cross-checked with genai-prices 0.2.3
and LiteLLM 1.110.2).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from monitor.simulator.prices import (
    LONG_CONTEXT,
    OPENAI_LONG,
    SHORT_CONTEXT,
    WEB_SEARCH,
    PriceKey,
    base_model,
)

_Prices = tuple[str, ...]
"""OpenAI: (input, cached input, output) or, where a cache-write price is published, (..., cache write)."""

# OpenAI chat models: standard and fast (Priority until 2026-07-30) prices, or None.
_OPENAI: dict[str, tuple[_Prices, _Prices | None]] = {
    "gpt-4.1": (("2", "0.5", "8"), ("3.5", "0.875", "14")),
    "gpt-4.1-mini": (("0.4", "0.1", "1.6"), ("0.7", "0.175", "2.8")),
    "gpt-4.1-nano": (("0.1", "0.025", "0.4"), ("0.2", "0.05", "0.8")),
    "gpt-4o": (("2.5", "1.25", "10"), ("4.25", "2.125", "17")),
    "gpt-4o-mini": (("0.15", "0.075", "0.6"), ("0.25", "0.125", "1")),
    "o3": (("2", "0.5", "8"), ("3.5", "0.875", "14")),
    "o4-mini": (("1.1", "0.275", "4.4"), ("2", "0.5", "8")),
    "gpt-5": (("1.25", "0.125", "10"), ("2.5", "0.25", "20")),
    "gpt-5-mini": (("0.25", "0.025", "2"), ("0.45", "0.045", "3.6")),
    "gpt-5-nano": (("0.05", "0.005", "0.4"), None),
    # December 2026: 30-minute cache writes at 1.25x input; fast is 2x standard.
    "gpt-6.1-sol": (("2", "0.1", "10", "2.5"), ("4", "0.2", "20", "5")),
    "gpt-6-luna": (("0.1", "0.01", "0.5", "0.125"), ("0.2", "0.02", "1", "0.25")),
    # A preview no price source lists (made up): only the bill says what it costs.
    "gpt-7-preview": (("3", "0.3", "18", "3.75"), ("6", "0.6", "36", "7.5")),
}
_OPENAI_LONG_FACTORS = (Decimal(2), Decimal(2), Decimal("1.5"), Decimal(2))
"""GPT-5.4 and later above 272K prompt tokens: 2x input and cache prices, 1.5x output (whole request)."""
_OPENAI_WITH_LONG = frozenset({"gpt-6.1-sol", "gpt-6-luna"})
_OPENAI_FINE_TUNED: dict[str, _Prices] = {
    "gpt-4.1": ("3", "0.75", "12"),
    "gpt-4.1-mini": ("0.8", "0.2", "3.2"),
    "gpt-4.1-nano": ("0.2", "0.05", "0.8"),
}
_EMBEDDINGS: dict[str, str] = {"text-embedding-3-small": "0.02", "text-embedding-3-large": "0.13"}
# Anthropic: (input, output, cache read, cache write 5m, cache write 1h); second: above 200k tokens.
_Claude = tuple[str, str, str, str, str]
_SONNET: tuple[_Claude, _Claude | None] = (("3", "15", "0.3", "3.75", "6"), ("6", "22.5", "0.6", "7.5", "12"))
_OPUS: tuple[_Claude, _Claude | None] = (("15", "75", "1.5", "18.75", "30"), None)
_SONNET_5_5: _Claude = ("2", "10", "0.2", "2.5", "4")
_OPUS_5_5: _Claude = ("4", "20", "0.2", "5", "8")
_ANTHROPIC: dict[str, tuple[_Claude, _Claude | None]] = {
    "claude-sonnet-4-5": _SONNET,
    "claude-sonnet-4": _SONNET,
    "claude-haiku-4-5": (("1", "5", "0.1", "1.25", "2"), None),
    "claude-opus-4-1": _OPUS,
    "claude-opus-4": _OPUS,
    "claude-sonnet-5-5": (_SONNET_5_5, _SONNET_5_5),  # one price across the 1M window
    "claude-opus-5-5": (_OPUS_5_5, _OPUS_5_5),
    # Claude Fable 5.2 (platform.claude.com: 8 / 40, cache reads 0.025x).
    "claude-fable-5-2": (("8", "40", "0.2", "10", "16"), ("8", "40", "0.2", "10", "16")),
    # Claude 3 Sonnet (retired; genai-prices 0.2.3: 3 / 15, no batch price): not in the bundled table,
    # so tests use it as a model only the community source prices.
    "claude-3-sonnet": (("3", "15", "0.3", "3.75", "6"), None),
    # A preview no price source lists (made up): only the cost report says what it costs.
    "claude-sonnet-6-preview": (("2.5", "12.5", "0.125", "3.125", "5"), ("5", "18.75", "0.25", "6.25", "10")),
}
_NO_BATCH = frozenset({"claude-3-sonnet"})
"""Models the simulated provider serves without the Batch API (no batch traffic, no batch price)."""
_FAST_MODE: dict[str, Decimal] = {"claude-opus-5-5": Decimal(2)}
"""Anthropic fast mode (speed "fast"): a multiple of every standard price, cache prices included."""
_CLAUDE_KINDS = ("input", "output", "cached_input", "cache_write", "cache_write_1h")

GEO_FACTORS: dict[str, dict[str, Decimal]] = {
    "claude-sonnet-5-5": {"us": Decimal("1.1")},
    "claude-opus-5-5": {"us": Decimal("1.1")},
}
"""inference_geo multipliers of token prices (Anthropic: "us" inference costs 1.1x on Opus 4.6+)."""
RELEASED: dict[str, date] = {
    "gpt-6.1-sol": date(2026, 9, 29),
    "gpt-6-luna": date(2026, 9, 22),
    "claude-sonnet-5-5": date(2026, 9, 28),
    "claude-opus-5-5": date(2026, 9, 22),
}
"""No usage of these models is generated before their release day."""
CHANGES: dict[str, tuple[date, str, str]] = {"claude-sonnet-5-5": (date(2026, 10, 7), "cached_input", "0.1")}
"""Dated price changes: model -> (day, token type, new standard price; batch follows at 50%)."""
WEB_SEARCH_USD_PER_1M = Decimal(10_000)  # $10 per 1,000 searches


def released(model: str) -> int:
    """Unix second from which the model (any reported name of it) has usage; 0 when always."""
    day = RELEASED.get(base_model(model)[0])
    return 0 if day is None else int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def known_models() -> list[str]:
    """Base names the sheet can price (any dated snapshot or `ft:` name of the GPT-4.1 family works too)."""
    return sorted([*_OPENAI, *_EMBEDDINGS, *_ANTHROPIC])


def publishes_cache_writes(model: str) -> bool:
    """Whether OpenAI publishes a cache-write price for the model (its traffic then has cache writes)."""
    prices = _OPENAI.get(base_model(model)[0])
    return prices is not None and len(prices[0]) == 4


def _chat_entries(model: str) -> dict[PriceKey, Decimal]:
    base, fine_tuned = base_model(model)
    if fine_tuned and base in _OPENAI_FINE_TUNED:
        standard, fast = _OPENAI_FINE_TUNED[base], None
    elif not fine_tuned and base in _OPENAI:
        standard, fast = _OPENAI[base]
    else:
        raise ValueError(f"the simulator has no price for OpenAI model {model!r}; known: {known_models()}")
    tiers = {"standard": [Decimal(p) for p in standard], "batch": [Decimal(p) / 2 for p in standard]}
    if fast:
        tiers["fast"] = [Decimal(p) for p in fast]
    entries: dict[PriceKey, Decimal] = {}
    windows = ("", OPENAI_LONG) if base in _OPENAI_WITH_LONG and not fine_tuned else ("",)
    for tier, prices in tiers.items():
        for window in windows:
            scaled = (
                prices if not window else [p * f for p, f in zip(prices, _OPENAI_LONG_FACTORS, strict=False)]
            )
            inp, cached, out = scaled[:3]
            # Without a published cache-write price the simulator bills cache writes (generated only with
            # extra_token_types) as input; image tokens always at the (cached) input price.
            write = scaled[3] if len(scaled) == 4 else inp
            for kind, price in (
                ("input", inp),
                ("cached_input", cached),
                ("output", out),
                ("cache_write", write),
                ("input_image", inp),
                ("cached_input_image", cached),
            ):
                entries[PriceKey(model, tier, window, kind)] = price
    return entries


def _claude_entries(model: str) -> dict[PriceKey, Decimal]:
    base, _ = base_model(model)
    if base not in _ANTHROPIC:
        raise ValueError(f"the simulator has no price for Anthropic model {model!r}; known: {known_models()}")
    short, long = _ANTHROPIC[base]
    tiers = [("standard", Decimal(1))] + ([] if base in _NO_BATCH else [("batch", Decimal("0.5"))])
    if base in _FAST_MODE:
        tiers.append(("fast", _FAST_MODE[base]))
    entries: dict[PriceKey, Decimal] = {}
    for window, prices in ((SHORT_CONTEXT, short), (LONG_CONTEXT, long)):
        if prices is None:
            continue
        for tier, factor in tiers:
            for kind, price in zip(_CLAUDE_KINDS, prices, strict=True):
                entries[PriceKey(model, tier, window, kind)] = Decimal(price) * factor
            entries[PriceKey(model, tier, window, WEB_SEARCH)] = WEB_SEARCH_USD_PER_1M
    return entries


def published_sheet(
    openai_models: list[str], embedding_models: list[str], anthropic_models: list[str]
) -> dict[PriceKey, Decimal]:
    """The list prices of exactly the models the simulator generates. Raises ValueError for unknown ones.

    Batch is 50% of standard for every token type (both providers); OpenAI fast prices are the
    published ones, and GPT-6.x models have long-context prices (window ">272k", never reported);
    Anthropic prices have a 0-200k entry and a 200k-1M entry (the same for Claude 5.5), and fast mode
    prices for Claude Opus 5.5.
    """
    sheet: dict[PriceKey, Decimal] = {}
    for model in openai_models:
        sheet.update(_chat_entries(model))
    for model in embedding_models:
        if model not in _EMBEDDINGS:
            raise ValueError(f"the simulator has no price for embedding model {model!r}")
        sheet[PriceKey(model, "standard", "", "input")] = Decimal(_EMBEDDINGS[model])
        sheet[PriceKey(model, "batch", "", "input")] = Decimal(_EMBEDDINGS[model]) / 2
    for model in anthropic_models:
        sheet.update(_claude_entries(model))
    return sheet


def dated_changes(models: list[str]) -> list[tuple[PriceKey, Decimal, int]]:
    """The published price changes of `models` as (key, new price, effective unix second)."""
    changes: list[tuple[PriceKey, Decimal, int]] = []
    for model in models:
        change = CHANGES.get(base_model(model)[0])
        if change is None:
            continue
        day, kind, price = change
        at = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
        for window in (SHORT_CONTEXT, LONG_CONTEXT):
            changes.append((PriceKey(model, "standard", window, kind), Decimal(price), at))
            changes.append((PriceKey(model, "batch", window, kind), Decimal(price) / 2, at))
    return changes


def geo_factors(models: list[str]) -> dict[str, dict[str, Decimal]]:
    """Reported model name -> its inference-geo multipliers."""
    return {m: GEO_FACTORS[base_model(m)[0]] for m in models if base_model(m)[0] in GEO_FACTORS}
