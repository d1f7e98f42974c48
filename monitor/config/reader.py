"""Reading YAML as nodes that keep their line numbers, and collecting every problem with its place.

The loader walks `yaml.compose` nodes (not `safe_load` data) so each value has a line and a key
path, and scalars are read from their source text: `500.10` becomes Decimal('500.10'), never a float.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import yaml

from monitor.config import refs
from monitor.config.model import Secret
from monitor.config.values import Invalid, check_name, suggest
from monitor.errors import ConfigError
from monitor.yamlfile import YamlFileError, read_nodes

T = TypeVar("T")
logger = logging.getLogger(__name__)

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")
_NODE_KINDS = {yaml.MappingNode: "a mapping", yaml.SequenceNode: "a list", yaml.ScalarNode: "a single value"}


def child_path(parent: str, key: str | int) -> str:
    """`providers` + 1 -> `providers[1]`; `web` + `tls_cert_file` -> `web.tls_cert_file`."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    if not _PLAIN_KEY.fullmatch(key):
        return f'{parent}["{key}"]'
    return f"{parent}.{key}" if parent else key


@dataclass(frozen=True)
class At:
    """A YAML node and the key path that leads to it."""

    node: yaml.Node
    path: str

    @property
    def line(self) -> int:
        return int(self.node.start_mark.line) + 1

    @property
    def is_null(self) -> bool:
        return isinstance(self.node, yaml.ScalarNode) and self.node.tag == "tag:yaml.org,2002:null"


def read_document(path: Path, shown: str) -> yaml.Node | None:
    """Compose the file's single YAML document; raises ConfigError (one line) if it cannot be read.

    Read by monitor.yamlfile, the reader price files share: bounded in bytes and in alias expansion.
    """
    try:
        return read_nodes(path, shown, "config")
    except YamlFileError as exc:
        hint = " (check the --config path)" if ": cannot read config file: " in str(exc) else ""
        raise ConfigError([f"{exc}{hint}"]) from None


class Reader:
    """Typed access to nodes; every problem is recorded (with file, line and key path), none raised."""

    def __init__(self, shown: str, environ: Mapping[str, str]) -> None:
        self.shown = shown
        self.environ = environ
        self._problems: list[tuple[int, int, str]] = []

    def report(self, line: int | None, path: str, message: str) -> None:
        """Record `<file>:<line>: <path>: <message>`; the message ends with '(how to fix)'."""
        self.report_line(line, f"{path or 'top level'}: {message}")

    def report_line(self, line: int | None, text: str) -> None:
        """Record a problem whose text already starts with its key path (e.g. from the pricing engine)."""
        where = f"{self.shown}:{line}" if line else self.shown
        self._problems.append((line or 0, len(self._problems), f"{where}: {text}"))

    def report_elsewhere(self, text: str) -> None:
        """Record a problem in another file the config names; `text` starts with that file's name."""
        self._problems.append((0, len(self._problems), text))

    def problem(self, at: At, message: str) -> None:
        self.report(at.line, at.path, message)

    def problems(self) -> list[str]:
        """All problems, in file order (problems without a line first)."""
        return [text for _, _, text in sorted(self._problems)]

    def _wrong_kind(self, at: At, expected: str) -> None:
        expected = expected.removeprefix("expected ")  # hints such as DURATION_HINT start with it
        if at.is_null:
            self.problem(at, f"no value given (set {expected}, or remove the key to use the default)")
        else:
            self.problem(at, f"is {_NODE_KINDS[type(at.node)]} (expected {expected})")

    def mapping(self, at: At, allowed: Iterable[str] | None, expected: str = "") -> dict[str, At] | None:
        """The keys of a mapping node; duplicate keys, and keys not in `allowed` (unless None), are problems."""
        allowed = None if allowed is None else tuple(allowed)
        if not isinstance(at.node, yaml.MappingNode):
            self._wrong_kind(at, expected or f"a mapping with keys: {', '.join(allowed or ())}")
            return None
        items: dict[str, At] = {}
        for key_node, value_node in at.node.value:
            key = key_text(key_node)
            key_at = At(key_node, child_path(at.path, key))
            if key in items:
                self.problem(key_at, f"duplicate key (first set at line {items[key].line}; keep one)")
            elif allowed is not None and key not in allowed:
                self.problem(key_at, f"unknown key ({suggest(key, allowed)})")
            else:
                items[key] = At(value_node, key_at.path)
        return items

    def string_map(
        self, at: At, check: Callable[[str], str] = str, *, secret: bool = False
    ) -> dict[str, str] | None:
        """A mapping of any keys to strings (aliases, headers, users), None if any value fails."""
        items = self.mapping(at, None, "a mapping of names to values")
        if items is None:
            return None
        result = {
            key: self.value(item, check, expected="a string", secret=secret) for key, item in items.items()
        }
        return None if None in result.values() else {k: v for k, v in result.items() if v is not None}

    def sequence(self, at: At, expected: str = "a list") -> list[At] | None:
        if not isinstance(at.node, yaml.SequenceNode):
            self._wrong_kind(at, expected)
            return None
        return [At(node, child_path(at.path, i)) for i, node in enumerate(at.node.value)]

    def text(self, at: At, expected: str = "a string") -> tuple[str, bool] | None:
        """A scalar's source text with references resolved, and whether a reference was used."""
        if not isinstance(at.node, yaml.ScalarNode) or at.is_null:
            self._wrong_kind(at, expected)
            return None
        raw = str(at.node.value)
        if not refs.has_reference(raw):
            return raw, False
        try:
            return refs.resolve(raw, self.environ), True
        except Invalid as exc:
            self.problem(at, str(exc))
            return None

    def value(self, at: At, parse: Callable[[str], T], *, expected: str, secret: bool = False) -> T | None:
        """Parse a scalar; a parse failure names the value unless it is secret or came from a reference."""
        got = self.text(at, expected)
        if got is None:
            return None
        text, referenced = got
        try:
            return parse(text)
        except Invalid as exc:
            shown = (
                "the value" if secret else f"the value of '{at.node.value}'" if referenced else f"'{text}'"
            )
            self.problem(at, exc.render(shown))
            return None

    def secret(self, at: At) -> Secret | None:
        """A secret value, never shown in messages; written literally in the file it draws a warning."""
        if at.node.tag == "tag:yaml.org,2002:str" and not refs.has_reference(str(at.node.value)):
            logger.warning(
                "%s is written in the config file itself; prefer ${ENV_VAR} or ${file:/path}", at.path
            )
        value = self.value(at, _non_empty, expected="a string", secret=True)
        return None if value is None else Secret(value)

    def string_list(self, at: At, parse: Callable[[str], T]) -> list[tuple[At, T]] | None:
        """A single string or a list of strings, each parsed (None if any fails); scope filters use this."""
        items = [at] if isinstance(at.node, yaml.ScalarNode) and not at.is_null else self.sequence(at)
        if items is None:
            return None
        parsed = [(item, self.value(item, parse, expected="a string")) for item in items]
        if any(value is None for _, value in parsed):
            return None
        return [(item, value) for item, value in parsed if value is not None]


