"""The providers and budgets sections of the config, with their cross-checks (unique names, scopes).

Each builder records every problem it finds and returns what it could build; `load_config` raises
if anything was recorded, so a partly built section is never used.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Iterable, Mapping
from dataclasses import fields
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from monitor.config.model import (
    BUCKET_WIDTHS,
    PERIODS,
    BudgetConfig,
    BudgetScope,
    ProviderConfig,
)
from monitor.config.options import option_keys, read_options
from monitor.config.reader import NAME_FIELD, At, Field, Reader, quoted, read_scalars, require, unique
from monitor.config.values import (
    DURATION_HINT,
    Invalid,
    decimal_between,
    duration_at_least,
    int_between,
    one_of,
    parse_bool,
    parse_duration,
    suggest,
)
from monitor.providers.registry import TYPE_NAMES, TYPES
from monitor.providers.schema import ProviderType
from monitor.records import usd_to_pico

logger = logging.getLogger(__name__)


def _lookback(text: str) -> str:
    text = text.strip()
    if text != "month" and parse_duration(text) <= 0:
        raise Invalid("{value} is not a positive duration", "expected 'month' or a duration like 7d")
    return text


_PROVIDER_FIELDS: Mapping[str, Field] = {
    "name": NAME_FIELD,
    "type": (one_of(TYPE_NAMES, "provider"), "a provider type"),
    "poll_interval": (duration_at_least(10), "a duration of at least 10s"),
    "bucket_width": (one_of(BUCKET_WIDTHS, "bucket width"), "1m, 1h or 1d"),
    "revision_window": (duration_at_least(0), DURATION_HINT),
    "initial_lookback": (_lookback, "'month' or a duration"),
    "timeout": (duration_at_least(0, strict=True), DURATION_HINT),
    "max_attempts": (int_between(1), "a whole number"),
    "discount_percent": (decimal_between(Decimal(0), Decimal(100)), "a percent"),
    "fetch_costs": (parse_bool, "true or false"),
}
"""The keys every provider type has; each type adds its own (monitor.providers.registry)."""


def provider(reader: Reader, at: At, names: dict[str, At]) -> ProviderConfig | None:
    """One `providers[i]` entry; `names` collects every valid name seen, for uniqueness and budget scopes."""
    allowed = [*_PROVIDER_FIELDS, "endpoints", *option_keys()]
    items = reader.mapping(at, allowed, "a mapping with name, type and that type's keys, such as api_key")
    if items is None:
        return None
    values: dict[str, Any] = read_scalars(reader, items, _PROVIDER_FIELDS)
    kind = TYPES.get(values.get("type") or "")
    required = {
        "name": "add name: a unique account label like openai-prod",
        "type": f"add type: one of {', '.join(TYPE_NAMES)}",
    }
    complete = require(reader, at, items, required)
    name = values.get("name")
    if name is not None:
        unique(reader, items["name"], name, names)
    options = read_options(reader, at, items, kind)
    if kind is not None and "bucket_width" in values:
        width = values["bucket_width"]
        if width is not None and width not in kind.bucket_widths:
            widths = ", ".join(kind.bucket_widths)
            reader.problem(items["bucket_width"], f"{kind.name} reports {widths} buckets only (set {widths})")
            values["bucket_width"] = None
    elif kind is not None and "1h" not in kind.bucket_widths:
        values["bucket_width"] = kind.bucket_widths[0]
    if "endpoints" in items:
        values["endpoints"] = _endpoints(reader, items["endpoints"], kind)
    if not complete or kind is None or options is None or any(value is None for value in values.values()):
        return None
    return ProviderConfig(
        **values,
        api_key=options.pop("api_key", None),
        base_url=options.pop("base_url", ""),
        options=MappingProxyType(options),
    )


def _endpoints(reader: Reader, at: At, kind: ProviderType | None) -> tuple[str, ...] | None:
    items = reader.sequence(at, "a list of endpoint names")
    if items is None:
        return None
    if not items:
        reader.problem(at, "the list is empty (remove the key to poll every endpoint)")
        return None
    known = kind.endpoints if kind is not None else ()
    check = one_of(known, f"{kind.name} endpoint") if kind is not None else str
    parsed = [reader.value(item, check, expected="an endpoint name") for item in items]
    _report_repeats(reader, items, parsed, "endpoint")
    if any(name is None for name in parsed):
        return None
    return tuple(name for name in parsed if name is not None)


def _report_repeats(reader: Reader, items: list[At], values: list[Any], what: str) -> None:
    seen: set[Any] = set()
    for item, value in zip(items, values, strict=True):
        if value is not None and value in seen:
            reader.problem(item, f"{what} {quoted(item, str(value))} is listed twice (list each once)")
        seen.add(value)


def usd_amount(text: str) -> Decimal:
    """A positive USD amount, exact to the picodollar."""
    amount = decimal_between(Decimal(0), low_open=True)(text)
    try:
        usd_to_pico(amount)
    except ValueError:
        raise Invalid("{value} has more than 12 decimal places", "amounts are exact to 1e-12 USD") from None
    return amount


_BUDGET_FIELDS: Mapping[str, Field] = {
    "name": NAME_FIELD,
    "amount_usd": (usd_amount, "an amount in USD"),
    "period": (one_of(PERIODS, "period"), "a period"),
}


def budget(
    reader: Reader,
    at: At,
    names: dict[str, At],
    accounts: Iterable[str],
    attributed: Mapping[str, tuple[str, ...]] | None = None,
) -> BudgetConfig | None:
    """One `budgets[i]` entry; `accounts` are the configured provider names its scope may name,
    `attributed` the teams and cost centres the attribution rules name (its scope may name those)."""
    allowed = ("name", "amount_usd", "period", "scope", "thresholds", "forecast_thresholds")
    items = reader.mapping(at, allowed, "a mapping with name, amount_usd and period")
    if items is None:
        return None
    values: dict[str, Any] = read_scalars(reader, items, _BUDGET_FIELDS)
    complete = require(
        reader,
        at,
        items,
        {
            "name": "add name: a unique budget label like openai-monthly",
            "amount_usd": "add amount_usd: the limit in USD, like 500",
            "period": f"add period: one of {', '.join(PERIODS)}",
        },
    )
    name = values.get("name")
    if name is not None:
        unique(reader, items["name"], name, names)
    if "scope" in items:
        values["scope"] = scope(reader, items["scope"], tuple(accounts), known=attributed)
    for key in ("thresholds", "forecast_thresholds"):
        if key in items:
            values[key] = _ladder(reader, items[key])
    if not complete or any(value is None for value in values.values()):
        return None
    return BudgetConfig(**values)


def scope(
    reader: Reader,
    at: At,
    accounts: tuple[str, ...],
    *,
    keys: Iterable[str] | None = None,
    known: Mapping[str, tuple[str, ...]] | None = None,
) -> BudgetScope | None:
    """A budget scope (or, with `keys`, an attribution rule's `match`); provider and account values,
    and those of `known` (team, cost_center), must match something that exists."""
    allowed = list(keys) if keys is not None else [f.name for f in fields(BudgetScope)]
    items = reader.mapping(at, allowed, "a mapping like {provider: openai}")
    if items is None:
        return None
    known = {"provider": TYPE_NAMES, "account": accounts, **(known or {})}
    values: dict[str, tuple[str, ...]] = {}
    ok = True
    for key, item in items.items():
        parsed = reader.string_list(item, str)
        if parsed is None:
            ok = False
            continue
        for value_at, value in parsed:
            if key in known and not fnmatch.filter(known[key], value):
                what = {
                    "provider": "unknown provider type",
                    "account": "no provider account is named",
                    "team": "no attribution rule names the team",
                    "cost_center": "no attribution rule names the cost centre",
                }[key]
                hint = suggest(value, known[key], always_list=True)
                reader.problem(value_at, f"{what} {quoted(value_at, value)} ({hint})")
                ok = False
        values[key] = tuple(value for _, value in parsed)
    return BudgetScope(**values) if ok else None


def _percent(text: str) -> Decimal:
    return decimal_between(Decimal(0), low_open=True)(text)


def _ladder(reader: Reader, at: At) -> tuple[Decimal, ...] | None:
    """Threshold percents: each > 0, strictly increasing, none repeated."""
    items = reader.sequence(at, "a list of percents like [50, 80, 100]")
    if items is None:
        return None
    parsed = [reader.value(item, _percent, expected="a percent") for item in items]
    previous: Decimal | None = None
    ok = all(value is not None for value in parsed)
    for item, value in zip(items, parsed, strict=True):
        if value is None:
            continue
        if previous is not None and value == previous:
            reader.problem(
                item, f"{value} is listed twice (list each threshold once, from lowest to highest)"
            )
            ok = False
        elif previous is not None and value < previous:
            reader.problem(item, f"{value} comes after {previous} (list thresholds from lowest to highest)")
            ok = False
        previous = value if previous is None else max(previous, value)
    return tuple(value for value in parsed if value is not None) if ok else None
