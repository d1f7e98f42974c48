"""Teams and cost centres: the one function that says whose a piece of usage is.

Config `attribution:` is a list of rules, first match wins; usage no rule matches is `unassigned`.
A rule's `match` takes a budget scope's keys (provider, account, project, model, api_key, user),
each a list of globs (case-sensitive, like SQLite's GLOB); an empty key matches anything.

Budgets, reports, the metrics and the FOCUS export all call `Attributor.of` at read time, on the
ids the ledger keeps: the mapping is never written into the ledger, so a changed mapping
re-attributes the past the next time anything reads it.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from monitor.config.model import AttributionRule

UNASSIGNED = "unassigned"
"""The team and cost centre of usage no rule matches (and of a rule that leaves one out)."""

MATCH_DIMS: tuple[str, ...] = ("provider", "account", "project", "model", "api_key", "user")
"""What a rule can match on, in the order `Attributor.of` takes them."""


@dataclass(frozen=True, slots=True)
class Attribution:
    team: str = UNASSIGNED
    cost_center: str = UNASSIGNED


NOBODY = Attribution()


def _compile(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))


@dataclass
class Attributor:
    """Applies the rules; answers are cached per distinct combination of ids."""

    rules: Sequence[AttributionRule] = ()
    _compiled: list[tuple[tuple[re.Pattern[str] | None, ...], Attribution, bool]] = field(
        default_factory=list, repr=False
    )
    _cache: dict[tuple[str, ...], Attribution] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for rule in self.rules:
            patterns = tuple(_compile(tuple(getattr(rule.match, d))) for d in MATCH_DIMS)
            result = Attribution(rule.team or UNASSIGNED, rule.cost_center or UNASSIGNED)
            self._compiled.append((patterns, result, bool(rule.match.user)))

    @property
    def dims(self) -> tuple[str, ...]:
        """The dimensions some rule matches on (what a grouping must keep to attribute it)."""
        return tuple(
            d for i, d in enumerate(MATCH_DIMS) if any(p[i] is not None for p, _, _ in self._compiled)
        )

    def of(self, ids: tuple[str, ...]) -> Attribution:
        """The team and cost centre of usage with these ids (MATCH_DIMS order; first matching rule,
        else unassigned)."""
        found = self._cache.get(ids)
        if found is None:
            found = self._first(ids)[0]
            if len(self._cache) > 100_000:
                self._cache.clear()
            self._cache[ids] = found
        return found

    def of_row(self, row: Mapping[str, Any]) -> Attribution:
        """The attribution of a grouped row that has some of MATCH_DIMS ("" for the others)."""
        return self.of(tuple(str(row.get(d, "")) for d in MATCH_DIMS))

    def of_person(self, provider: str, account: str, model: str, user: str) -> Attribution | None:
        """The attribution of a developer's Claude Code rows: only when the rule that matches them
        names `user` (a rule by account alone would also claim tokens its usage already counts)."""
        result, by_user = self._first((provider, account, "", model, "", user))
        return result if by_user else None

    def _first(self, key: tuple[str, ...]) -> tuple[Attribution, bool]:
        for patterns, result, by_user in self._compiled:
            if all(p is None or p.match(v) is not None for p, v in zip(patterns, key, strict=True)):
                return result, by_user
        return NOBODY, False
