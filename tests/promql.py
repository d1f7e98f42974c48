"""The PromQL the project ships (Grafana dashboards, alert rules), ready to run against Prometheus.

Grafana variables are replaced by values a plain Prometheus query accepts, so tests can parse each
expression with promtool or run it through Prometheus's HTTP API against a live daemon.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DASHBOARDS_DIR = ROOT / "grafana" / "dashboards"
ALERT_RULES = ROOT / "prometheus" / "alerts.yml"

GRAFANA_VALUES: dict[str, str] = {
    "__rate_interval": "1m",
    "__interval": "1m",
    "__range": "1h",
    "provider": ".*",
    "account": ".*",
    "project": ".*",
    "team": ".*",
    "budget": ".*",
}
"""What each Grafana variable becomes: short windows, and the "All" value (`.*`) for scope variables."""

_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")
_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?:(?P<query>.+),\s*)?(?P<label>\w+)\s*\)\s*$", re.DOTALL)

# Words that look like metric names in PromQL but are not: operators, modifiers, aggregations.
_NOT_METRICS = frozenset(
    [
        "and",
        "or",
        "unless",
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "bool",
        "offset",
        "atan2",
        "inf",
        "nan",
        "sum",
        "min",
        "max",
        "avg",
        "group",
        "stddev",
        "stdvar",
        "count",
        "count_values",
        "bottomk",
        "topk",
        "quantile",
    ]
)


def substitute_variables(expr: str) -> str:
    """Replace `$var`, `${var}`, `${var:fmt}` and `[[var]]` by GRAFANA_VALUES; unknown ones raise ValueError."""

    def value(match: re.Match[str]) -> str:
        name = next(group for group in match.groups() if group)
        if name not in GRAFANA_VALUES:
            raise ValueError(
                f"no test value for Grafana variable ${name} in {expr!r}: add it to GRAFANA_VALUES"
            )
        return GRAFANA_VALUES[name]

    return _VARIABLE.sub(value, expr)


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects (functions, label names and keywords left out)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"' r"|'(?:[^'\\]|\\.)*'|`[^`]*`", '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # ranges and subqueries
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", r" \1 ", text)
    words = re.findall(r"(?<![\w.:])([A-Za-z_:][\w:]*)(?![\w:])(?!\s*\()", text)
    return {word for word in words if word.lower() not in _NOT_METRICS}


def dashboard_panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every panel, including those nested in (collapsed) rows."""
    for panel in panels:
        yield panel
        yield from dashboard_panels(panel.get("panels", []))


def _variable_query(variable: dict[str, Any]) -> str | None:
    """The series selector behind a `label_values(query, label)` query variable, if it has one."""
    query = variable.get("query")
    if isinstance(query, dict):
        query = query.get("query")
    if variable.get("type") != "query" or not isinstance(query, str):
        return None
    match = _LABEL_VALUES.match(query)
    if match is None:
        return query
    return match.group("query")


def _dashboard_expressions(path: Path, name: str) -> Iterator[tuple[str, str]]:
    board = json.loads(path.read_text())
    for variable in board.get("templating", {}).get("list", []):
        query = _variable_query(variable)
        if query:
            yield f"{name}: variable {variable['name']}", query
    for panel in dashboard_panels(board.get("panels", [])):
        for target in panel.get("targets", []):
            if target.get("expr"):
                yield (
                    f"{name}: panel {panel.get('title', '')!r} query {target.get('refId', '')}",
                    target["expr"],
                )


def _rule_expressions(path: Path, name: str) -> Iterator[tuple[str, str]]:
    document = yaml.safe_load(path.read_text())
    for group in document["groups"]:
        for rule in group["rules"]:
            kind = "alert" if "alert" in rule else "record"
            yield f"{name}: {kind} {rule.get('alert') or rule.get('record')}", str(rule["expr"])


def extract_promql_expressions(
    dashboards_dir: Path = DASHBOARDS_DIR, rules_file: Path = ALERT_RULES
) -> list[tuple[str, str]]:
    """(source location, expression) for every panel query, variable query and alert rule.

    Variables are substituted (see GRAFANA_VALUES), so each expression runs as is against Prometheus.
    Panel queries include those of panels inside collapsed rows.
    """
    found: list[tuple[str, str]] = []
    for path in sorted(dashboards_dir.glob("*.json")):
        found.extend(_dashboard_expressions(path, _relative(path)))
    if rules_file.exists():
        found.extend(_rule_expressions(rules_file, _relative(rules_file)))
    return [(where, substitute_variables(expr)) for where, expr in found]


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)
