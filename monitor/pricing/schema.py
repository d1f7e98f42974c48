"""The price-table format: reading and checking model entries into specs with exact integer rates.

One format serves the bundled `prices.yaml`, extra price files and config `pricing.overrides`: a list
of model entries, each with dated price blocks (see docs/pricing.md). Checking gathers every problem,
each prefixed with its key path, instead of stopping at the first.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from monitor.pricing.rules import complete_tiers
from monitor.records import PICO_PER_USD, SERVICE_TIERS, TOKEN_TYPES

MICRO = 10**6
"""A price of X USD per 1M tokens is the integer rate X * 10**6 picodollars per token."""

_MODEL_KEYS = ("provider", "model", "aliases", "cheaper", "note", "deprecated", "shutdown", "prices")
_BLOCK_KEYS = (
    "effective_from", "source", "note", *SERVICE_TIERS, "fine_tuned", "long_context", "inference_geo", "units",
)  # fmt: skip
_RENAMED_TIERS: dict[str, dict[str, str]] = {"openai": {"priority": "fast"}}
"""Tier keys a price file may still write under an old name: OpenAI's Priority became Fast on 2026-07-30."""
_LONG_KEYS = ("above_tokens", *SERVICE_TIERS)

TierRates = dict[str, dict[str, int]]
"""tier -> token type -> rate (picodollars per token), as written (before rules)."""


@dataclass
class BlockSpec:
    """One dated price block of a model, as written."""

    effective_from: date
    source: str
    note: str
    where: str
    tiers: TierRates = field(default_factory=dict)
    fine_tuned: TierRates = field(default_factory=dict)
    long_above: int | None = None
    long_tiers: TierRates = field(default_factory=dict)
    inference_geo: dict[str, Decimal] = field(default_factory=dict)
    units: dict[str, int] = field(default_factory=dict)
    origin: str = ""
    """The price source the block comes from ("bundled", "files", ...); set by whoever loads it."""
    geo_known: bool = True
    """False when the source says nothing about inference geos (rows of a non-default geo stay unpriced)."""
    derive: bool = True
    """False when the provider's billing rules must not fill gaps (the community source)."""


@dataclass
class ModelSpec:
    """One model entry, as written."""

    provider: str
    model: str
    where: str
    aliases: list[str] = field(default_factory=list)
    cheaper: str | None = None
    note: str = ""
    deprecated: date | None = None
    shutdown: date | None = None
    blocks: list[BlockSpec] = field(default_factory=list)


def with_origin(specs: Sequence[ModelSpec], origin: str) -> Sequence[ModelSpec]:
    """Mark every block of `specs` as coming from the price source `origin`; returns `specs`."""
    for spec in specs:
        for block in spec.blocks:
            block.origin = origin
    return specs


class _Problems(list[str]):
    def add(self, where: str, message: str) -> None:
        self.append(f"{where}: {message}")


def check_price_entries(data: object, where: str) -> list[str]:
    """Problems with a list of model entries in the table format, one line each, never raising.

    Each line starts with its key path under `where`, e.g.
    `pricing.overrides[0].prices[1].standard.input: '1.2.3' is not a number`.
    """
    specs, problems = parse_models(data, where)
    for spec in specs:  # also the prices the provider's rules would derive
        for block in spec.blocks:
            complete_tiers(spec.provider, block.tiers, block.where, problems)
            complete_tiers(spec.provider, block.long_tiers, f"{block.where}.long_context", problems)
            complete_tiers(spec.provider, block.fine_tuned, f"{block.where}.fine_tuned", problems)
    return problems


def parse_models(data: object, where: str) -> tuple[list[ModelSpec], list[str]]:
    """Model entries -> specs, plus the problems found (specs with problems are left out)."""
    problems = _Problems()
    specs: list[ModelSpec] = []
    if not isinstance(data, list):
        problems.add(where, f"expected a list of model entries, got {_kind(data)}")
        return specs, problems
    for i, item in enumerate(data):
        before = len(problems)
        spec = _model(item, f"{where}[{i}]", problems)
        if spec is not None and len(problems) == before:
            specs.append(spec)
    return specs, problems


