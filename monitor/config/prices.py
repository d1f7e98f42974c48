"""The `pricing:` section: price files and inline overrides, checked by the pricing engine at load time.

`check-config` must refuse what the daemon would refuse at start, so the files are parsed and the
overrides and files are built into a `PriceTable` here, and every problem the pricing engine finds
becomes a config problem with its place: the override's line in the config, or the price file's
name and the key path in it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from monitor.config.model import PricingConfig
from monitor.config.reader import At, Reader, child_path, key_text
from monitor.config.values import DURATION_HINT, check_provider_url, duration_at_least, parse_bool
from monitor.errors import PricingError
from monitor.pricing import SOURCE_NAMES, PriceTable, check_price_entries
from monitor.pricing.files import read_price_file
from monitor.pricing.sources import GENAI_PRICES, source_problem

_CONSTRUCT_ERRORS = (yaml.YAMLError, ValueError, OverflowError, TypeError, RecursionError)
"""What building plain data from a node may raise: unknown tags, impossible dates, unhashable keys."""


_KEYS = ("sources", "files", "overrides", "aliases", "auto_update", "update_interval", "update_url")


def pricing_section(reader: Reader, at: At, existing_file: Callable[[str], Path]) -> PricingConfig | None:
    """The `pricing:` section (see PricingConfig); None if anything is wrong."""
    items = reader.mapping(at, _KEYS)
    if items is None:
        return None
    values: dict[str, Any] = {}
    if "sources" in items:
        values["sources"] = _sources(reader, items["sources"])
    if "files" in items:
        values["files"] = _files(reader, items["files"], existing_file)
    if "overrides" in items:
        values["overrides"] = _overrides(reader, items["overrides"])
    if "aliases" in items:
        aliases = reader.string_map(items["aliases"])
        values["aliases"] = None if aliases is None else MappingProxyType(aliases)
    if "auto_update" in items:
        values["auto_update"] = reader.value(items["auto_update"], parse_bool, expected="true or false")
    if "update_interval" in items:
        interval = duration_at_least(600)
        values["update_interval"] = reader.value(items["update_interval"], interval, expected=DURATION_HINT)
    if "update_url" in items:
        values["update_url"] = reader.value(
            items["update_url"], check_provider_url, expected="an http(s) URL"
        )
    if any(value is None for value in values.values()):
        return None
    config = PricingConfig(**values)
    if config.auto_update and GENAI_PRICES not in config.sources:
        reader.problem(
            items["auto_update"],
            f"auto_update refreshes the {GENAI_PRICES} source, which pricing.sources does not list; "
            f"add {GENAI_PRICES} to pricing.sources or remove auto_update",
        )
        return None
    if (config.files or config.overrides) and not _table_builds(reader, at, config):
        return None
    return config


def _sources(reader: Reader, at: At) -> tuple[str, ...] | None:
    """`pricing.sources`: known source names in order, each once (see monitor/pricing/sources.py)."""
    items = reader.sequence(at, f"a list of price sources ({', '.join(SOURCE_NAMES)})")
    if items is None:
        return None
    if not items:
        reader.problem(at, f"empty; list at least one of {', '.join(SOURCE_NAMES)}")
        return None
    names: list[str] = []
    ok = True
    for item in items:
        name = reader.value(item, str.strip, expected="a price source name")
        problem = None if name is None else source_problem(name, names)
        if problem:
            reader.problem(item, problem)
        ok = ok and name is not None and not problem
        names.append(name or "")
    return tuple(names) if ok else None


def _files(reader: Reader, at: At, existing_file: Callable[[str], Path]) -> tuple[Path, ...] | None:
    """Each price file must exist and parse; its problems name the price file and key path."""
    files = reader.sequence(at, "a list of price file paths")
    if files is None:
        return None
    paths: list[Path] = []
    for item in files:
        path = reader.value(item, existing_file, expected="a file path")
        if path is None:
            continue
        try:
            read_price_file(path)
        except PricingError as exc:
            for problem in str(exc).splitlines():  # each starts with the price file's name
                reader.report_elsewhere(problem)
            continue
        paths.append(path)
    return tuple(paths) if len(paths) == len(files) else None


def _overrides(reader: Reader, at: At) -> tuple[Mapping[str, Any], ...] | None:
    """Inline price entries: the pricing engine checks their content; its problems are placed by line.

    Entries become plain dicts (floats read as Decimal), the data shape the pricing engine parses.
    Duplicate keys are problems here as everywhere else in the config (plain YAML keeps the last).
    """
    entries = reader.sequence(at, "a list of price entries")
    if entries is None or _report_duplicate_keys(reader, at):
        return None
    data = [_construct(reader, entry) for entry in entries]
    if any(value is _FAILED for value in data):
        return None
    problems = check_price_entries(data, at.path)
    if problems:
        lines = _index_lines(at)
        for problem in problems:
            reader.report_line(_line_of(problem, lines), problem)
        return None
    return tuple(data)  # type: ignore[arg-type]  # checked: a list of mappings


_FAILED = object()


def _construct(reader: Reader, entry: At) -> object:
    """One entry as plain data, or _FAILED after reporting what YAML could not build (and where)."""
    try:
        return _plain_data(entry.node)
    except _CONSTRUCT_ERRORS as exc:
        at, message = _what_failed(entry, exc)
        reader.problem(at, message)
        return _FAILED


_PLAIN = "write plain mappings, lists and values"


def _what_failed(entry: At, exc: BaseException) -> tuple[At, str]:
    """The node YAML could not build and the message: its mark, or the first scalar that fails alone."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        index = exc.problem_mark.index
        node = next((item for item in _walk(entry) if item.node.start_mark.index == index), entry)
        return node, f"cannot be read as a price entry: {_one_line(exc.problem or str(exc))} ({_PLAIN})"
    if isinstance(exc, RecursionError):
        return entry, f"cannot be read as a price entry: the values nest too deeply ({_PLAIN})"
    for item in _walk(entry):
        if isinstance(item.node, yaml.ScalarNode):
            try:
                _plain_data(item.node)
            except _CONSTRUCT_ERRORS as scalar_exc:
                if item.node.tag.endswith(":timestamp"):
                    fix = "expected a real day as YYYY-MM-DD"
                    return item, f"'{item.node.value}' is not a valid date ({scalar_exc}; {fix})"
                return item, f"'{item.node.value}' cannot be read ({_one_line(str(scalar_exc))}; {_PLAIN})"
    return entry, f"cannot be read as a price entry: {_one_line(str(exc))} ({_PLAIN})"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _table_builds(reader: Reader, at: At, config: PricingConfig) -> bool:
    """Build the table the daemon will build; report the problems that only show up together
    (a derived tier price, a `cheaper` naming no model in the table). True if it builds."""
    try:
        PriceTable.load(
            extra_files=config.files,
            overrides=config.overrides,
            aliases=config.aliases,
            sources=config.sources,
        )
    except PricingError as exc:
        lines = _index_lines(at)
        for problem in str(exc).splitlines():
            line = _line_of(problem, lines)
            if line is None:  # a price file's problem, starting with the file's name
                reader.report_elsewhere(problem)
            else:
                reader.report_line(line, problem)
        return False
    return True