def key_text(node: yaml.Node) -> str:
    """A mapping key as written ("?" for a key that is itself a list or mapping)."""
    return str(node.value) if isinstance(node, yaml.ScalarNode) else "?"


Field = tuple[Callable[[str], object], str]
"""How to read one scalar key: the parser, and what is expected (for 'is a list (expected ...)')."""

NAME_FIELD: Field = (check_name, "a name")


def _non_empty(text: str) -> str:
    if not text.strip():
        raise Invalid("{value} is empty", "set the secret, e.g. with a ${ENV_VAR} reference")
    return text


def quoted(at: At, text: str) -> str:
    """How a message shows a value read at `at` (a scalar, or a mapping's `name`): quoted as written,
    or by its reference ("the value of '${VAR}'") when it came from one, so a secret is never shown."""
    node = at.node
    if isinstance(node, yaml.MappingNode):
        node = next((value for key, value in node.value if key_text(key) == "name"), node)
    raw = str(node.value) if isinstance(node, yaml.ScalarNode) else ""
    return f"the value of '{raw}'" if refs.has_reference(raw) else f"'{text}'"


def unique(reader: Reader, at: At, name: str, seen: dict[str, At]) -> None:
    """Record `name` (at `at`) in `seen`; a name already there is a problem naming the first line."""
    if name in seen:
        reader.problem(
            at,
            f"duplicate name {quoted(at, name)} (also used at line {seen[name].line}; names must be unique)",
        )
    seen.setdefault(name, at)


def read_scalars(reader: Reader, items: Mapping[str, At], fields: Mapping[str, Field]) -> dict[str, object]:
    """Parse the scalar keys present in `items`; a key that failed to parse maps to None."""
    return {
        key: reader.value(items[key], parse, expected=expected)
        for key, (parse, expected) in fields.items()
        if key in items
    }


def require(reader: Reader, parent: At, items: Mapping[str, At], required: Mapping[str, str]) -> bool:
    """Report each missing required key (`required` maps key -> how to fix); True if none is missing."""
    missing = [key for key in required if key not in items]
    for key in missing:
        line = parent.line if parent.path else None
        reader.report(line, child_path(parent.path, key), f"required key is missing ({required[key]})")
    return not missing