def _model(item: object, where: str, problems: _Problems) -> ModelSpec | None:
    if not isinstance(item, dict):
        problems.add(where, f"expected a model entry (a mapping), got {_kind(item)}")
        return None
    _check_keys(item, _MODEL_KEYS, where, problems)
    provider = _name(item, "provider", where, problems)
    model = _name(item, "model", where, problems)
    spec = ModelSpec(provider=provider, model=model, where=where)
    aliases = item.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
        problems.add(f"{where}.aliases", "expected a list of model names")
    else:
        spec.aliases = [a.strip() for a in aliases]
    if item.get("cheaper") is not None:
        spec.cheaper = _name(item, "cheaper", where, problems)
    spec.note = _text(item, "note", where, problems, required=False)
    for key in ("deprecated", "shutdown"):
        if item.get(key) is not None:
            setattr(spec, key, _date(item[key], f"{where}.{key}", problems))
    prices = item.get("prices")
    if not isinstance(prices, list) or not prices:
        problems.add(f"{where}.prices", "expected a non-empty list of dated price blocks")
        return spec
    seen: set[date] = set()
    for j, block_data in enumerate(prices):
        block = _block(block_data, f"{where}.prices[{j}]", problems)
        if block is None:
            continue
        if block.effective_from in seen:
            problems.add(f"{block.where}.effective_from", f"{block.effective_from} appears twice for {model}")
        seen.add(block.effective_from)
        _rename_tiers(provider, block, problems)
        spec.blocks.append(block)
    return spec


def _rename_tiers(provider: str, block: BlockSpec, problems: _Problems) -> None:
    """Read a tier written under its old name (OpenAI `priority`) as its new one (`fast`)."""
    for old, new in _RENAMED_TIERS.get(provider, {}).items():
        for where, tiers in (
            (block.where, block.tiers),
            (f"{block.where}.fine_tuned", block.fine_tuned),
            (f"{block.where}.long_context", block.long_tiers),
        ):
            if old not in tiers:
                continue
            if new in tiers:
                problems.add(
                    f"{where}.{old}", f"{provider} calls this tier {new!r} since 2026-07-30; give {new} only"
                )
                continue
            tiers[new] = tiers.pop(old)


def _block(data: object, where: str, problems: _Problems) -> BlockSpec | None:
    if not isinstance(data, dict):
        problems.add(where, f"expected a price block (a mapping), got {_kind(data)}")
        return None
    _check_keys(data, _BLOCK_KEYS, where, problems)
    day = _date(data.get("effective_from"), f"{where}.effective_from", problems)
    source = _text(data, "source", where, problems, required=True)
    block = BlockSpec(
        effective_from=day or date.min,
        source=source,
        note=_text(data, "note", where, problems, required=False),
        where=where,
    )
    block.tiers = _tiers(data, SERVICE_TIERS, where, problems)
    fine_tuned = data.get("fine_tuned")
    if fine_tuned is not None:
        if isinstance(fine_tuned, dict):
            _check_keys(fine_tuned, SERVICE_TIERS, f"{where}.fine_tuned", problems)
            block.fine_tuned = _tiers(fine_tuned, SERVICE_TIERS, f"{where}.fine_tuned", problems)
        else:
            problems.add(f"{where}.fine_tuned", f"expected a mapping of tiers, got {_kind(fine_tuned)}")
    long_context = data.get("long_context")
    if long_context is not None:
        _long_context(long_context, f"{where}.long_context", block, problems)
    geo = data.get("inference_geo")
    if geo is not None:
        block.inference_geo = _multipliers(geo, f"{where}.inference_geo", problems)
    units = data.get("units")
    if units is not None:
        block.units = _units(units, f"{where}.units", problems)
    if not (block.tiers or block.fine_tuned or block.units):
        problems.add(where, f"no prices: give at least one of {', '.join(SERVICE_TIERS)} or units")
    return block


def _long_context(data: object, where: str, block: BlockSpec, problems: _Problems) -> None:
    if not isinstance(data, dict):
        problems.add(where, f"expected a mapping with above_tokens and tiers, got {_kind(data)}")
        return
    _check_keys(data, _LONG_KEYS, where, problems)
    above = data.get("above_tokens")
    if isinstance(above, bool) or not isinstance(above, int) or above <= 0:
        problems.add(f"{where}.above_tokens", f"{above!r} is not a positive whole number of tokens")
    else:
        block.long_above = above
    block.long_tiers = _tiers(data, SERVICE_TIERS, where, problems)
    if not block.long_tiers:
        problems.add(where, f"no prices: give at least one of {', '.join(SERVICE_TIERS)}")


