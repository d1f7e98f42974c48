"""What a budget counts, in words for people: its scope with names instead of ids."""

from __future__ import annotations

from dataclasses import fields

from monitor.config import BudgetScope
from monitor.directory import API_KEY, PROJECT, USER, Names

_NAMED = {"project": PROJECT, "api_key": API_KEY, "user": USER}
_WORDS = {"api_key": "API key", "cost_center": "cost centre"}


def scope_text(scope: BudgetScope, names: Names) -> str:
    """ "provider openai; project search-backend, support-bot" ("all usage" for an empty scope).

    Ids are shown by their directory names (patterns and unknown ids as written)."""
    parts = []
    for f in fields(scope):
        values: tuple[str, ...] = getattr(scope, f.name)
        if not values:
            continue
        kind = _NAMED.get(f.name)
        shown = [names.label(kind, v) if kind else v for v in values]
        parts.append(f"{_WORDS.get(f.name, f.name)} {', '.join(shown)}")
    return "; ".join(parts) or "all usage"
