"""The community price source: genai-prices' data converted to the table's own model entries.

genai-prices (the pydantic team's price data, with dated prices and its own updater) describes a
model's prices as base prices, dated conditional prices and request "variants" (service tier, batch,
fast mode) that override the base price key by key. It falls back to the standard price for any key
or tier a variant does not give; this conversion never does: a tier gets exactly the prices its
variant lists, from the date the variant starts, so what the source lacks stays unpriced.

Pure data in, data out: `convert` takes the JSON shape of genai-prices' data (a list of providers,
as its updater downloads it; see monitor/genai_prices_export.py for the installed package's data)
and returns model entries in the table format (docs/pricing.md), which `parse_models` then checks
like any price file. The daemon hands the data in; nothing here reads files or the network.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from monitor.pricing.schema import parse_models
from monitor.pricing.specs import ModelSpec, with_origin

GENAI_PRICES = "genai-prices"
"""The source's name in config `pricing.sources` and in the ledger's `price_source` column."""

PROVIDERS = {"openai": "openai", "anthropic": "anthropic", "google": "google"}
"""genai-prices provider id -> the provider name of usage rows. Other providers are left out."""

NO_START = date(1970, 1, 1)
"""effective_from of prices genai-prices gives without a start date (in force for all earlier usage)."""

_TOKEN_KEYS = {
    "input_mtok": "input",
    "cache_read_mtok": "cached_input",
    "cache_write_mtok": "cache_write",
    "cache_write_5m_mtok": "cache_write",
    "cache_write_1h_mtok": "cache_write_1h",
    "output_mtok": "output",
    "input_audio_mtok": "input_audio",
    "cache_audio_read_mtok": "cached_input_audio",
    "output_audio_mtok": "output_audio",
    "input_image_mtok": "input_image",
    "cache_image_read_mtok": "cached_input_image",
    "output_image_mtok": "output_image",
}
"""genai-prices price keys (USD per 1M) -> TOKEN_TYPES. Keys not listed have no token type here."""

_UNIT_KEYS = {"web_searches_kcount": "web_search_requests", "storage_searches_kcount": "file_search_requests"}
"""genai-prices per-1,000 prices -> the `units` names of usage rows (USD per unit = price / 1000)."""


def _variant_tier(provider: str, when: Mapping[str, Any]) -> str | None:
    """The table tier a variant's `when` stands for; None for request contexts that are not tiers."""
    if len(when) != 1:
        return None
    ((key, value),) = when.items()
    if key == "processing" and value == "batch":
        return "batch"
    if key == "speed" and value == "fast":
        return "fast"  # Anthropic fast mode
    if key == "service_tier":
        if value == "default":
            return "standard"
        if value == "priority":
            return "fast" if provider == "openai" else "priority"  # OpenAI's Priority is Fast
        if value in ("flex", "fast"):
            return str(value)
    return None


@dataclass(frozen=True, slots=True)
class Converted:
    """Model entries in the table format, and what could not be converted (one line each)."""

    entries: tuple[dict[str, Any], ...]
    problems: tuple[str, ...]


class _Skip(Exception):
    """A model this conversion cannot represent faithfully: left out, with the reason."""


def convert(raw: object, label: str = GENAI_PRICES) -> Converted:
    """genai-prices data (its JSON shape) -> table entries for the providers of PROVIDERS.

    `label` goes into each entry's `source` (e.g. "genai-prices 0.2.3"). Raises ValueError when `raw`
    is not genai-prices data at all (not a list of providers); a model that cannot be converted is
    left out and named in `problems`.
    """
    if not isinstance(raw, list) or not all(isinstance(p, dict) for p in raw):
        raise ValueError("not genai-prices data: expected a list of providers")
    entries: list[dict[str, Any]] = []
    problems: list[str] = []
    for provider_data in raw:
        provider = PROVIDERS.get(str(provider_data.get("id")))
        if provider is None:
            continue
        urls = provider_data.get("pricing_urls")
        url = urls[0] if isinstance(urls, list) and urls and isinstance(urls[0], str) else ""
        source = f"{label} ({url})" if url else label
        models = provider_data.get("models")
        if not isinstance(models, list):
            problems.append(f"{provider}: `models` is not a list")
            continue
        for model in models:
            name = model.get("id") if isinstance(model, dict) else None
            if not isinstance(name, str) or not name.strip():
                problems.append(f"{provider}: a model without an id")
                continue
            try:
                entries.append(_model_entry(provider, model, source))
            except _Skip as why:
                problems.append(f"{provider}/{name}: {why}")
    return Converted(tuple(entries), tuple(problems))


def specs_of(converted: Converted, where: str = GENAI_PRICES) -> tuple[list[ModelSpec], list[str]]:
    """Checked specs of converted entries, marked as the community source's (no derivation, no geo)."""
    specs, problems = parse_models(list(converted.entries), where)
    for spec in specs:
        for block in spec.blocks:
            block.geo_known = False  # genai-prices has no inference-geo prices
            block.derive = False  # and what it does not list has no price: no billing rules
    return list(with_origin(specs, GENAI_PRICES)), [*converted.problems, *problems]


def _model_entry(provider: str, model: Mapping[str, Any], source: str) -> dict[str, Any]:
    name = str(model["id"]).strip()
    bases = _dated_prices(model.get("prices"))
    found = (_variant(provider, v) for v in _list(model.get("price_variants"), "price_variants"))
    tiers = [v for v in found if v is not None]
    starts = {day for day, _ in bases} | {start for _, _, start in tiers if start is not None}
    blocks = []
    for day in sorted(starts):
        block = _block(day, provider, bases, tiers, source)
        if block is not None:
            blocks.append(block)
    if not blocks:
        raise _Skip("no token prices")
    entry: dict[str, Any] = {"provider": provider, "model": name, "prices": blocks}
    aliases = sorted(set(_equals(model.get("match"))) - {name})
    if aliases:
        entry["aliases"] = aliases
    return entry


