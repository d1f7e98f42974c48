"""The simulated providers' own price sheet (USD per 1M tokens, Decimal) and their bill wording.

The simulator is the "provider", so it must not use `monitor.pricing`: it carries the published list
prices of the models it can generate (shared/pricing-facts.md, shared/pricing/reference-prices.yaml)
and turns them into exact integer picodollar rates. Tests may change a price (`PriceBook.set`), which
is how a billed-vs-computed drift is produced.
"""

from __future__ import annotations

import bisect
import re
import threading
from collections.abc import Sequence
from decimal import Decimal
from typing import NamedTuple

from monitor.records import TOKEN_TYPES

WEB_SEARCH = "web_search_requests"
"""Price sheet name of Anthropic's server-side web search (priced per 1M requests, like tokens)."""

REQUESTS_SLOT = len(TOKEN_TYPES)
WEB_SEARCH_SLOT = REQUESTS_SLOT + 1
SLOTS = WEB_SEARCH_SLOT + 1
"""A count vector is TOKEN_TYPES..., then model requests, then web search requests."""

PRICED_NAMES: tuple[str, ...] = (*TOKEN_TYPES, WEB_SEARCH)
SLOT_NAMES: tuple[str, ...] = (*TOKEN_TYPES, "requests", WEB_SEARCH)
"""The name of each count slot."""
SLOT_OF: dict[str, int] = {name: slot for slot, name in enumerate(SLOT_NAMES)}


class PriceKey(NamedTuple):
    """One price: a reported model name, a tier (standard | batch | priority), a context window and a kind.

    `context_window` is "" for OpenAI and "0-200k" / "200k-1M" for Anthropic; `token_type` is a
    TOKEN_TYPES name or "web_search_requests".
    """

    model: str
    service_tier: str
    context_window: str
    token_type: str


# OpenAI chat models: standard (input, cached input, output) and priority (same) or None.
_OPENAI: dict[str, tuple[tuple[str, str, str], tuple[str, str, str] | None]] = {
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
}
_OPENAI_FINE_TUNED: dict[str, tuple[str, str, str]] = {
    "gpt-4.1": ("3", "0.75", "12"),
    "gpt-4.1-mini": ("0.8", "0.2", "3.2"),
    "gpt-4.1-nano": ("0.2", "0.05", "0.8"),
}
_EMBEDDINGS: dict[str, str] = {"text-embedding-3-small": "0.02", "text-embedding-3-large": "0.13"}
# Anthropic: (input, output, cache read, cache write 5m, cache write 1h); second: above 200k tokens.
_Claude = tuple[str, str, str, str, str]
_SONNET: tuple[_Claude, _Claude | None] = (("3", "15", "0.3", "3.75", "6"), ("6", "22.5", "0.6", "7.5", "12"))
_OPUS: tuple[_Claude, _Claude | None] = (("15", "75", "1.5", "18.75", "30"), None)
_ANTHROPIC: dict[str, tuple[_Claude, _Claude | None]] = {
    "claude-sonnet-4-5": _SONNET,
    "claude-sonnet-4": _SONNET,
    "claude-haiku-4-5": (("1", "5", "0.1", "1.25", "2"), None),
    "claude-opus-4-1": _OPUS,
    "claude-opus-4": _OPUS,
}
WEB_SEARCH_USD_PER_1M = Decimal(10_000)  # $10 per 1,000 searches
SHORT_CONTEXT, LONG_CONTEXT = "0-200k", "200k-1M"

_DATE_SUFFIX = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8})$")


def base_model(name: str) -> tuple[str, bool]:
    """(base model, fine-tuned?) of a reported name: dated snapshots and `ft:` names price as their base."""
    fine_tuned = name.startswith("ft:")
    if fine_tuned:
        name = name.split(":")[1]
    return _DATE_SUFFIX.sub("", name), fine_tuned


def known_models() -> list[str]:
    """Base names the sheet can price (any dated snapshot or `ft:` name of the GPT-4.1 family works too)."""
    return sorted([*_OPENAI, *_EMBEDDINGS, *_ANTHROPIC])


