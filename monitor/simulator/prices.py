"""The simulated providers' price book (the sheet of sheet.py as exact rates) and their bill wording.

The simulator is the "provider", so it must not use `monitor.pricing`: the published list prices are in
sheet.py; here they become exact integer picodollar rates, with dated changes and inference-geo
multipliers. Tests may change a price (`PriceBook.set`), which is how a billed-vs-computed drift is
produced.
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
    """One price: a reported model name, a tier (standard | batch | fast), a context window and a kind.

    `context_window` is "" for OpenAI (">272k" for its long prompts, which usage rows never show) and
    "0-200k" / "200k-1M" for Anthropic; `token_type` is a TOKEN_TYPES name or "web_search_requests".
    """

    model: str
    service_tier: str
    context_window: str
    token_type: str


SHORT_CONTEXT, LONG_CONTEXT = "0-200k", "200k-1M"
OPENAI_LONG = ">272k"
"""The sheet's window of OpenAI prompts above 272K tokens: billed apart, never reported in usage rows."""

_DATE_SUFFIX = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8})$")


def base_model(name: str) -> tuple[str, bool]:
    """(base model, fine-tuned?) of a reported name: dated snapshots and `ft:` names price as their base."""
    fine_tuned = name.startswith("ft:")
    if fine_tuned:
        name = name.split(":")[1]
    return _DATE_SUFFIX.sub("", name), fine_tuned


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

    def __init__(
        self, sheet: dict[PriceKey, Decimal], geo_factors: dict[str, dict[str, Decimal]] | None = None
    ) -> None:
        self.sheet = dict(sheet)
        self.geo_factors = dict(geo_factors or {})
        """model -> inference geo -> multiplier of its token prices (web search fees are not multiplied)."""
        self._dated: list[tuple[int, int, PriceKey, Decimal]] = []  # (effective_from, seq, key, price)
        self._cache: dict[tuple[str, str, str, int, str], Rates] = {}
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

    def rates(self, model: str, tier: str, window: str, at: int, geo: str = "") -> Rates:
        """Rates of every count slot for usage of `model` in `tier`/`window` in the bucket starting `at`,
        run in inference geo `geo`."""
        if not self._dated:  # the common case: no dated override, no lock needed to read the cache
            cached = self._cache.get((model, tier, window, 0, geo))
            if cached is not None:
                return cached
        with self._lock:
            applied = bisect.bisect_right(self._dated, (at, len(self._dated)))
            cached = self._cache.get((model, tier, window, applied, geo))
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
            factor = self.geo_factors.get(model, {}).get(geo, Decimal(1))
            rates: list[int | None] = [None] * SLOTS
            rates[REQUESTS_SLOT] = 0
            for name, price in prices.items():
                rates[SLOT_OF[name]] = rate_of(price * factor if name != WEB_SEARCH else price)
            result = tuple(rates)
            self._cache[(model, tier, window, applied, geo)] = result
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


def openai_line_item(model: str, token_type: str, tier: str, window: str = "") -> str:
    """Costs `line_item`: "gpt-4.1-mini-2025-04-14, input", "..., cached input (fast)", "..., output (batch)",
    "gpt-6.1-sol, input (long context)" (prompts above 272K tokens)."""
    suffix = "" if tier == "standard" else f" ({tier})"
    long = " (long context)" if window == OPENAI_LONG else ""
    return f"{model}, {_OPENAI_LINE_WORDS[token_type]}{suffix}{long}"


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


def anthropic_description(model: str, token_type: str, tier: str, window: str, geo: str = "") -> str:
    """Cost report `description`: "Claude Sonnet 4.5 Usage - Input Tokens", "Claude Haiku 4.5 Batch Usage -
    Output Tokens", "Claude Sonnet 4.5 Usage - Input Tokens (Long Context)", "Claude Opus 4.1 Usage - Web Search",
    "Claude Opus 5.5 Fast Mode Usage - Output Tokens (US)".
    """
    if token_type == WEB_SEARCH:
        return f"{display_name(model)} Usage - Web Search"
    kind = {"batch": " Batch", "fast": " Fast Mode"}.get(tier, "")
    long = " (Long Context)" if window == LONG_CONTEXT else ""
    where = f" ({geo.upper()})" if geo not in ("", "global", "not_available") else ""
    return f"{display_name(model)}{kind} Usage - {ANTHROPIC_TOKEN_FIELDS[token_type][1]}{long}{where}"