def _line_of(problem: str, lines: Mapping[str, int]) -> int | None:
    """The line of the longest known key path that starts the problem text."""
    known = [
        path for path in lines if problem.startswith(path) and problem[len(path) : len(path) + 1] in ".[: "
    ]
    best = max(known, key=len, default=None)
    return None if best is None else lines[best]


# -- YAML nodes, walked without recursion ---------------------------------------------------------


def _walk(at: At) -> Iterator[At]:
    """`at` and every node beneath it with its key path, depth first, each node once.

    Iterative, and an alias is not followed into a node already seen, so a deeply nested, recursive
    (`&a [*a]`) or alias-bomb document cannot exhaust the stack or take exponential time.
    """
    seen: set[int] = set()
    stack = [at]
    while stack:
        item = stack.pop()
        if id(item.node) in seen:
            continue
        seen.add(id(item.node))
        yield item
        if isinstance(item.node, yaml.MappingNode):
            children = [At(v, child_path(item.path, key_text(k))) for k, v in item.node.value]
        elif isinstance(item.node, yaml.SequenceNode):
            children = [At(node, child_path(item.path, i)) for i, node in enumerate(item.node.value)]
        else:
            continue
        stack.extend(reversed(children))


def _index_lines(at: At) -> dict[str, int]:
    """Every key path under `at` with its line (a key's own line), to place the pricing engine's problems."""
    lines = {at.path: at.line}
    for item in _walk(at):
        if isinstance(item.node, yaml.MappingNode):
            for key_node, _ in item.node.value:
                lines[child_path(item.path, key_text(key_node))] = int(key_node.start_mark.line) + 1
        lines.setdefault(item.path, item.line)
    return lines


def _report_duplicate_keys(reader: Reader, at: At) -> bool:
    """Report each duplicate key in the mappings at or under `at`, as `Reader.mapping` does; True if any.

    For parts of the file read as plain data (`_plain_data`), where YAML would silently keep the last.
    """
    found = False
    for item in _walk(at):
        if not isinstance(item.node, yaml.MappingNode):
            continue
        first: dict[str, int] = {}
        for key_node, _ in item.node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key, line = key_text(key_node), int(key_node.start_mark.line) + 1
            if key in first:
                reader.report(
                    line,
                    child_path(item.path, key),
                    f"duplicate key (first set at line {first[key]}; keep one)",
                )
                found = True
            first.setdefault(key, line)
    return found


class _ExactLoader(yaml.SafeLoader):
    """SafeLoader whose floats are exact Decimals ('2.10' stays Decimal('2.10'))."""


def _construct_exact(loader: yaml.SafeLoader, node: yaml.Node) -> object:
    text = str(node.value).replace("_", "")
    try:
        return Decimal(text)
    except InvalidOperation:
        return text  # .inf / .nan: left as text for the consumer to reject


_ExactLoader.add_constructor("tag:yaml.org,2002:float", _construct_exact)


def _plain_data(node: yaml.Node) -> object:
    """The node as plain Python data, as yaml.safe_load gives it but with Decimal for floats."""
    return _ExactLoader("").construct_document(node)