def _chat_entries(model: str) -> dict[PriceKey, Decimal]:
    base, fine_tuned = base_model(model)
    if fine_tuned and base in _OPENAI_FINE_TUNED:
        standard, priority = _OPENAI_FINE_TUNED[base], None
    elif not fine_tuned and base in _OPENAI:
        standard, priority = _OPENAI[base]
    else:
        raise ValueError(f"the simulator has no price for OpenAI model {model!r}; known: {known_models()}")
    tiers = {"standard": [Decimal(p) for p in standard], "batch": [Decimal(p) / 2 for p in standard]}
    if priority:
        tiers["priority"] = [Decimal(p) for p in priority]
    entries: dict[PriceKey, Decimal] = {}
    for tier, (inp, cached, out) in tiers.items():
        # No published cache-write or image-token price: the simulator bills them as (cached) input.
        for kind, price in (
            ("input", inp),
            ("cached_input", cached),
            ("output", out),
            ("cache_write", inp),
            ("input_image", inp),
            ("cached_input_image", cached),
        ):
            entries[PriceKey(model, tier, "", kind)] = price
    return entries


def _claude_entries(model: str) -> dict[PriceKey, Decimal]:
    base, _ = base_model(model)
    if base not in _ANTHROPIC:
        raise ValueError(f"the simulator has no price for Anthropic model {model!r}; known: {known_models()}")
    short, long = _ANTHROPIC[base]
    entries: dict[PriceKey, Decimal] = {}
    for window, prices in ((SHORT_CONTEXT, short), (LONG_CONTEXT, long)):
        if prices is None:
            continue
        for tier, factor in (("standard", Decimal(1)), ("batch", Decimal("0.5"))):
            kinds = ("input", "output", "cached_input", "cache_write", "cache_write_1h")
            for kind, price in zip(kinds, prices, strict=True):
                entries[PriceKey(model, tier, window, kind)] = Decimal(price) * factor
            entries[PriceKey(model, tier, window, WEB_SEARCH)] = WEB_SEARCH_USD_PER_1M
    return entries


