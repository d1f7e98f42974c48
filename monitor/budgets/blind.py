"""Budgets that are never blind: the spend the daemon knows of beyond the cost it computed.

Every price source, the rates from the bill included, prices what it can; two gaps can remain:

- **Billed above computed.** For each account and UTC day whose bill was fetched, where the bill is
  above the computed cost (a price the table has too low, a token type it lacks, a 12-hour cache write,
  code execution, OpenRouter's spend so far today, Azure's bill while its metrics lag) a budget counts
  the difference: per day, spend = max(computed, billed). The account-day's excess is attributed to the
  (project, model) pairs whose bill is above their computed cost, in proportion to how far above, so it
  is never counted twice and a model-scoped budget counts its model's part; what the bill does not name
  (lines without a model, Azure's meters) goes to (project, model ""), which only budgets not restricted
  by model count. A UTC date's excess counts on that date of the budget's calendar. The excess is
  attributed by project and model only (Anthropic's bills name no api key, and usage and bill keys
  would not net against each other), so budgets scoped by `api_key` or `user` never count it; budgets
  scoped by `team` or `cost_center` count it as the attribution rules give its (project, model).
- **Unpriced tokens.** Tokens no source priced cost an unknown amount: each budget reports how many of
  them its scope and period hold, by model ("plus 12.4M unpriced tokens of gpt-7-preview").

Both are kept between cycles: the excess of a day is computed again only when its bill was fetched
again, its usage changed, or the budgets' daily table had to reload (a reprice of older days).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from monitor.budgets.scopes import ScopeKey, ScopeMatcher
from monitor.budgets.spend import DIMS, Combo, DailySpend, day_start_of
from monitor.providers.line_items import attribute
from monitor.store import Ledger
from monitor.store.billed import DAY, BilledStore, day_ranges

K = TypeVar("K")
_SPEND_DIMS = ("provider", "account", "project", "model")
MODELS_NAMED = 3
"""How many models a budget's unpriced tokens are named by (the largest), in texts for people."""


@dataclass(frozen=True, slots=True)
class BlindSums:
    """What one budget adds to its computed spend (picodollars: the period, the complete history days
    oldest first, today) and the unpriced tokens of its period, in all and by model (largest first)."""

    excess_period: int = 0
    excess_history: tuple[int, ...] = ()
    excess_today: int = 0
    unpriced_tokens: int = 0
    unpriced_models: tuple[tuple[str, int], ...] = ()


