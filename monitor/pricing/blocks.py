"""One dated price block of a model entry, checked: its tiers of per-token rates, fine-tuned and long
context prices, inference-geo multipliers and per-unit prices (see docs/pricing.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from monitor.pricing.fields import (
    MICRO,
    Problems,
    check_keys,
    kind_of,
    parse_decimal,
    read_amount,
    read_date,
    read_text,
)
from monitor.pricing.specs import BlockSpec, TierRates
from monitor.records import PICO_PER_USD, SERVICE_TIERS, TOKEN_TYPES

_BLOCK_KEYS = (
    "effective_from", "source", "note", *SERVICE_TIERS, "fine_tuned", "long_context", "inference_geo", "units",
)  # fmt: skip
_LONG_KEYS = ("above_tokens", *SERVICE_TIERS)


def read_block(data: object, where: str, problems: Problems) -> BlockSpec | None:
    """A price block -> its spec (None when it is not a mapping); its problems go to `problems`."""
    if not isinstance(data, dict):
        problems.add(where, f"expected a price block (a mapping), got {kind_of(data)}")
        return None
    check_keys(data, _BLOCK_KEYS, where, problems)
    day = read_date(data.get("effective_from"), f"{where}.effective_from", problems)
    source = read_text(data, "source", where, problems, required=True)
    block = BlockSpec(
        effective_from=day or date.min,
        source=source,
        note=read_text(data, "note", where, problems, required=False),
        where=where,
    )
    block.tiers = _tiers(data, SERVICE_TIERS, where, problems)
    fine_tuned = data.get("fine_tuned")
    if fine_tuned is not None:
        if isinstance(fine_tuned, dict):
            check_keys(fine_tuned, SERVICE_TIERS, f"{where}.fine_tuned", problems)
            block.fine_tuned = _tiers(fine_tuned, SERVICE_TIERS, f"{where}.fine_tuned", problems)
        else:
            problems.add(f"{where}.fine_tuned", f"expected a mapping of tiers, got {kind_of(fine_tuned)}")
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


def _long_context(data: object, where: str, block: BlockSpec, problems: Problems) -> None:
    if not isinstance(data, dict):
        problems.add(where, f"expected a mapping with above_tokens and tiers, got {kind_of(data)}")
        return
    check_keys(data, _LONG_KEYS, where, problems)
    above = data.get("above_tokens")
    if isinstance(above, bool) or not isinstance(above, int) or above <= 0:
        problems.add(f"{where}.above_tokens", f"{above!r} is not a positive whole number of tokens")
    else:
        block.long_above = above
    block.long_tiers = _tiers(data, SERVICE_TIERS, where, problems)
    if not block.long_tiers:
        problems.add(where, f"no prices: give at least one of {', '.join(SERVICE_TIERS)}")


def _tiers(data: Mapping[str, Any], tiers: Iterable[str], where: str, problems: Problems) -> TierRates:
    result: TierRates = {}
    for tier in tiers:
        rates = data.get(tier)
        if rates is None:
            continue
        if not isinstance(rates, dict):
            problems.add(
                f"{where}.{tier}", f"expected a mapping of token type to USD per 1M, got {kind_of(rates)}"
            )
            continue
        check_keys(rates, TOKEN_TYPES, f"{where}.{tier}", problems, what="token type")
        parsed: dict[str, int] = {}
        for token_type in TOKEN_TYPES:
            if rates.get(token_type) is not None:
                rate = read_amount(rates[token_type], f"{where}.{tier}.{token_type}", MICRO, problems)
                if rate is not None:
                    parsed[token_type] = rate
        result[tier] = parsed
    return result


def _units(data: object, where: str, problems: Problems) -> dict[str, int]:
    if not isinstance(data, dict):
        problems.add(where, f"expected a mapping of unit name to USD per unit, got {kind_of(data)}")
        return {}
    result: dict[str, int] = {}
    for name, value in data.items():
        if not isinstance(name, str) or not name.strip():
            problems.add(where, f"unit name {name!r} is not a name")
            continue
        rate = read_amount(value, f"{where}.{name}", PICO_PER_USD, problems)
        if rate is not None:
            result[name] = rate
    return result


def _multipliers(data: object, where: str, problems: Problems) -> dict[str, Decimal]:
    """`inference_geo`: a mapping of reported geo (e.g. "us") to the factor on every price of the block."""
    if not isinstance(data, dict):
        problems.add(where, f"expected a mapping of inference geo to a price multiplier, got {kind_of(data)}")
        return {}
    result: dict[str, Decimal] = {}
    for name, value in data.items():
        factor = parse_decimal(value)
        if not isinstance(name, str) or not name.strip():
            problems.add(where, f"inference geo {name!r} is not a name")
        elif factor is None or factor <= 0:
            problems.add(f"{where}.{name}", f"{value!r} is not a positive multiplier (e.g. 1.1)")
        else:
            result[name.strip()] = factor
    return result
