"""Reading price files: YAML text -> model specs, every failure a one-line PricingError naming the file.

Price files are operator-written but are read as text from disk, so anything YAML can hold is
handled: non-UTF-8 bytes, control characters, deep nesting, duplicate keys (YAML would keep the
last one silently) and values YAML cannot build (the date 2026-13-01).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from monitor.errors import PricingError
from monitor.pricing.fields import unknown_key
from monitor.pricing.schema import parse_models
from monitor.pricing.specs import ModelSpec
from monitor.yamlfile import YamlFileError, one_line, read_nodes

_FILE_KEYS = ("version", "models")


def read_price_file(path: Path) -> tuple[str | None, list[ModelSpec]]:
    """Read a price file: a mapping with `models` (and optional `version`), or a bare list of entries.

    Raises PricingError naming the file (and the key path or line) for anything it cannot use:
    unreadable or non-UTF-8 files, invalid YAML, duplicate keys, values YAML cannot build, bad entries.
    """
    data = _load_yaml(path)
    version: str | None = None
    if isinstance(data, dict):
        unknown = [k for k in data if k not in _FILE_KEYS]
        if unknown:
            raise PricingError(f"{path}: {unknown_key(unknown[0], _FILE_KEYS)}")
        if "models" not in data:
            raise PricingError(f"{path}: missing 'models' (a list of model entries)")
        raw_version = data.get("version")
        version = None if raw_version is None else str(raw_version)
        data = data["models"]
        where = f"{path}: models"
    else:
        where = f"{path}: entries"
    specs, problems = parse_models(data, where)
    if problems:
        raise PricingError("\n".join(problems))
    return version, specs


_BUILD_ERRORS = (ValueError, OverflowError, TypeError)
"""What building data from valid YAML may raise besides YAMLError (e.g. the date 2026-13-01)."""


def _load_yaml(path: Path) -> object:
    """The document as data (floats as Decimal); every failure is a one-line PricingError.

    Read by monitor.yamlfile, the reader config files share: bounded in bytes and in alias expansion.
    """
    try:
        node = read_nodes(path, str(path), "price", _DecimalLoader)
    except YamlFileError as exc:
        raise PricingError(str(exc)) from None
    if node is None:
        return None
    duplicates = list(_duplicate_keys(node))
    if duplicates:
        raise PricingError("\n".join(f"{path}: {problem}" for problem in duplicates))
    try:
        return _DecimalLoader("").construct_document(node)
    except yaml.MarkedYAMLError as exc:  # e.g. a tag the safe loader does not build
        mark = exc.problem_mark or exc.context_mark
        at = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        raise PricingError(f"{path}{at}: invalid YAML: {one_line(exc.problem or str(exc))}") from None
    except (yaml.YAMLError, RecursionError, *_BUILD_ERRORS) as exc:
        raise PricingError(f"{path}: {_what_failed(node, exc)}") from None


def _walk(node: yaml.Node) -> Iterator[tuple[str, yaml.Node]]:
    """Every node with its key path (`models[0].prices[1].standard`), each node once, iteratively."""
    seen: set[int] = set()
    stack: list[tuple[str, yaml.Node]] = [("" if isinstance(node, yaml.MappingNode) else "entries", node)]
    while stack:
        where, item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield where, item
        if isinstance(item, yaml.MappingNode):
            children = [(f"{where}.{k.value}" if where else str(k.value), v) for k, v in item.value]
        elif isinstance(item, yaml.SequenceNode):
            children = [(f"{where}[{i}]", child) for i, child in enumerate(item.value)]
        else:
            continue
        stack.extend(reversed(children))


def _duplicate_keys(node: yaml.Node) -> Iterator[str]:
    """`<key path>: duplicate key at line N (first at line M; keep one)`: YAML would keep the last."""
    for where, item in _walk(node):
        if not isinstance(item, yaml.MappingNode):
            continue
        first: dict[str, int] = {}
        for key, _ in item.value:
            if not isinstance(key, yaml.ScalarNode):
                continue
            line = key.start_mark.line + 1
            if key.value in first:
                path = f"{where}.{key.value}" if where else str(key.value)
                yield f"{path}: duplicate key at line {line} (first at line {first[key.value]}; keep one)"
            first.setdefault(key.value, line)


def _what_failed(node: yaml.Node, exc: BaseException) -> str:
    """`<key path>: <problem>` for the first scalar YAML cannot build on its own (e.g. 2026-13-01)."""
    for where, item in _walk(node):
        if isinstance(item, yaml.ScalarNode):
            try:
                _DecimalLoader("").construct_document(item)
            except (yaml.YAMLError, *_BUILD_ERRORS) as scalar_exc:
                reason = one_line(str(scalar_exc))
                if str(item.tag).endswith(":timestamp"):
                    return f"{where}: {item.value!r} is not a date ({reason}; write a real day as YYYY-MM-DD)"
                return f"{where or 'top level'}: {item.value!r} cannot be read ({reason})"
    return f"cannot be read ({one_line(str(exc))})"


class _DecimalLoader(yaml.SafeLoader):
    """SafeLoader that reads YAML floats as exact Decimals (2.10 stays 2.10, never a binary float)."""


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.Node) -> object:
    text = str(loader.construct_scalar(node)).replace("_", "")  # type: ignore[arg-type]
    try:
        return Decimal(text)
    except InvalidOperation:
        return text  # e.g. ".inf": reported as "not a number" by the checks


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)