def allocate(total: int, weights: Mapping[K, int]) -> dict[K, int]:
    """`total` split in proportion to positive `weights`, in whole units that add up to `total` exactly
    (largest remainders first, then key order)."""
    whole = sum(weights.values())
    shares = {k: total * w // whole for k, w in weights.items()}
    left = total - sum(shares.values())
    for k in sorted(weights, key=lambda k: (-(total * weights[k] % whole), str(k)))[:left]:
        shares[k] += 1
    return shares


def combo_of(provider: str, account: str, project: str, model: str) -> Combo:
    """The budgets' combination of a billed excess: dimensions a bill does not have are ""."""
    values = {"provider": provider, "account": account, "project": project, "model": model}
    return tuple(values.get(d, "") for d in DIMS)  # type: ignore[return-value]


class BlindSpots:
    """The billed excess per combination and UTC date, and the unpriced tokens, for the budget engine."""

    def __init__(self, attribute: Callable[[Combo], tuple[str, str]] | None = None) -> None:
        self.excess: dict[int, dict[Combo, int]] = {}
        """Epoch day (the UTC date) -> combination -> picodollars billed above the computed cost."""
        self.unpriced: dict[Combo, dict[int, int]] = {}
        """Combination -> local epoch day -> unpriced tokens, over the budgets' window."""
        self.matcher = ScopeMatcher(attribute)
        self._bills: dict[tuple[str, int], int] = {}
        self._mark = -1
        self._loads: tuple[int, int] | None = None

    def run(
        self,
        ledger: Ledger,
        daily: DailySpend,
        keys: Sequence[ScopeKey],
        ranges: Sequence[tuple[int, int]],
        *,
        history_from: int,
        today: int,
    ) -> list[BlindSums]:
        """Sync with the ledger over the daily table's window and sum each budget (scope key, period
        range of local epoch days, in order)."""
        self._sync_excess(ledger, daily, daily.first_day, today)
        self.unpriced = defaultdict(dict)
        for dims, day, tokens in ledger.unpriced_per_local_day(
            DIMS,
            since=day_start_of(daily.first_day, daily.tz),
            until=day_start_of(today + 2, daily.tz),
            tz=daily.tz,
        ):
            combo: Combo = dims  # type: ignore[assignment]  # DIMS order
            self.unpriced[combo][day] = self.unpriced[combo].get(day, 0) + tokens
        by_combo: dict[Combo, dict[int, int]] = defaultdict(dict)
        for day, combos in self.excess.items():
            for combo, pico in combos.items():
                by_combo[combo][day] = pico
        self.matcher.update(set(keys), [*by_combo, *self.unpriced])
        model = DIMS.index("model")
        sums: dict[tuple[ScopeKey, tuple[int, int]], BlindSums] = {}
        for key, (start, end) in zip(keys, ranges, strict=True):
            if (key, (start, end)) in sums:
                continue
            matched = self.matcher.combos_of(key)
            period = now = 0
            history = [0] * max(0, today - history_from)
            models: dict[str, int] = defaultdict(int)
            for combo in matched:
                for day, pico in by_combo.get(combo, {}).items():
                    period += pico if start <= day < end else 0
                    now += pico if day == today else 0
                    if history_from <= day < today:
                        history[day - history_from] += pico
                for day, tokens in self.unpriced.get(combo, {}).items():
                    if start <= day < end:
                        models[combo[model]] += tokens
            named = tuple(sorted(models.items(), key=lambda m: (-m[1], m[0])))
            sums[(key, (start, end))] = BlindSums(period, tuple(history), now, sum(models.values()), named)
        return [sums[(key, r)] for key, r in zip(keys, ranges, strict=True)]

    def _sync_excess(self, ledger: Ledger, daily: DailySpend, first_day: int, today: int) -> None:
        start, end = first_day * DAY, (today + 1) * DAY
        bills = BilledStore(ledger).observed_days(start, end)
        billed_days = {day for _, day in bills}
        newest, oldest = ledger.observed_since(self._mark)
        loads = (daily.stats["full"], daily.stats["reloaded"])
        if loads != self._loads:  # a first load, or older days changed behind the hot ones
            todo = set(billed_days)
        else:
            todo = {key[1] for key, at in bills.items() if self._bills.get(key) != at}
            todo |= {d for d in billed_days if d >= (today - 1) * DAY}
            if oldest is not None:
                todo |= {d for d in billed_days if d >= oldest - oldest % DAY}
        self._bills, self._mark, self._loads = bills, max(self._mark, newest), loads
        self.excess = {day: v for day, v in self.excess.items() if day * DAY in billed_days}
        for first, last in day_ranges(todo):
            self._compute(ledger, first, last, {key for key in bills if first <= key[1] < last})

    def _compute(self, ledger: Ledger, start: int, end: int, fetched: Iterable[tuple[str, int]]) -> None:
        """The excess of the account-days in [start, end) whose bill was fetched."""
        billed: dict[tuple[str, int], dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
        providers: dict[str, str] = {}
        for line in BilledStore(ledger).lines(start, end):
            billed[(line.account, line.day_start)][(line.project, attribute(line).model)] += line.amount_pico
            providers[line.account] = line.provider
        computed: dict[tuple[str, int], dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
        for dims, day, _, spent, _, _ in ledger.usage_per_utc_day(_SPEND_DIMS, start, end):
            computed[(dims["account"], day)][(dims["project"], dims["model"])] += spent
            providers.setdefault(dims["account"], dims["provider"])
        for day in range(start, end, DAY):
            self.excess.pop(day // DAY, None)
        for account, day in fetched:
            bill, cost = billed.get((account, day), {}), computed.get((account, day), {})
            over = sum(bill.values()) - sum(cost.values())
            if over <= 0:
                continue
            gaps = {pm: bill.get(pm, 0) - cost.get(pm, 0) for pm in {*bill, *cost}}
            shares = allocate(over, {pm: gap for pm, gap in gaps.items() if gap > 0})
            found = self.excess.setdefault(day // DAY, {})
            for (project, model), pico in shares.items():
                combo = combo_of(providers[account], account, project, model)
                found[combo] = found.get(combo, 0) + pico
