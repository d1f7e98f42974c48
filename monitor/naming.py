"""Names for the metrics view: one info row per id that has a name or has spent anything.

An id the directory does not know is named by itself, and the empty project (Anthropic's default
workspace, or usage without a project) gets a readable placeholder, so a dashboard that joins names
with `group_left` never drops a series that spends.
"""

from __future__ import annotations

from collections.abc import Iterable

from monitor.directory import API_KEY, PROJECT, USER, Names, no_project
from monitor.metrics import NameRow, TotalRow


def name_rows(names: Names, totals: Iterable[TotalRow]) -> list[NameRow]:
    """Info rows for every directory entry and every (account, id) with usage in `totals`."""
    rows: dict[tuple[str, str, str], NameRow] = {}
    for kind in (PROJECT, API_KEY, USER):
        for e in names.of_kind(kind):
            owner = names.owner(e.account, e.id) if kind == API_KEY else ""
            rows[(kind, e.account, e.id)] = NameRow(
                kind, e.account, e.id, names.name(e.account, kind, e.id) or e.id, owner
            )
    for t in totals:
        if (PROJECT, t.account, t.project) not in rows:
            shown = names.project(t.account, t.project) or no_project(t.provider)
            rows[(PROJECT, t.account, t.project)] = NameRow(PROJECT, t.account, t.project, shown)
        if (API_KEY, t.account, t.api_key) not in rows:
            rows[(API_KEY, t.account, t.api_key)] = NameRow(
                API_KEY, t.account, t.api_key, t.api_key or "(no key)"
            )
        user = getattr(t, "user", "")
        if (USER, t.account, user) not in rows:
            rows[(USER, t.account, user)] = NameRow(USER, t.account, user, user or "(no user)")
    return [rows[k] for k in sorted(rows)]
