"""Providers' words for service tiers and context windows, mapped to the pricing table's.

OpenAI reports `service_tier` "default"/"auto"/null, "flex", "fast" (written "priority" until
OpenAI renamed Priority processing to Fast on 2026-07-30; both words mean the same tier),
"ultrafast", "scale" and a `batch` flag; Anthropic reports "standard", "batch", "priority",
"priority_on_demand", "flex", "flex_discount" and a `context_window` bucket ("0-200k", "200k-1M").
The table knows the tiers of records.SERVICE_TIERS.
"""

from __future__ import annotations

_TIER_WORDS: dict[str, str] = {
    "": "standard",
    "standard": "standard",
    "default": "standard",
    "auto": "standard",
    # OpenAI Scale Tier is prepaid capacity; its tokens are valued at the standard list price.
    "scale": "standard",
    "batch": "batch",
    "flex": "flex",
    "flex_discount": "flex",
    "priority": "priority",
    "priority_on_demand": "priority",
    "fast": "fast",
    "ultrafast": "ultrafast",
}

_PROVIDER_WORDS: dict[str, dict[str, str]] = {
    # OpenAI renamed Priority processing to Fast on 2026-07-30: older rows say "priority".
    "openai": {"priority": "fast"},
}
"""Words whose tier differs by provider (Anthropic's "priority" is its Priority Tier, not Fast)."""

_SUFFIXES = {"k": 1_000, "m": 1_000_000}


def normalise_tier(provider: str, service_tier: str, batch: bool) -> str:
    """The pricing tier (records.SERVICE_TIERS) of a usage row.

    `batch=True` always means the batch tier. A word no provider is known to use is returned as
    given (lower-cased), so it matches no price and the row is reported unpriced instead of being
    silently priced as standard. OpenAI's "priority" is its Fast tier (renamed 2026-07-30).
    """
    if batch:
        return "batch"
    word = (service_tier or "").strip().lower()
    own = _PROVIDER_WORDS.get(provider, {}).get(word)
    return own if own is not None else _TIER_WORDS.get(word, word)


_MAX_DIGITS = 12
"""A bound with more digits (10**12 tokens and up) is no real context window: garbage, read as 0."""


def context_floor(context_window: str) -> int:
    """The smallest prompt size, in tokens, of a context-window bucket.

    "200k-1M" -> 200000, "0-200k" -> 0, "" -> 0; also accepts the table's own labels (">200k").
    An unreadable bucket counts as 0, i.e. the base (not long-context) price.
    """
    return parse_context_floor(context_window) or 0


def parse_context_floor(context_window: str) -> int | None:
    """`context_floor`, but None for a bucket that cannot be read (the text comes from provider
    payloads: only ASCII digits of sane length count, so '²k' or a 5000-digit bound never reach int())."""
    low = context_window.strip().lower().lstrip(">").split("-", 1)[0].strip()
    if not low:
        return 0
    scale = _SUFFIXES.get(low[-1], 1)
    digits = low[:-1] if scale != 1 else low
    if not (digits.isascii() and digits.isdigit() and len(digits) <= _MAX_DIGITS):
        return None
    return int(digits) * scale


def context_label(above_tokens: int) -> str:
    """The table's label for a long-context tier: 200000 -> ">200k"."""
    for suffix, scale in (("M", 1_000_000), ("k", 1_000)):
        if above_tokens % scale == 0:
            return f">{above_tokens // scale}{suffix}"
    return f">{above_tokens}"
