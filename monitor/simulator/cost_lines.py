"""The simulated bills' cost lines: each cell's price (model, tier, context window) and the rates in
force at its hour, its exact cost per count slot, and the hour's lines per (project, api key, line
item or description) with what each line item stands for (LineInfo). Cached per hour state and
price-book version, so a changed price shows in the next bill."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from monitor.simulator.generate import ENDPOINTS, Cell
from monitor.simulator.lru import Lru
from monitor.simulator.prices import (
    ANTHROPIC_TOKEN_FIELDS,
    REQUESTS_SLOT,
    SLOT_NAMES,
    WEB_SEARCH,
    WEB_SEARCH_SLOT,
    PriceBook,
    Rates,
    anthropic_description,
    cost_slots,
    openai_line_item,
)

if TYPE_CHECKING:
    from monitor.simulator.usage import SimulatedUsage

LineKey = tuple[str | None, str | None, str]
"""(project or workspace, api key (OpenAI only), line item or description) of a cost line."""


@dataclass(frozen=True, slots=True)
class LineInfo:
    """What a cost line item stands for (the cost endpoints' descriptive fields)."""

    model: str
    token_type: str
    service_tier: str
    context_window: str


class CostLines:
    """The cost lines of the books of `usage` (each hour's cells as reported), priced from `book`."""

    def __init__(self, book: PriceBook, usage: SimulatedUsage) -> None:
        self.book, self._usage = book, usage
        self._lines = Lru(8192)
        self.line_info: dict[str, LineInfo] = {}
        self._line_names: dict[tuple[str, str, int, str, str, str], str] = {}

    def price_key(self, provider: str, dims: tuple[Any, ...]) -> tuple[str, str, str]:
        """(model, pricing tier, context window) of a cell."""
        if provider == "openai":
            tier = "batch" if dims[4] else ("fast" if dims[5] in ("priority", "fast") else "standard")
            return dims[3], tier, dims[6]
        return dims[2], "fast" if dims[6] == "fast" else dims[3], dims[4]

    def rates(self, provider: str, dims: tuple[Any, ...], hour: int) -> Rates:
        """The rates of a cell's counts in force at `hour`, with its inference geo's multiplier."""
        geo = dims[5] if provider == "anthropic" else ""
        return self.book.rates(*self.price_key(provider, dims), hour, geo)

    def cell_costs(self, provider: str, hour: int, cell: Cell) -> list[int]:
        """Exact picodollars per count slot of one cell, at the prices in force at the hour's start."""
        model, tier, _ = self.price_key(provider, cell[0])
        return cost_slots(cell[1], self.rates(provider, cell[0], hour), f"{model} ({tier})")

    def _line(self, provider: str, model: str, slot: int, price: tuple[str, str, str], geo: str) -> str:
        """The line item (OpenAI) or description (Anthropic) of one count slot of a cell (its model, tier
        and window in `price`); registers its info."""
        tier, window = price[1], price[2]
        memo = (provider, model, slot, tier, window, geo)
        known = self._line_names.get(memo)
        if known is not None:
            return known
        name = SLOT_NAMES[slot]
        if provider == "openai":
            item = openai_line_item(model, name, tier, window)
            info = LineInfo(model, name, tier, window)
        elif slot == WEB_SEARCH_SLOT:
            item, info = (
                anthropic_description(model, WEB_SEARCH, tier, window),
                LineInfo(model, WEB_SEARCH, "", ""),
            )
        else:
            item = anthropic_description(model, name, tier, window, geo)
            info = LineInfo(model, ANTHROPIC_TOKEN_FIELDS[name][0], tier, window)
        self.line_info.setdefault(item, info)
        self._line_names[memo] = item
        return item

    def hour_lines(self, provider: str, hour: int, now: int) -> dict[LineKey, tuple[int, int]]:
        """The hour's cost lines: (project, api key, line item) -> (quantity, picodollars)."""
        state = self._usage.state(provider, hour, now)
        cache_key = (provider, hour, state, self.book.version)
        cached = self._lines.get(cache_key)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        lines: dict[LineKey, tuple[int, int]] = {}
        for endpoint in ENDPOINTS[provider]:
            for cell in self._usage.hour_cells(endpoint, hour, now):
                dims, counts = cell
                model, tier, window = self.price_key(provider, dims)
                geo = dims[5] if provider == "anthropic" else ""
                costs = self.cell_costs(provider, hour, cell)
                owner = (dims[0], dims[2]) if provider == "openai" else (dims[0], None)
                for slot, count in enumerate(counts):
                    if count and slot != REQUESTS_SLOT:
                        key = (*owner, self._line(provider, model, slot, (model, tier, window), geo))
                        quantity, pico = lines.get(key, (0, 0))
                        lines[key] = (quantity + count, pico + costs[slot])
        return self._lines.put(cache_key, lines)  # type: ignore[no-any-return]
