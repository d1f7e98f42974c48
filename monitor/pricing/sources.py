"""The price-source chain: which sources price usage, in which order, and the seam a new source plugs into.

Config `pricing.sources` lists them in order (default: the bundled table, then the user's files and
overrides). Consecutive table sources (`bundled`, `files`) merge into one layer, where for the same
model and effective date the later one wins (so a price file or override replaces a bundled block).
Every other source is a layer of its own. A row is priced by the first layer that lists its model:
a tier, token type, date or geo that layer lacks stays unpriced, never taken from a later layer or
from a neighbouring price. `bill`, the last source, is the rates derived from the providers' own bills
(pricing/bill.py): it prices a row only when no earlier source has a price for it, with the rates of
the row's account and UTC day; since those rates change with every bill, the daemon hands them to the
`Pricer` (`Pricer.use_bill`) rather than to the static `PriceTable`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Protocol

from monitor.pricing.entry import PriceEntry
from monitor.pricing.resolve import ResolvedModel

BUNDLED, FILES, GENAI_PRICES, BILL = "bundled", "files", "genai-prices", "bill"
TABLE_SOURCES = (BUNDLED, FILES)
"""Sources that form the price table itself, merged by model and date."""
SOURCE_NAMES = (BUNDLED, FILES, GENAI_PRICES, BILL)
DEFAULT_SOURCES = (BUNDLED, FILES, BILL)
RESERVED: dict[str, str] = {}
"""Source names kept for sources to come; naming one is refused with this reason."""


class PriceSource(Protocol):
    """What the chain asks of a layer. PriceLayer implements it; so will the rates from the bill."""

    name: str

    def resolve(self, provider: str, model: str) -> ResolvedModel | None:
        """The model of this source that prices the reported name, or None if the source lacks it."""

    def knows(self, provider: str, name: str) -> bool:
        """Whether the source lists `name` (a model name or alias) for `provider`."""

    def price_for(
        self, provider: str, model: str, tier: str, context_window: str, at: int
    ) -> PriceEntry | None:
        """The entry in force at `at` for a resolved model, tier and context; None if it has none."""

    def entries_in_force(self, at: int) -> list[PriceEntry]:
        """Every entry in force at `at`."""

    def models(self) -> list[str]: ...

    def names(self) -> list[str]: ...

    def providers(self) -> list[str]: ...

    def family_cheaper(self, model: str) -> str | None: ...


def source_problem(name: object, earlier: Sequence[object] = ()) -> str | None:
    """What is wrong with one entry of `pricing.sources` given the entries before it; None if nothing."""
    if not isinstance(name, str):
        return f"{name!r} is not a source name; expected one of {', '.join(SOURCE_NAMES)}"
    if name in RESERVED:
        return f"{name!r} is reserved for {RESERVED[name]}; remove it"
    if name not in SOURCE_NAMES:
        close = difflib.get_close_matches(name, SOURCE_NAMES, n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}?" if close else f"expected one of {', '.join(SOURCE_NAMES)}"
        return f"unknown price source {name!r}; {hint}"
    if name in earlier:
        return f"{name!r} is listed twice; keep one"
    if BILL in earlier:
        return f"{name!r} comes after {BILL!r}: rates from the bill price only what no other source prices; list {BILL!r} last"
    return None


def source_problems(sources: Sequence[object], where: str = "pricing.sources") -> list[str]:
    """Problems with a `pricing.sources` list, one line each with its key path; [] when it is usable."""
    if not sources:
        return [f"{where}: empty; list at least one of {', '.join(SOURCE_NAMES)}"]
    found = ((i, source_problem(name, sources[:i])) for i, name in enumerate(sources))
    return [f"{where}[{i}]: {problem}" for i, problem in found if problem]


def layer_groups(sources: Iterable[str]) -> list[tuple[str, ...]]:
    """The layers of the price table of a source list: consecutive table sources grouped, e.g.
    [bundled, files, genai-prices, bill] -> [(bundled, files), (genai-prices,)]; `bill` is no layer
    of the table (its rates are the pricer's, per account and day)."""
    groups: list[tuple[str, ...]] = []
    for name in sources:
        if name == BILL:
            continue
        if name in TABLE_SOURCES and groups and groups[-1][-1] in TABLE_SOURCES:
            groups[-1] = (*groups[-1], name)
        else:
            groups.append((name,))
    return groups
