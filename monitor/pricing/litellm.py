"""LiteLLM's `model_prices_and_context_window.json` as the table's model entries, to compare prices with.

LiteLLM keeps USD per token per model with tier and threshold suffixes in the field names
(`input_cost_per_token_above_272k_tokens_batches`). Only explicit fields become prices; LiteLLM has no
dates, so every entry takes effect on 1970-01-01. Pure: the caller reads the file (floats as Decimal).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from monitor.pricing.community import NO_START, Converted

PROVIDERS = {"openai": "openai", "anthropic": "anthropic", "gemini": "google"}
"""LiteLLM `litellm_provider` -> the provider name of usage rows. Others are left out."""

_FIELD = re.compile(
    r"(?P<base>input_cost_per_token|output_cost_per_token|cache_read_input_token_cost"
    r"|cache_creation_input_token_cost(?P<hour>_above_1hr)?|input_cost_per_audio_token"
    r"|output_cost_per_audio_token|cache_read_input_audio_token_cost|input_cost_per_image_token"
    r"|output_cost_per_image_token|cache_read_input_image_token_cost)"
    r"(?:_above_(?P<above>\d+)k_tokens)?(?:_(?P<tier>batches|flex|priority|ultrafast))?"
)
_TOKEN_TYPES = {
    "input_cost_per_token": "input",
    "output_cost_per_token": "output",
    "cache_read_input_token_cost": "cached_input",
    "cache_creation_input_token_cost": "cache_write",
    "cache_creation_input_token_cost_above_1hr": "cache_write_1h",
    "input_cost_per_audio_token": "input_audio",
    "output_cost_per_audio_token": "output_audio",
    "cache_read_input_audio_token_cost": "cached_input_audio",
    "input_cost_per_image_token": "input_image",
    "output_cost_per_image_token": "output_image",
    "cache_read_input_image_token_cost": "cached_input_image",
}
_TIERS = {None: "standard", "batches": "batch", "flex": "flex", "ultrafast": "ultrafast"}


def convert(data: object, label: str = "LiteLLM") -> Converted:
    """LiteLLM's price map -> table entries of the providers in PROVIDERS; ValueError if it is not one."""
    if not isinstance(data, dict):
        raise ValueError("not LiteLLM price data: expected a mapping of model names to prices")
    entries: list[dict[str, Any]] = []
    problems: list[str] = []
    for key, fields in data.items():
        if not isinstance(fields, dict) or fields.get("litellm_provider") not in PROVIDERS:
            continue
        provider = PROVIDERS[fields["litellm_provider"]]
        name = str(key).split("/", 1)[1] if "/" in str(key) else str(key)
        try:
            block = _block(provider, fields, f"{label} ({fields.get('source') or 'no source given'})")
        except ValueError as why:
            problems.append(f"{provider}/{name}: {why}")
            continue
        if block is not None:
            entries.append({"provider": provider, "model": name, "prices": [block]})
    return Converted(tuple(entries), tuple(problems))


def _block(provider: str, fields: Mapping[str, Any], source: str) -> dict[str, Any] | None:
    tiers: dict[str, dict[str, str]] = {}
    long: dict[str, dict[str, str]] = {}
    thresholds: set[int] = set()
    for field, value in fields.items():
        match = _FIELD.fullmatch(field)
        if match is None or value is None:
            continue
        base = match["base"] if not match["hour"] else "cache_creation_input_token_cost_above_1hr"
        tier = "fast" if match["tier"] == "priority" and provider == "openai" else _TIERS.get(match["tier"])
        tier = tier or "priority"
        price = _per_million(value, field)
        if match["above"]:
            thresholds.add(int(match["above"]) * 1000)
            long.setdefault(tier, {})[_TOKEN_TYPES[base]] = price
        else:
            tiers.setdefault(tier, {})[_TOKEN_TYPES[base]] = price
    specific = fields.get("provider_specific_entry")
    specific = specific if isinstance(specific, dict) and provider == "anthropic" else {}
    fast = specific.get("fast")
    if fast is not None and "standard" in tiers and "fast" not in tiers:  # Anthropic fast mode: a multiplier
        factor = Decimal(_per_million(fast, "provider_specific_entry.fast")) / 1_000_000
        tiers["fast"] = {
            t: format((Decimal(p) * factor).normalize(), "f") for t, p in tiers["standard"].items()
        }
    if not tiers:
        return None
    block: dict[str, Any] = {"effective_from": NO_START.isoformat(), "source": source, **tiers}
    if len(thresholds) == 1 and long:
        block["long_context"] = {"above_tokens": thresholds.pop(), **long}
    if specific.get("us") is not None:
        block["inference_geo"] = {"us": str(specific["us"])}
    return block


def _per_million(value: object, field: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise ValueError(f"{field} is not a number")
    try:
        number = Decimal(str(value)) * 1_000_000
    except InvalidOperation:
        raise ValueError(f"{field} {value!r} is not a number") from None
    return format(number.normalize(), "f") if number else "0"