def published_sheet(
    openai_models: list[str], embedding_models: list[str], anthropic_models: list[str]
) -> dict[PriceKey, Decimal]:
    """The list prices of exactly the models the simulator generates. Raises ValueError for unknown ones.

    Batch is 50% of standard for every token type (both providers); OpenAI priority prices are the
    published ones; Anthropic prices have a 0-200k entry and, for Sonnet 4/4.5, a 200k-1M entry.
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


def rate_of(usd_per_1m: Decimal) -> int:
    """Picodollars per token (or per request) of a price per 1M; exact, else ValueError."""
    rate = Decimal(usd_per_1m) * 1_000_000
    if rate < 0 or rate != rate.to_integral_value():
        raise ValueError(f"price {usd_per_1m} per 1M must be >= 0 with at most 6 decimals")
    return int(rate)


Rates = tuple[int | None, ...]
"""Picodollars per unit for each count slot (None: no price). The requests slot is always 0."""


class PriceBook:
    """The sheet plus dated overrides; answers the rates in force for a bucket. Thread-safe."""

    def __init__(self, sheet: dict[PriceKey, Decimal]) -> None:
        self.sheet = dict(sheet)
        self._dated: list[tuple[int, int, PriceKey, Decimal]] = []  # (effective_from, seq, key, price)
        self._cache: dict[tuple[str, str, str, int], Rates] = {}
        self._lock = threading.Lock()
        self.version = 0

    def set(self, key: PriceKey, usd_per_1m: Decimal, effective_from: int | None) -> None:
        """Change one existing price, for all time or from `effective_from` (unix s) on."""
        if key not in self.sheet:
            raise ValueError(f"no price {key} in the simulator's sheet; existing models: {self.models()}")
        rate_of(usd_per_1m)
        with self._lock:
            if effective_from is None:
                self.sheet[key] = Decimal(usd_per_1m)
            else:
                self._dated.append((effective_from, len(self._dated), key, Decimal(usd_per_1m)))
                self._dated.sort()
            self._cache.clear()
            self.version += 1

    def models(self) -> list[str]:
        return sorted({key.model for key in self.sheet})

    def rates(self, model: str, tier: str, window: str, at: int) -> Rates:
        """Rates of every count slot for usage of `model` in `tier`/`window` in the bucket starting `at`."""
        if not self._dated:  # the common case: no dated override, no lock needed to read the cache
            cached = self._cache.get((model, tier, window, 0))
            if cached is not None:
                return cached
        with self._lock:
            applied = bisect.bisect_right(self._dated, (at, len(self._dated)))
            cached = self._cache.get((model, tier, window, applied))
            if cached is not None:
                return cached
            prices: dict[str, Decimal] = {}
            for name in PRICED_NAMES:
                price = self.sheet.get(PriceKey(model, tier, window, name))
                if price is not None:
                    prices[name] = price
            for _, _, key, price in self._dated[:applied]:
                if key[:3] == (model, tier, window):
                    prices[key.token_type] = price
            rates: list[int | None] = [None] * SLOTS
            rates[REQUESTS_SLOT] = 0
            for name, price in prices.items():
                rates[SLOT_OF[name]] = rate_of(price)
            result = tuple(rates)
            self._cache[(model, tier, window, applied)] = result
            return result


def cost_slots(counts: Sequence[int], rates: Rates, what: str) -> list[int]:
    """Exact picodollars per slot; a non-zero count without a price is a simulator bug (ValueError)."""
    try:
        return [count * rate if count else 0 for count, rate in zip(counts, rates, strict=True)]  # type: ignore[operator]
    except TypeError:
        missing = [SLOT_NAMES[slot] for slot, count in enumerate(counts) if count and rates[slot] is None]
        raise ValueError(f"simulator generated {missing} for {what} but has no price for it") from None


# ---- the words on the bills -------------------------------------------------------------------------

_OPENAI_LINE_WORDS = {
    "input": "input",
    "cached_input": "cached input",
    "cache_write": "cache write input",
    "output": "output",
    "input_audio": "audio input",
    "cached_input_audio": "cached audio input",
    "output_audio": "audio output",
    "input_image": "image input",
    "cached_input_image": "cached image input",
    "output_image": "image output",
}


def openai_line_item(model: str, token_type: str, tier: str) -> str:
    """Costs `line_item`: "gpt-4.1-mini-2025-04-14, input", "..., cached input (priority)", "..., output (batch)"."""
    suffix = "" if tier == "standard" else f" ({tier})"
    return f"{model}, {_OPENAI_LINE_WORDS[token_type]}{suffix}"


ANTHROPIC_TOKEN_FIELDS = {
    "input": ("uncached_input_tokens", "Input Tokens"),
    "output": ("output_tokens", "Output Tokens"),
    "cached_input": ("cache_read_input_tokens", "Cache Read Input Tokens"),
    "cache_write": ("cache_creation.ephemeral_5m_input_tokens", "Cache Write Input Tokens (5m)"),
    "cache_write_1h": ("cache_creation.ephemeral_1h_input_tokens", "Cache Write Input Tokens (1h)"),
}
"""TOKEN_TYPES name -> (cost report `token_type`, words in the `description`)."""


def display_name(model: str) -> str:
    """ "claude-sonnet-4-5-20250929" -> "Claude Sonnet 4.5"; "claude-3-5-haiku-20241022" -> "Claude 3.5 Haiku"."""
    words: list[str] = []
    for part in base_model(model)[0].split("-"):
        if part.isdigit() and words and words[-1][-1].isdigit():
            words[-1] += "." + part
        else:
            words.append(part.capitalize())
    return " ".join(words)


def anthropic_description(model: str, token_type: str, tier: str, window: str) -> str:
    """Cost report `description`: "Claude Sonnet 4.5 Usage - Input Tokens", "Claude Haiku 4.5 Batch Usage -
    Output Tokens", "Claude Sonnet 4.5 Usage - Input Tokens (Long Context)", "Claude Opus 4.1 Usage - Web Search".
    """
    if token_type == WEB_SEARCH:
        return f"{display_name(model)} Usage - Web Search"
    batch = " Batch" if tier == "batch" else ""
    long = " (Long Context)" if window == LONG_CONTEXT else ""
    return f"{display_name(model)}{batch} Usage - {ANTHROPIC_TOKEN_FIELDS[token_type][1]}{long}"
