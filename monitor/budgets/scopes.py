"""Which (provider, account, project, model, api_key, user) combinations a budget scope selects,
and through the attribution rules which team and cost centre they belong to.

Each scope field is a tuple of glob patterns (`*`, `?`, `[...]`, case-sensitive like SQLite's
GLOB, which the store's `Scope` uses); empty means any. Patterns are compiled once and answers
cached per (patterns, value). A new scope is matched through an index of combinations by field
value (starting from its most selective field); afterwards only combinations never seen before
are matched, so a steady-state cycle does no glob matching at all.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable
from dataclasses import fields

from monitor.budgets.spend import DIMS, Combo
from monitor.config import BudgetScope

ScopeKey = tuple[tuple[str, ...], ...]
"""A scope as its pattern tuples, in KEY_DIMS order (hashable, shared by equal scopes)."""

KEY_DIMS: tuple[str, ...] = (*DIMS, "team", "cost_center")
"""The combination's own dimensions, then the two its attribution gives it."""


def scope_key(scope: BudgetScope) -> ScopeKey:
    by_name = {f.name: tuple(getattr(scope, f.name)) for f in fields(scope)}
    return tuple(by_name.get(dim, ()) for dim in KEY_DIMS)


def _compile(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))


class ScopeMatcher:
    """Remembers, per scope, the combinations it selects among those seen so far.

    Combinations are never forgotten (a list may name one that left the window; callers skip
    those), which keeps every update incremental.
    """

    def __init__(self, attribute: Callable[[Combo], tuple[str, str]] | None = None) -> None:
        self._attribute = attribute or (lambda _combo: ("", ""))
        self._values: dict[Combo, tuple[str, ...]] = {}
        self._compiled: dict[tuple[str, ...], re.Pattern[str]] = {}
        self._answers: dict[tuple[tuple[str, ...], str], bool] = {}
        self._matches: dict[ScopeKey, list[Combo]] = {}
        self._known: set[Combo] = set()
        self._index: list[dict[str, list[Combo]]] = [{} for _ in KEY_DIMS]

    def field_matches(self, patterns: tuple[str, ...], value: str) -> bool:
        if not patterns:
            return True
        answer = self._answers.get((patterns, value))
        if answer is None:
            regex = self._compiled.get(patterns)
            if regex is None:
                regex = self._compiled[patterns] = _compile(patterns)
            answer = self._answers[(patterns, value)] = regex.match(value) is not None
        return answer

    def matches(self, key: ScopeKey, combo: Combo) -> bool:
        return all(self.field_matches(p, v) for p, v in zip(key, self._values[combo], strict=True))

    def update(self, scopes: Iterable[ScopeKey], combos: Iterable[Combo]) -> None:
        """Match combinations not seen before against every scope, and new scopes against everything."""
        new = [c for c in combos if c not in self._known]
        for combo in new:
            self._known.add(combo)
            values = self._values[combo] = (*combo, *self._attribute(combo))
            for i, value in enumerate(values):
                self._index[i].setdefault(value, []).append(combo)
        for key in scopes:
            if key not in self._matches:
                self._matches[key] = self._select(key)
            elif new:
                self._matches[key].extend(c for c in new if self.matches(key, c))

    def _select(self, key: ScopeKey) -> list[Combo]:
        allowed: list[set[str] | None] = [
            {v for v in self._index[i] if self.field_matches(patterns, v)} if patterns else None
            for i, patterns in enumerate(key)
        ]
        restricted = [i for i, values in enumerate(allowed) if values is not None]
        if not restricted:
            return list(self._known)

        def candidates(i: int) -> int:
            values = allowed[i] or set()
            return sum(len(self._index[i][v]) for v in values)

        first = min(restricted, key=candidates)
        others = [(i, allowed[i] or set()) for i in restricted if i != first]
        return [
            combo
            for value in allowed[first] or set()
            for combo in self._index[first][value]
            if all(self._values[combo][i] in values for i, values in others)
        ]

    def combos_of(self, key: ScopeKey) -> list[Combo]:
        return self._matches.get(key, [])
