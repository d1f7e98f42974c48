"""Typed reads from provider JSON payloads: counts, strings, flags, timestamps, RFC 3339 times and
money, each failing with a ProviderResponseError that names the account, endpoint and field path, so a
hostile or changed payload rejects the page instead of writing wrong numbers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any

from monitor.errors import ProviderResponseError

MAX_COUNT = 10**15
"""Larger counts in one row of one bucket are treated as a hostile payload, not as usage."""
MAX_PICO = 2**63 - 1
"""A billed amount must fit a SQLite integer (about $9.2M per line per day)."""


class Fields:
    """Typed reads from one endpoint's payloads. Error messages name the field path (such as
    `page 1.data[0].results[2].input_tokens`), pass through `redact` and count in `errors`."""

    def __init__(
        self, account: str, endpoint: str, *, redact: Callable[[str], str], errors: Counter[str]
    ) -> None:
        self.account = account
        self.endpoint = endpoint
        self._redact = redact
        self._errors = errors

    def error(self, where: str, problem: str) -> ProviderResponseError:
        """The error to raise for `where`; counted as a bad_response."""
        self._errors["bad_response"] += 1
        message = self._redact(f"{self.account}: {self.endpoint}: {where}: {problem}")
        return ProviderResponseError(
            message, account=self.account, endpoint=self.endpoint, reason="bad_response"
        )

    def obj(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(where, f"expected an object, got {_show(value)}")
        return value

    def items(self, obj: Mapping[str, Any], key: str, where: str) -> list[Any]:
        value = obj.get(key)
        if not isinstance(value, list):
            raise self.error(f"{where}.{key}", f"expected a list, got {_show(value)}")
        return value

    def maybe_count(self, obj: Mapping[str, Any], key: str, where: str) -> int | None:
        """A non-negative whole count, or None when the field is missing or null."""
        value = obj.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(f"{where}.{key}", f"expected a whole number, got {_show(value)}")
        if not 0 <= value <= MAX_COUNT:
            raise self.error(f"{where}.{key}", f"expected a count between 0 and 10^15, got {_show(value)}")
        return int(value)

    def count(self, obj: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> int:
        """A non-negative whole count; missing or null is 0 unless `required`."""
        value = self.maybe_count(obj, key, where)
        if value is None:
            if required:
                raise self.error(f"{where}.{key}", "the required count is missing or null")
            return 0
        return value

    def derived(self, value: int, where: str, formula: str) -> int:
        """A count computed from others; negative means the payload contradicts itself."""
        if value < 0:
            raise self.error(where, f"{formula} is negative ({value}); the counts contradict each other")
        return value

    def text(self, obj: Mapping[str, Any], key: str, where: str) -> str:
        """A string dimension; missing or null is ""."""
        value = obj.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self.error(f"{where}.{key}", f"expected a string or null, got {_show(value)}")
        return value

    def flag(self, obj: Mapping[str, Any], key: str, where: str) -> bool:
        """A boolean dimension; missing or null is False."""
        value = obj.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self.error(f"{where}.{key}", f"expected true, false or null, got {_show(value)}")
        return value

    def timestamp(self, obj: Mapping[str, Any], key: str, where: str) -> int:
        value = obj.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**40:
            raise self.error(f"{where}.{key}", f"expected unix seconds, got {_show(value)}")
        return value

    def pico(self, dollars: Decimal, where: str) -> int:
        """Dollars as integer picodollars, rounded half-even (providers print binary floats in full)."""
        if not dollars.is_finite() or dollars.adjusted() > 12:
            raise self.error(where, f"the amount {_show(dollars)} is not a usable number")
        with localcontext() as ctx:
            ctx.prec = 60
            pico = int(dollars.scaleb(12).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
        if abs(pico) > MAX_PICO:
            raise self.error(where, f"the amount {_show(dollars)} is out of range")
        return pico


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def read_dollars(f: Fields, value: Any, where: str) -> Decimal:
    """A dollar amount: a JSON number, parsed as a Decimal by the client (never a float)."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise f.error(where, f"expected a number of dollars, got {value!r:.40}")
    return Decimal(value)


def read_instant(f: Fields, obj: dict[str, Any], key: str, where: str) -> int:
    """An RFC 3339 time with a zone (`2026-11-20T00:00:00Z`) as unix seconds."""
    text = f.text(obj, key, where)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise f.error(f"{where}.{key}", f"expected an RFC 3339 time with a zone, got {text!r:.40}")
    return int(when.timestamp())


def read_pico(f: Fields, obj: dict[str, Any], key: str, where: str) -> int:
    """A dollar amount of `obj` (a JSON number, read as a Decimal) in picodollars."""
    return f.pico(read_dollars(f, obj.get(key), f"{where}.{key}"), f"{where}.{key}")
