"""Reading a YAML file that people write (the config, price files): bounded, as nodes with positions.

The one reader of both: `read_nodes(path, shown, kind)` reads the file, composes its single YAML
document into nodes that keep their line and column, and turns every failure into a one-line
`YamlFileError` naming the file (and line and column where there is one) and what would fix it.

What it may read is bounded, so a config pointing at `/dev/zero`, a huge file or a "billion
laughs" document (aliases of aliases, a few hundred bytes that stand for billions of nodes) is a
clear error, not a process that eats all memory:

- at most MAX_FILE_BYTES are read from the file (the bundled price table is ~18 kB);
- the document may stand for at most MAX_NODES nodes with every alias expanded (the readers
  walk aliases as the values they stand for, so that is the work and memory they would spend).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from monitor.errors import SpendMonitorError

MAX_FILE_BYTES = 4 * 1024 * 1024
"""The largest config or price file read: far above any real one, far below a memory problem."""
MAX_NODES = 100_000
"""The most nodes a document may stand for with its aliases expanded."""


class YamlFileError(SpendMonitorError):
    """A config or price file cannot be read as YAML; the message is one line naming the file."""


def read_bounded(path: Path, limit: int) -> bytes:
    """At most `limit` bytes of the file; OSError as `open` and `read` raise it, ValueError past `limit`."""
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"larger than {limit:,} bytes")
    return data


def read_text(path: Path, shown: str, kind: str, *, limit: int = MAX_FILE_BYTES) -> str:
    """The file's UTF-8 text; YamlFileError (naming `shown` and the `kind` of file) if it cannot be read."""
    try:
        return read_bounded(path, limit).decode("utf-8")
    except OSError as exc:
        raise YamlFileError(f"{shown}: cannot read {kind} file: {exc.strerror or exc}") from None
    except ValueError as exc:
        if isinstance(exc, UnicodeDecodeError):
            raise YamlFileError(f"{shown}: the {kind} file is not UTF-8 text (save it as UTF-8)") from None
        raise YamlFileError(
            f"{shown}: the {kind} file is {exc} (is it the right file? a {kind} file is a few kB of YAML)"
        ) from None


def compose(text: str, shown: str, loader: type[yaml.SafeLoader] = yaml.SafeLoader) -> yaml.Node | None:
    """The single YAML document of `text` as nodes (None if it holds none); YamlFileError on any failure."""
    try:
        node = yaml.compose(text, Loader=loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{shown}:{mark.line + 1}:{mark.column + 1}" if mark else shown
        context = (
            f"{exc.context} at line {exc.context_mark.line + 1}" if exc.context and exc.context_mark else ""
        )
        hint = context or "check the indentation and quoting here"
        raise YamlFileError(f"{where}: invalid YAML: {one_line(exc.problem or str(exc))} ({hint})") from None
    except yaml.reader.ReaderError as exc:  # a control character: not a MarkedYAMLError
        line, column = _line_column(text, exc.position)
        raise YamlFileError(
            f"{shown}:{line}:{column}: invalid YAML: unacceptable character #x{exc.character:04x}: "
            f"{exc.reason} (remove it, or write it as an escape in a double-quoted string)"
        ) from None
    except yaml.YAMLError as exc:
        raise YamlFileError(f"{shown}: invalid YAML: {one_line(str(exc))}") from None
    except RecursionError:
        raise YamlFileError(
            f"{shown}: invalid YAML: the values nest too deeply (flatten the nested lists and mappings)"
        ) from None
    if node is not None:
        check_expanded_size(node, shown)
    return node


def read_nodes(
    path: Path, shown: str, kind: str, loader: type[yaml.SafeLoader] = yaml.SafeLoader
) -> yaml.Node | None:
    """Read and compose a config or price file: bounded, every failure a one-line YamlFileError."""
    return compose(read_text(path, shown, kind), shown, loader)


def check_expanded_size(root: yaml.Node, shown: str, limit: int = MAX_NODES) -> None:
    """YamlFileError when the document stands for more than `limit` nodes with aliases expanded.

    Counted without expanding anything: each distinct node once, its size the sum of its
    children's (an alias is the very node object it names, so it is counted where it is used).
    """
    sizes: dict[int, int] = {}
    visiting: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            sizes[id(node)] = min(limit + 1, 1 + sum(sizes[id(c)] for c in _children(node)))
            visiting.discard(id(node))
            continue
        if id(node) in sizes:
            continue
        if id(node) in visiting:  # met again below itself: an alias inside the value it names
            raise YamlFileError(
                f"{shown}:{node.start_mark.line + 1}: invalid YAML: a value contains an alias of itself "
                "(a recursive structure); write the values out"
            )
        visiting.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in sizes)
    if sizes[id(root)] > limit:
        raise YamlFileError(
            f"{shown}: the YAML document stands for more than {limit:,} values once its aliases (*name) "
            "are expanded; write the values out, or use fewer aliases of aliases"
        )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _line_column(text: str, position: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    before = text[:position]
    return before.count("\n") + 1, position - (before.rfind("\n") + 1) + 1


def one_line(text: str) -> str:
    return " ".join(text.split())
