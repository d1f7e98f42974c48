"""Exact expectations for tests: what the usage endpoints report (ground truth) and what the cost
endpoints bill, totalled and broken down per model, per (project, model), per day.

Both are computed from the same cells the HTTP API serves at the same `now`, so a client that fetched
every page correctly reproduces them to the token and to the picodollar.
"""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TypeVar

from monitor.records import TOKEN_TYPES
from monitor.simulator.generate import DAY, HOUR
from monitor.simulator.prices import (
    PRICED_NAMES,
    REQUESTS_SLOT,
    SLOT_OF,
    SLOTS,
    WEB_SEARCH,
    WEB_SEARCH_SLOT,
    Rates,
    cost_slots,
)
from monitor.simulator.usage import SimulatedUsage


@dataclass(frozen=True, slots=True)
class Totals:
    """Usage and its cost at the simulator's prices.

    `tokens` has every TOKEN_TYPES name; `units` the non-token billables that are non-zero
    ({"web_search_requests": n}); `costs` picodollars per TOKEN_TYPES name and "web_search_requests";
    `requests` counts model requests (OpenAI only: Anthropic's report has no request count).
    """

    tokens: Mapping[str, int]
    requests: int
    units: Mapping[str, int]
    costs: Mapping[str, int]
    cost_pico: int

    @property
    def total_tokens(self) -> int:
        return sum(self.tokens.values())


class _Sum:
    __slots__ = ("costs", "counts")

    def __init__(self) -> None:
        self.counts = [0] * SLOTS
        self.costs = [0] * SLOTS

    def add(self, counts: Sequence[int], costs: Sequence[int]) -> None:
        self.counts = list(map(operator.add, self.counts, counts))
        self.costs = list(map(operator.add, self.costs, costs))

    def freeze(self) -> Totals:
        c = self.counts
        units = {WEB_SEARCH: c[WEB_SEARCH_SLOT]} if c[WEB_SEARCH_SLOT] else {}
        costs = {name: self.costs[SLOT_OF[name]] for name in PRICED_NAMES}
        return Totals(
            tokens=MappingProxyType(dict(zip(TOKEN_TYPES, c, strict=False))),
            requests=c[REQUESTS_SLOT],
            units=MappingProxyType(units),
            costs=MappingProxyType(costs),
            cost_pico=sum(self.costs),
        )


K = TypeVar("K")


def _freeze(sums: dict[K, _Sum]) -> Mapping[K, Totals]:
    return MappingProxyType({key: value.freeze() for key, value in sums.items()})


@dataclass(frozen=True, slots=True)
class GroundTruth:
    """Usage buckets with bucket_start in [start, end) as the API reports them at the time of the call.

    Project keys are project ids (OpenAI) or workspace ids (Anthropic, "" for the default workspace).
    """

    provider: str
    start: int
    end: int
    total: Totals
    by_model: Mapping[str, Totals]
    by_project_model: Mapping[tuple[str, str], Totals]
    by_day: Mapping[int, Totals]
    by_endpoint: Mapping[str, Totals]

    @property
    def tokens(self) -> Mapping[str, int]:
        return self.total.tokens

    @property
    def requests(self) -> int:
        return self.total.requests

    @property
    def units(self) -> Mapping[str, int]:
        return self.total.units

    @property
    def cost_pico(self) -> int:
        return self.total.cost_pico


def ground_truth(
    usage: SimulatedUsage, provider: str, start: int, end: int, *, now: int, endpoint: str | None = None
) -> GroundTruth:
    """Totals over every hour starting in [start, end) (hour-aligned; a partial start is rounded up)."""
    # Costs are linear in counts: sum counts per (project, price, day, endpoint), then price each sum once.
    counted: dict[tuple[str, tuple[str, str, str], Rates, int, str], list[int]] = {}
    for name, hour, (dims, counts) in usage.cells_between(provider, start, end, now, endpoint):
        price = usage.costs.price_key(provider, dims)
        key = (dims[0] or "", price, usage.costs.rates(provider, dims, hour), hour - hour % DAY, name)
        old = counted.get(key)
        counted[key] = list(counts) if old is None else list(map(operator.add, old, counts))
    finest: dict[tuple[str, str, int, str], _Sum] = {}
    for (project, price, rates, day, name), summed in counted.items():
        cost = cost_slots(summed, rates, f"{price[0]} ({price[1]})")
        finest.setdefault((project, price[0], day, name.split(":")[1]), _Sum()).add(summed, cost)
    total = _Sum()
    by_model: dict[str, _Sum] = {}
    by_pm: dict[tuple[str, str], _Sum] = {}
    by_day: dict[int, _Sum] = {}
    by_endpoint: dict[str, _Sum] = {}
    for (project, model, day, name), part in finest.items():
        for table in (
            total,
            by_model.setdefault(model, _Sum()),
            by_pm.setdefault((project, model), _Sum()),
            by_day.setdefault(day, _Sum()),
            by_endpoint.setdefault(name, _Sum()),
        ):
            table.add(part.counts, part.costs)
    return GroundTruth(
        provider=provider,
        start=start,
        end=end,
        total=total.freeze(),
        by_model=_freeze(by_model),
        by_project_model=_freeze(by_pm),
        by_day=_freeze(by_day),
        by_endpoint=_freeze(by_endpoint),
    )


@dataclass(frozen=True, slots=True)
class Billed:
    """What the cost endpoint reports for the days starting in [start, end), in picodollars.

    `by_line_item` is keyed by OpenAI `line_item` or Anthropic `description`.
    """

    provider: str
    start: int
    end: int
    total_pico: int
    by_day: Mapping[int, int]
    by_model: Mapping[str, int]
    by_project: Mapping[str, int]
    by_project_model: Mapping[tuple[str, str], int]
    by_line_item: Mapping[str, int]


def billed(usage: SimulatedUsage, provider: str, start: int, end: int, *, now: int) -> Billed:
    """The cost lines of every day starting in [start, end) (day-aligned; a partial start is rounded up)."""
    by_day: Counter[int] = Counter()
    by_model: Counter[str] = Counter()
    by_project: Counter[str] = Counter()
    by_pm: Counter[tuple[str, str]] = Counter()
    by_item: Counter[str] = Counter()
    first_day = -(-start // DAY) * DAY
    for day in range(first_day, min(end, now), DAY):
        for hour in range(day, day + DAY, HOUR):
            for (project, _, item), (_, pico) in usage.costs.hour_lines(provider, hour, now).items():
                model = usage.costs.line_info[item].model
                by_day[day] += pico
                by_model[model] += pico
                by_project[project or ""] += pico
                by_pm[(project or "", model)] += pico
                by_item[item] += pico
    return Billed(
        provider=provider,
        start=start,
        end=end,
        total_pico=sum(by_day.values()),
        by_day=MappingProxyType(dict(by_day)),
        by_model=MappingProxyType(dict(by_model)),
        by_project=MappingProxyType(dict(by_project)),
        by_project_model=MappingProxyType(dict(by_pm)),
        by_line_item=MappingProxyType(dict(by_item)),
    )