def _tiers(data: Mapping[str, Any], tiers: Iterable[str], where: str, problems: _Problems) -> TierRates:
    result: TierRates = {}
    for tier in tiers:
        rates = data.get(tier)
        if rates is None:
            continue
        if not isinstance(rates, dict):
            problems.add(
                f"{where}.{tier}", f"expected a mapping of token type to USD per 1M, got {_kind(rates)}"
            )
            continue
        _check_keys(rates, TOKEN_TYPES, f"{where}.{tier}", problems, what="token type")
        parsed: dict[str, int] = {}
        for token_type in TOKEN_TYPES:
            if rates.get(token_type) is not None:
                rate = _amount(rates[token_type], f"{where}.{tier}.{token_type}", MICRO, problems)
                if rate is not None:
                    parsed[token_type] = rate
        result[tier] = parsed
    return result


def _units(data: object, where: str, problems: _Problems) -> dict[str, int]:
    if not isinstance(data, dict):
        problems.add(where, f"expected a mapping of unit name to USD per unit, got {_kind(data)}")
        return {}
    result: dict[str, int] = {}
    for name, value in data.items():
        if not isinstance(name, str) or not name.strip():
            problems.add(where, f"unit name {name!r} is not a name")
            continue
        rate = _amount(value, f"{where}.{name}", PICO_PER_USD, problems)
        if rate is not None:
            result[name] = rate
    return result


def _multipliers(data: object, where: str, problems: _Problems) -> dict[str, Decimal]:
    """`inference_geo`: a mapping of reported geo (e.g. "us") to the factor on every price of the block."""
    if not isinstance(data, dict):
        problems.add(where, f"expected a mapping of inference geo to a price multiplier, got {_kind(data)}")
        return {}
    result: dict[str, Decimal] = {}
    for name, value in data.items():
        factor = _decimal(value)
        if not isinstance(name, str) or not name.strip():
            problems.add(where, f"inference geo {name!r} is not a name")
        elif factor is None or factor <= 0:
            problems.add(f"{where}.{name}", f"{value!r} is not a positive multiplier (e.g. 1.1)")
        else:
            result[name.strip()] = factor
    return result


def _amount(value: object, where: str, scale: int, problems: _Problems) -> int | None:
    """USD amount -> exact integer in 1/scale USD (MICRO: per-1M price -> picodollars per token)."""
    number = _decimal(value)
    if number is None:
        problems.add(where, f"{value!r} is not a number")
        return None
    if number < 0:
        problems.add(where, f"{value} is negative; prices are 0 or more")
        return None
    scaled = number * scale
    if scaled != scaled.to_integral_value():
        decimals = len(str(scale)) - 1
        problems.add(
            where, f"{value} has more than {decimals} decimals; prices are exact to 1e-{decimals} USD"
        )
        return None
    return int(scaled)


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | Decimal | str):
            number = Decimal(value.strip() if isinstance(value, str) else value)
        elif isinstance(value, float):  # from a plain yaml.safe_load: repr is what was written
            number = Decimal(repr(value))
        else:
            return None
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _date(value: object, where: str, problems: _Problems) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    if value is None:
        problems.add(where, "missing; give the date the price took effect (YYYY-MM-DD)")
    else:
        problems.add(where, f"{value!r} is not a date (YYYY-MM-DD)")
    return None


def _name(data: Mapping[str, Any], key: str, where: str, problems: _Problems) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.add(f"{where}.{key}", "missing" if value is None else f"{value!r} is not a name")
        return ""
    return value.strip()


def _text(data: Mapping[str, Any], key: str, where: str, problems: _Problems, *, required: bool) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        hint = "; cite where the price comes from (URL or document)" if key == "source" else ""
        problems.add(f"{where}.{key}", ("missing" if value is None else f"{value!r} is not text") + hint)
        return ""
    return value.strip()


def _check_keys(
    data: Mapping[Any, Any], allowed: Iterable[str], where: str, problems: _Problems, what: str = "key"
) -> None:
    allowed = tuple(allowed)
    for key in data:
        if key not in allowed:
            problems.add(f"{where}.{key}", unknown_key(key, allowed, what))


def unknown_key(key: object, allowed: tuple[str, ...], what: str = "key") -> str:
    close = difflib.get_close_matches(str(key), allowed, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"expected one of: {', '.join(allowed)}"
    return f"unknown {what} {key!r}; {hint}"


def _kind(value: object) -> str:
    return "nothing" if value is None else type(value).__name__
