"""The keys each provider type adds to a `providers[i]` entry, read as its registry entry describes them.

Every type declares its own keys (`monitor.providers.schema.Option`): this module knows how to read
each kind of value, reports a missing required key or a key of another type with its key path, and
fills in the defaults.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from monitor.config.reader import At, Reader, require
from monitor.config.values import Invalid, check_provider_url, int_between, parse_bool
from monitor.providers.registry import TYPES
from monitor.providers.schema import Option, ProviderType

_WORD = re.compile(r"\S+")
_NAME = re.compile(r"[A-Za-z0-9_.()-]+")
_GUID = re.compile(r"[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _text(text: str) -> str:
    if not _WORD.fullmatch(text.strip()):
        raise Invalid("{value} is not one word", "expected text without spaces")
    return text.strip()


def _name(text: str) -> str:
    if not _NAME.fullmatch(text.strip()):
        raise Invalid(
            "{value} is not a resource name", "use letters, digits, '_', '.', '(', ')' and '-' only"
        )
    return text.strip()


def _guid(text: str) -> str:
    if not _GUID.fullmatch(text.strip()):
        raise Invalid("{value} is not a GUID", "expected a GUID like 00000000-0000-0000-0000-000000000000")
    return text.strip().lower()


def _version_date(text: str) -> str:
    if not _DATE.fullmatch(text.strip()):
        raise Invalid("{value} is not a version date", "expected YYYY-MM-DD, like 2023-06-01")
    return text.strip()


_PARSERS: Mapping[str, tuple[Callable[[str], Any], str]] = {
    "url": (check_provider_url, "an http(s) URL"),
    "text": (_text, "a single word"),
    "name": (_name, "a resource name"),
    "guid": (_guid, "a GUID"),
    "whole": (int_between(1), "a whole number"),
    "version_date": (_version_date, "a date like 2023-06-01"),
    "bool": (parse_bool, "true or false"),
}


def option_keys() -> list[str]:
    """Every key some provider type adds, in a stable order."""
    return sorted({key for kind in TYPES.values() for key in kind.options})


def listed(names: list[str]) -> str:
    """Names for a message: "newapi", "anthropic and openai", "anthropic, openai and openrouter"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _owners(key: str) -> str:
    """The types that take `key`, listed."""
    return listed(sorted(kind.name for kind in TYPES.values() if key in kind.options))


def _read(reader: Reader, at: At, option: Option) -> Any:
    if option.kind == "secret":
        return reader.secret(at)
    parse, expected = _PARSERS[option.kind]
    value = reader.value(at, parse, expected=expected)
    problem = None if value is None or option.check is None else option.check(value)
    if problem is not None:
        reader.problem(at, problem)
        return None
    return value


def read_options(
    reader: Reader, entry: At, items: Mapping[str, At], kind: ProviderType | None
) -> dict[str, Any] | None:
    """The type's own keys of one entry (with defaults), or None if any is missing or wrong.

    With an unknown or missing `type` nothing is read here (that problem is reported already).
    """
    if kind is None:
        return None
    required = {key: f"add {key}: {o.fix}" for key, o in kind.options.items() if o.required}
    complete = require(reader, entry, items, required)
    values: dict[str, Any] = {}
    for key in option_keys():
        if key not in items:
            continue
        option = kind.options.get(key)
        if option is None:
            reader.problem(items[key], f"only applies to {_owners(key)} providers (remove it)")
            complete = False
            continue
        values[key] = _read(reader, items[key], option)
    for key, option in kind.options.items():
        if key not in items and option.default is not None:
            parse = _PARSERS[option.kind][0]
            values[key] = parse(option.default)
    if not complete or any(value is None for value in values.values()):
        return None
    return values
