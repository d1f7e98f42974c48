"""Claude Code's estimated cost in budgets scoped to people (`user`, or a team whose rules match users).

The Claude Code report is kept beside the usage ledger (monitor.claude_code): it is the per-developer
view of tokens that an API organization's messages report already counts. So it is added only to
budgets whose scope names `user` (a developer's coding agent is budgetable) and whose other fields
match its rows (provider, account, model, user; its project and api_key are empty). A scope such as
`user: "*"` over an API organization therefore counts those tokens twice; name the developers.
A row's UTC day counts in the local day it starts in.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

from monitor.attribution import Attributor
from monitor.budgets.days import epoch_day, local_date
from monitor.budgets.spend import day_start_of
from monitor.claude_code import ClaudeCodeUsage
from monitor.store import Ledger
from monitor.store.claude_code import ClaudeCodeStore

Matcher = Callable[[ClaudeCodeUsage], bool]
"""Whether a Claude Code row counts in a budget (None when the budget takes no Claude Code)."""


def claude_code_sums(
    ledger: Ledger,
    matchers: Sequence[Matcher | None],
    ranges: Sequence[tuple[int, int]],
    *,
    history_from: int,
    today: int,
    tz: ZoneInfo,
) -> list[tuple[int, list[int], int]]:
    """Per budget: (period spend, history days oldest first, today's spend) of its Claude Code rows,
    in the shapes of `Aggregator.run` (zero where a budget takes none)."""
    lanes = max(0, today - history_from + 1)
    empty = [(0, [0] * max(0, lanes - 1), 0) for _ in matchers]
    wanted = [i for i, m in enumerate(matchers) if m is not None]
    if not wanted:
        return empty
    first = min([history_from, *(ranges[i][0] for i in wanted)])
    rows = ClaudeCodeStore(ledger).rows(day_start_of(first, tz) - 86_400, day_start_of(today + 1, tz))
    by_day = [(epoch_day(local_date(r.day_start, tz)), r) for r in rows]
    result = list(empty)
    for i in wanted:
        match = matchers[i]
        assert match is not None
        lo, hi = ranges[i]
        series = [0] * lanes
        spend = 0
        for day, r in by_day:
            if not match(r):
                continue
            if lo <= day < hi:
                spend += r.estimated_cost_pico
            if history_from <= day <= today:
                series[day - history_from] += r.estimated_cost_pico
        result[i] = (spend, series[:-1], series[-1] if series else 0)
    return result


def scope_matcher(scope: object, attributor: Attributor | None = None) -> Matcher | None:
    """The Claude Code rows a budget scope counts: None unless it names people (`user`, or a `team`
    or `cost_center`, whose developers are those the rules give it by `user`); otherwise rows whose
    provider, account, model, user (and attribution) match, project and api_key patterns matching ""."""
    names = ("provider", "account", "project", "model", "api_key", "user", "team", "cost_center")
    patterns = {name: tuple(getattr(scope, name, ())) for name in names}
    if not (patterns["user"] or patterns["team"] or patterns["cost_center"]):
        return None
    people = attributor or Attributor()

    def ok(name: str, value: str) -> bool:
        return not patterns[name] or any(fnmatch.fnmatchcase(value, p) for p in patterns[name])

    def match(row: ClaudeCodeUsage) -> bool:
        if patterns["team"] or patterns["cost_center"]:
            found = people.of_person(row.provider, row.account, row.model, row.actor)
            if found is None or not (ok("team", found.team) and ok("cost_center", found.cost_center)):
                return False
        return (
            ok("provider", row.provider)
            and ok("account", row.account)
            and ok("model", row.model)
            and ok("user", row.actor)
            and ok("project", "")
            and ok("api_key", "")
        )

    return match