def _dated_prices(prices: object) -> list[tuple[date, Mapping[str, Any]]]:
    """[(start, price mapping)] of a model's base prices; the first one applies from NO_START."""
    if isinstance(prices, dict):
        return [(NO_START, prices)]
    dated: list[tuple[date, Mapping[str, Any]]] = []
    for item in _list(prices, "prices"):
        if not isinstance(item, dict) or not isinstance(item.get("prices"), dict):
            raise _Skip("a conditional price without prices")
        dated.append((_start(item.get("constraint")) or NO_START, item["prices"]))
    if not dated:
        raise _Skip("no prices")
    return dated


def _variant(provider: str, variant: object) -> tuple[str, Mapping[str, Any], date | None] | None:
    """(tier, prices, start or None) of a variant that is a tier; None for any other variant."""
    if not isinstance(variant, dict) or not isinstance(variant.get("when"), dict):
        raise _Skip("a price variant without `when`")
    tier = _variant_tier(provider, variant["when"])
    prices = variant.get("prices")
    if tier is None or not isinstance(prices, dict) or not prices:
        return None
    return tier, prices, _start(variant.get("constraint"))


def _start(constraint: object) -> date | None:
    if constraint is None:
        return None
    if isinstance(constraint, dict) and "start_date" in constraint:
        try:
            return date.fromisoformat(str(constraint["start_date"]))
        except ValueError:
            raise _Skip(f"start_date {constraint['start_date']!r} is not a date") from None
    raise _Skip("prices that depend on the time of day are not supported")


def _block(
    day: date,
    provider: str,
    bases: Sequence[tuple[date, Mapping[str, Any]]],
    variants: Sequence[tuple[str, Mapping[str, Any], date | None]],
    source: str,
) -> dict[str, Any] | None:
    """The complete price sheet in force from `day`: base prices, then each tier's active variants."""
    base = bases[0][1]
    for since, dated in bases:
        if since <= day:
            base = dated
    overrides: dict[str, dict[str, Any]] = {}
    for tier, prices, start in variants:  # first to last, each price key from the first that gives it
        if start is None or start <= day:
            sheet = overrides.setdefault(tier, {})
            for key, value in prices.items():
                if value is not None:
                    sheet.setdefault(key, value)
    # The standard tier is the base prices (a "default" variant may override some); any other tier has
    # exactly what its variants give: genai-prices would fill the rest from the base, this does not.
    sheets = {**overrides, "standard": {**base, **overrides.get("standard", {})}}
    block: dict[str, Any] = {"effective_from": day.isoformat(), "source": source}
    long: dict[str, Any] = {}
    thresholds: set[int] = set()
    for tier, sheet in sheets.items():
        short, above, starts = _token_prices(sheet)
        if short:
            block[tier] = short
            if above:
                long[tier] = above
                thresholds |= starts
    if len(thresholds) == 1:
        long["above_tokens"] = thresholds.pop()
        block["long_context"] = long
    elif thresholds:
        block["note"] = "several long-context thresholds in the source: long-context prices left out"
    units = {
        unit: str(_decimal(base[key]) / 1000)
        for key, unit in _UNIT_KEYS.items()
        if key in base and not isinstance(base[key], dict)
    }
    if units:
        block["units"] = units
    if not any(tier in block for tier in sheets):
        return None
    return block


def _token_prices(sheet: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str], set[int]]:
    """(prices up to the threshold, whole-request prices above it, thresholds) of one tier's keys.

    A tiered price ({base, tiers: [{start, price}]}) switches every token of a request to the tier's
    price above `start` tokens; a flat price is the same above any threshold.
    """
    short: dict[str, str] = {}
    tiered: dict[str, str] = {}
    starts: set[int] = set()
    for key, token_type in _TOKEN_KEYS.items():
        value = sheet.get(key)
        if value is None or (token_type in short and key != "cache_write_5m_mtok"):
            continue
        if isinstance(value, dict):
            tiers = _list(value.get("tiers"), "tiers")
            if len(tiers) != 1 or not isinstance(tiers[0], dict):
                raise _Skip(f"{key} has {len(tiers)} price tiers; one threshold is supported")
            start = tiers[0].get("start")
            if isinstance(start, bool) or not isinstance(start, int) or start <= 0:
                raise _Skip(f"{key} has a tier start that is not a positive token count")
            short[token_type] = _text(value.get("base"), key)
            tiered[token_type] = _text(tiers[0].get("price"), key)
            starts.add(start)
        else:
            short[token_type] = _text(value, key)
    above = {t: tiered.get(t, price) for t, price in short.items()} if tiered else {}
    return short, above, starts


def _text(value: object, key: str) -> str:
    return str(_decimal(value, key))


def _decimal(value: object, key: str = "price") -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise _Skip(f"{key} is not a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise _Skip(f"{key} {value!r} is not a number") from None
    if not number.is_finite() or number < 0:
        raise _Skip(f"{key} {value!r} is not a price")
    return number


def _list(value: object, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Skip(f"{what} is not a list")
    return value


def _equals(match: object) -> Iterable[str]:
    """The exact names a genai-prices match clause lists (`equals`, inside `or`); patterns are not used."""
    if not isinstance(match, dict):
        return
    equals = match.get("equals")
    if isinstance(equals, str) and equals.strip():
        yield equals.strip().lower()
    for clause in match.get("or") or ():
        yield from _equals(clause)
