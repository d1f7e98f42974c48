"""Report groups by team and cost centre: usage grouped by the ids the rules match on, then folded
into the attribution `Attributor` gives each group (at read time, so a new mapping re-reads the past)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from monitor.attribution import Attributor
from monitor.pricing import PriceTable
from monitor.reconciliation.savings import savings_by
from monitor.records import TOKEN_TYPES
from monitor.store import Ledger, Scope

ATTRIBUTED: tuple[str, ...] = ("team", "cost_center")
"""Report dimensions that come from the attribution rules, not from the ledger."""


def _base(by: Sequence[str], attributor: Attributor) -> tuple[str, ...]:
    """The ledger dimensions to group by: `by`'s own, and those the rules match on."""
    own = [d for d in by if d not in ATTRIBUTED]
    return tuple(dict.fromkeys([*own, "provider", "account", *attributor.dims]))


def _key(row: Mapping[str, Any], by: Sequence[str], attributor: Attributor) -> tuple[Any, ...]:
    found = attributor.of_row(row)
    values = {**row, "team": found.team, "cost_center": found.cost_center}
    return tuple(values[d] for d in by)


def attributed_spend(
    ledger: Ledger,
    by: Sequence[str],
    start: int,
    end: int,
    attributor: Attributor,
    *,
    scope: Scope | None = None,
    tz: ZoneInfo | None = None,
) -> list[dict[str, Any]]:
    """Rows shaped like `Ledger.spend_by`'s, grouped by `by` (team/cost_center among them); `scope`
    and `tz` (for `day`) as in `Ledger.spend_by`."""
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in ledger.spend_by(_base(by, attributor), start, end, scope, tz=tz):
        key = _key(r, by, attributor)
        g = groups.get(key)
        if g is None:
            groups[key] = {
                **dict(zip(by, key, strict=True)),
                "tokens": dict(r["tokens"]),
                "costs": dict(r["costs"]),
                **{c: r[c] for c in ("unit_cost", "cost_total", "requests", "unpriced_tokens")},
            }
            continue
        for t in TOKEN_TYPES:
            g["tokens"][t] += r["tokens"][t]
            g["costs"][t] += r["costs"][t]
        for c in ("unit_cost", "cost_total", "requests", "unpriced_tokens"):
            g[c] += r[c]
    return [groups[k] for k in sorted(groups)]


def attributed_savings(
    ledger: Ledger,
    table: PriceTable,
    by: Sequence[str],
    *,
    start: int,
    end: int,
    discounts: Mapping[str, Decimal] | None,
    attributor: Attributor,
) -> dict[tuple[Any, ...], int]:
    """Cache savings grouped by `by` (team/cost_center among them), as `savings_by`."""
    base = _base(by, attributor)
    result: dict[tuple[Any, ...], int] = {}
    for values, saved in savings_by(ledger, table, base, start=start, end=end, discounts=discounts).items():
        key = _key(dict(zip(base, values, strict=True)), by, attributor)
        result[key] = result.get(key, 0) + saved
    return result
