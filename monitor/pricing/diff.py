"""Where a price table and another price source disagree: the engine behind `spend-monitor prices diff`.

Both sides are PriceTables (the other one built from genai-prices or LiteLLM data) compared on the
prices in force on one day: for every model of the table the other source knows (by name, alias or
dated snapshot), each tier, context and field, and, when asked, the models the other source lists for
the table's providers that the table lacks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from monitor.pricing.entry import PriceEntry
from monitor.pricing.resolve import FINE_TUNED_PREFIX
from monitor.pricing.table import PriceTable
from monitor.records import TOKEN_TYPES

DIFFERS, ONLY_TABLE, ONLY_OTHER, MISSING = (
    "differs",
    "only in the table",
    "only in the other source",
    "missing",
)


@dataclass(frozen=True, slots=True)
class Difference:
    """One disagreement: a field of a model's tier and context, or (kind MISSING) a whole model."""

    provider: str
    model: str
    tier: str
    context: str
    field: str
    table: Decimal | None
    other: Decimal | None
    kind: str
    other_model: str = ""


def diff_tables(table: PriceTable, other: PriceTable, at: int, *, missing_models: bool) -> list[Difference]:
    """The differences between `table` and `other` in force at unix second `at`, sorted."""
    mine = _by_model(table.entries_in_force(at))
    theirs = _by_model(other.entries_in_force(at))
    found: list[Difference] = []
    for (provider, model), entries in mine.items():
        resolved = other.resolve(provider, model)
        if resolved is None or model.startswith(FINE_TUNED_PREFIX):
            continue
        counterpart = theirs.get((resolved.provider, resolved.model), [])
        found.extend(_compare(provider, model, entries, counterpart, resolved.model))
    if missing_models:
        providers = set(table.providers())
        for provider, model in theirs:
            if provider in providers and table.resolve(provider, model) is None:
                found.append(Difference(provider, model, "", "", "", None, None, MISSING))
    return sorted(found, key=lambda d: (d.provider, d.model, d.tier, d.context, d.field))


def _by_model(entries: Iterable[PriceEntry]) -> dict[tuple[str, str], list[PriceEntry]]:
    grouped: dict[tuple[str, str], list[PriceEntry]] = defaultdict(list)
    for entry in entries:
        grouped[(entry.provider, entry.model)].append(entry)
    return grouped


def _prices(entry: PriceEntry) -> dict[str, Decimal]:
    return {t: p for t in TOKEN_TYPES if (p := entry.usd_per_million(t)) is not None}


def _units(entries: list[PriceEntry]) -> dict[str, Decimal]:
    """A model's unit prices (the same for every tier of a block), as `units.<name>` fields."""
    return {
        f"units.{u}": p for e in entries[:1] for u in e.unit_rates if (p := e.usd_per_unit(u)) is not None
    }


def _compare(
    provider: str, model: str, mine: list[PriceEntry], theirs: list[PriceEntry], other_model: str
) -> Iterable[Difference]:
    left = {(e.tier, e.context): _prices(e) for e in mine}
    right = {(e.tier, e.context): _prices(e) for e in theirs}
    units = _units(theirs)
    if units:  # a source that lists no unit prices (LiteLLM) is not asked about them
        left[("", "")], right[("", "")] = _units(mine), units
    for tier, context in sorted(left.keys() | right.keys()):
        a, b = left.get((tier, context), {}), right.get((tier, context), {})
        for field in sorted(a.keys() | b.keys()):
            x, y = a.get(field), b.get(field)
            if x == y:
                continue
            kind = DIFFERS if x is not None and y is not None else ONLY_TABLE if y is None else ONLY_OTHER
            yield Difference(provider, model, tier, context, field, x, y, kind, other_model)
