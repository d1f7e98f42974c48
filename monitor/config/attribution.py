"""The attribution section: rules that give usage a team and a cost centre (monitor.attribution).

```yaml
attribution:
  - match: {account: openai-prod, project: proj_alpha}
    team: search
    cost_center: CC-100
  - match: {account: "anthropic-*"}
    team: assistants
```
"""

from __future__ import annotations

from collections.abc import Iterable

from monitor.config.model import AttributionRule, BudgetScope
from monitor.config.reader import At, Reader, read_scalars, require
from monitor.config.sections import scope
from monitor.config.values import Invalid

MATCH_KEYS: tuple[str, ...] = ("provider", "account", "project", "model", "api_key", "user")
UNASSIGNED = "unassigned"


def _label(text: str) -> str:
    value = text.strip()
    if not value:
        raise Invalid("{value} is empty", "give a team or cost centre name, or leave the key out")
    if any(c in value for c in "\n\r"):
        raise Invalid("{value} contains a line break", "names are one line")
    return value


def attribution_rules(
    reader: Reader, items: list[At], accounts: Iterable[str]
) -> tuple[AttributionRule, ...] | None:
    """All `attribution[i]` rules; None if any is invalid."""
    rules = [_rule(reader, at, tuple(accounts)) for at in items]
    if any(rule is None for rule in rules):
        return None
    return tuple(rule for rule in rules if rule is not None)


def _rule(reader: Reader, at: At, accounts: tuple[str, ...]) -> AttributionRule | None:
    items = reader.mapping(
        at, ("match", "team", "cost_center"), "a mapping with match and team or cost_center"
    )
    if items is None:
        return None
    values = read_scalars(reader, items, {"team": (_label, "a team name"), "cost_center": (_label, "a name")})
    complete = require(reader, at, items, {"match": "add match: a scope like {account: openai-prod}"})
    if "team" not in items and "cost_center" not in items:
        reader.problem(at, "the rule gives neither team nor cost_center (add one, or remove the rule)")
        complete = False
    match: BudgetScope | None = None
    if "match" in items:
        match = scope(reader, items["match"], accounts, keys=MATCH_KEYS)
    if not complete or match is None or None in values.values():
        return None
    return AttributionRule(
        match=match, team=str(values.get("team", "")), cost_center=str(values.get("cost_center", ""))
    )


def named(rules: tuple[AttributionRule, ...] | None) -> dict[str, tuple[str, ...]]:
    """The teams and cost centres the rules name, plus `unassigned`: what a budget scope may name."""
    rules = rules or ()
    return {
        "team": tuple(sorted({r.team for r in rules if r.team} | {UNASSIGNED})),
        "cost_center": tuple(sorted({r.cost_center for r in rules if r.cost_center} | {UNASSIGNED})),
    }
