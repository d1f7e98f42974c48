"""The rules of the house, checked on the source: all SQL in `monitor/store/`, an import graph without
cycles, lower layers that never import higher ones, no module importing its own package's
`__init__`, and modules that stay small. Each walks `monitor/` with `ast`, so a new module is
checked the day it is added."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "monitor"
MAX_LINES = 300

SQL = re.compile(
    r"\b(SELECT\s.+\sFROM\b|INSERT\s+(OR\s+\w+\s+)?INTO\b|UPDATE\s+\w+\s+SET\b|DELETE\s+FROM\b|"
    r"CREATE\s+(TABLE|INDEX|TRIGGER|VIEW)\b|DROP\s+TABLE\b|PRAGMA\s+\w|GROUP\s+BY\b|CASE\s+WHEN\b)",
    re.DOTALL,
)
"""Statements and clauses, upper case as the project writes SQL (prose says "group by" in lower case)."""

LOWER_LAYERS = ("records", "errors", "config", "pricing", "store", "providers", "periods", "web")
HIGHER_LAYERS = ("budgets", "reconciliation", "alerts", "metrics", "daemon", "cli")

OVERSIZED: dict[str, str] = {}
"""Modules allowed past MAX_LINES for now, each with the reason; the rest are split by concept."""

CYCLES_ALLOWED: dict[str, str] = {}
"""Packages whose modules may still import their own `__init__` (and so form a cycle with it)."""


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


@cache
def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def package_of(name: str, path: Path) -> str:
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def is_module(name: str) -> bool:
    relative = Path(*name.split("."))
    return (ROOT.parent / relative).with_suffix(".py").is_file() or (
        ROOT.parent / relative / "__init__.py"
    ).is_file()


def runtime_imports(name: str, path: Path) -> Iterator[str]:
    """The monitor modules `name` imports when it runs (not under `if TYPE_CHECKING:`): for `from P
    import x` the submodule P.x when there is one, else P itself (its `__init__`)."""
    skipped: set[int] = set()
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for sub in node.body for child in ast.walk(sub))
    for node in ast.walk(tree(path)):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("monitor"))
        elif (
            isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("monitor")
        ):
            module = node.module or ""
            for alias in node.names:
                yield f"{module}.{alias.name}" if is_module(f"{module}.{alias.name}") else module


def graph() -> dict[str, set[str]]:
    return {name: set(runtime_imports(name, path)) - {name} for name, path in modules()}


def string_constants(path: Path) -> Iterator[tuple[int, str]]:
    """Every string literal but docstrings, with its line."""
    docstrings = set()
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


def test_no_module_but_the_store_holds_sql() -> None:
    found = [
        f"{path.relative_to(ROOT.parent)}:{line}: {text.strip()[:60]!r}"
        for name, path in modules()
        if not name.startswith("monitor.store")
        for line, text in string_constants(path)
        if SQL.search(text)
    ]
    assert found == []


def test_the_sql_check_finds_sql() -> None:
    assert SQL.search('SELECT "a", SUM(b) FROM usage') and SQL.search("INSERT OR IGNORE INTO t VALUES (?)")
    assert SQL.search(" GROUP BY day") and not SQL.search("grouped by the day it was selected from")


def test_no_noqa_for_sql_injection_outside_the_store() -> None:
    found = [
        str(path.relative_to(ROOT.parent))
        for name, path in modules()
        if not name.startswith("monitor.store") and "S608" in path.read_text(encoding="utf-8")
    ]
    assert found == []


def find_cycles(edges: dict[str, set[str]], allowed: set[str]) -> list[list[str]]:
    """Every cycle a depth-first walk meets, but those made only of `allowed` modules."""
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                if not set(cycle) <= allowed:
                    cycles.append(cycle)
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for name in sorted(edges):
        if name not in state:
            visit(name, [name])
    return cycles


def test_the_import_graph_has_no_cycles() -> None:
    edges = graph()
    allowed = {name for name in edges if any(name == p or name.startswith(p + ".") for p in CYCLES_ALLOWED)}
    assert [" -> ".join(c) for c in find_cycles(edges, allowed)] == []


def test_the_cycle_check_finds_cycles_through_a_package_init() -> None:
    edges = {"p": {"p.a"}, "p.a": {"p.b"}, "p.b": {"p"}, "q": {"p.a"}}
    assert find_cycles(edges, set()) == [["p", "p.a", "p.b", "p"]]
    assert find_cycles(edges, {"p", "p.a", "p.b"}) == []


def test_from_package_import_submodule_is_an_edge_to_the_submodule() -> None:
    assert set(runtime_imports("monitor.cli.main", ROOT / "cli" / "main.py")) >= {
        "monitor.cli.daemon",
        "monitor.cli.output",
    }


def test_no_module_imports_its_own_package_init() -> None:
    found = [
        f"{name} imports {target}"
        for name, path in modules()
        for target in runtime_imports(name, path)
        if target == package_of(name, path) and path.name != "__init__.py" and target not in CYCLES_ALLOWED
    ]
    assert found == []


@pytest.mark.parametrize("lower", LOWER_LAYERS)
def test_lower_layers_never_import_higher_ones(lower: str) -> None:
    found = [
        f"{name} imports {target}"
        for name, path in modules()
        if name == f"monitor.{lower}" or name.startswith(f"monitor.{lower}.")
        for target in runtime_imports(name, path)
        if target.split(".")[1:2] and target.split(".")[1] in HIGHER_LAYERS
    ]
    assert found == []


def test_every_module_stays_under_the_size_limit() -> None:
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules()}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES and name not in OVERSIZED} == {}
