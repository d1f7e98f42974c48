"""Alerts for people: one notification per budget and evaluation, however many rungs it crossed.

The engine proposes one change per (budget, threshold, kind). Before they are recorded:

- a forecast rung is not fired while the actual alert of the same threshold fires (or fires now):
  "projected to pass 100%" says nothing once "passed 100%" has been said;
- the changes of one budget that go the same way in one evaluation (several rungs crossed at
  once, e.g. a first start with every rung already crossed) are grouped: the highest rung (an
  actual one before a forecast one) is the headline, its summary lists the others, and only it
  goes to the channels people read (webhook, apprise). Channels whose alerts are per rung
  (Alertmanager, where each rung is its own alert with its own labels) get every rung.

The grouping lives in the outbox rows written with the state changes, so a restart re-sends
nothing: every rung's state is stored, and the grouped rungs never had a row for those channels.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from monitor.budgets.payload import AlertChange
from monitor.store.alerts import ALARM, AlertKey, StoredState

BUDGET_KINDS = ("actual", "forecast")


def _firing_actuals(
    changes: Sequence[AlertChange], stored: Mapping[AlertKey, StoredState]
) -> set[tuple[str, int, str]]:
    """(budget, period start, threshold) of every actual alert in ALARM once `changes` are applied."""
    state = {k: s.state for k, s in stored.items() if k.kind == "actual"}
    state.update({c.key: c.state for c in changes if c.key.kind == "actual"})
    return {(k.budget, k.period_start, k.threshold) for k, s in state.items() if s == ALARM}


def without_superseded_forecasts(
    changes: Sequence[AlertChange], stored: Mapping[AlertKey, StoredState]
) -> list[AlertChange]:
    """The changes but forecast rungs that would fire while their actual rung fires."""
    firing = _firing_actuals(changes, stored)
    return [
        c
        for c in changes
        if not (
            c.key.kind == "forecast"
            and c.state == ALARM
            and (c.key.budget, c.key.period_start, c.key.threshold) in firing
        )
    ]


def _rank(change: AlertChange) -> tuple[int, Decimal]:
    """Headline order: actual before forecast, then the highest threshold."""
    return (BUDGET_KINDS.index(change.key.kind), -Decimal(change.key.threshold))


def _also(others: Iterable[AlertChange]) -> str:
    actual = [f"{c.key.threshold}%" for c in others if c.key.kind == "actual"]
    forecast = [f"{c.key.threshold}%" for c in others if c.key.kind == "forecast"]
    parts = [", ".join(actual)] if actual else []
    if forecast:
        parts.append("forecast " + ", ".join(forecast))
    return "; ".join(parts)


def grouped(
    changes: Sequence[AlertChange], channels: Sequence[str], per_rung: Sequence[str]
) -> list[tuple[AlertChange, tuple[str, ...]]]:
    """Each change, in order, with the channels to notify: the headline of a group (and every change
    alone in its group, and every non-budget change) all channels; the other rungs only the
    `per_rung` ones. The headline's payload names the others."""
    groups: dict[tuple[str, int, str], list[AlertChange]] = {}
    for change in changes:
        if change.key.kind in BUDGET_KINDS:
            groups.setdefault((change.key.budget, change.key.period_start, change.state), []).append(change)
    headlines: dict[AlertKey, AlertChange] = {}
    grouped_away: set[AlertKey] = set()
    for members in groups.values():
        head, *others = sorted(members, key=_rank)
        if others:
            payload: dict[str, Any] = dict(head.payload)
            # What it counts, then what the spend does not show, stay last: "... (and 80%) (counts
            # provider openai); plus 12.4M unpriced tokens of gpt-7-preview".
            also = f"; {payload['also_known']}" if payload.get("also_known") else ""
            counts = f" (counts {payload['scope']})" if payload.get("scope") else ""
            headline = str(payload["summary"]).removesuffix(also).removesuffix(counts)
            payload["summary"] = f"{headline} (and {_also(others)}){counts}{also}"
            payload["grouped"] = [{"threshold": c.key.threshold, "kind": c.key.kind} for c in others]
            headlines[head.key] = AlertChange(head.key, head.state, head.period_end, payload)
            grouped_away.update(c.key for c in others)
    everyone = tuple(channels)
    rung_only = tuple(c for c in channels if c in per_rung)
    return [(headlines.get(c.key, c), rung_only if c.key in grouped_away else everyone) for c in changes]
