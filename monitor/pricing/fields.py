"""Reading one value of a price file: amounts as exact integers, dates, names, text and known keys.

Each reader adds a problem to `Problems`, prefixed with the value's key path, instead of raising, so
checking a file gathers every problem at once.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

MICRO = 10**6
"""A price of X USD per 1M tokens is the integer rate X * 10**6 picodollars per token."""


class Problems(list[str]):
    def add(self, where: str, message: str) -> None:
        self.append(f"{where}: {message}")


def read_amount(value: object, where: str, scale: int, problems: Problems) -> int | None:
    """USD amount -> exact integer in 1/scale USD (MICRO: per-1M price -> picodollars per token)."""
    number = parse_decimal(value)
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


def parse_decimal(value: object) -> Decimal | None:
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


def read_date(value: object, where: str, problems: Problems) -> date | None:
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


def read_name(data: Mapping[str, Any], key: str, where: str, problems: Problems) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.add(f"{where}.{key}", "missing" if value is None else f"{value!r} is not a name")
        return ""
    return value.strip()


def read_text(data: Mapping[str, Any], key: str, where: str, problems: Problems, *, required: bool) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        hint = "; cite where the price comes from (URL or document)" if key == "source" else ""
        problems.add(f"{where}.{key}", ("missing" if value is None else f"{value!r} is not text") + hint)
        return ""
    return value.strip()


def check_keys(
    data: Mapping[Any, Any], allowed: Iterable[str], where: str, problems: Problems, what: str = "key"
) -> None:
    allowed = tuple(allowed)
    for key in data:
        if key not in allowed:
            problems.add(f"{where}.{key}", unknown_key(key, allowed, what))


def unknown_key(key: object, allowed: tuple[str, ...], what: str = "key") -> str:
    close = difflib.get_close_matches(str(key), allowed, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"expected one of: {', '.join(allowed)}"
    return f"unknown {what} {key!r}; {hint}"


def kind_of(value: object) -> str:
    return "nothing" if value is None else type(value).__name__
