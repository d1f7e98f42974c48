"""Rates from the bill in the daemon: read the bills and the usage they are matched with from the ledger
(reconciliation/rates.py), derive the rates (pricing/bill.py, pure), hand them to the pricer, price the
stored rows with them, and tell where a table price disagrees with what the bill charged.

Once per cycle, before budgets are judged (`PollCycle.judge`), `BillPrices.update`:

1. finds the UTC days whose bill was fetched again or whose usage changed since the last cycle (on
   the first cycle: the last RECENT_DAYS days with a bill, and every day holding rows a bill can
   price or priced);
2. derives those days' rates; with `bill` in `pricing.sources` the pricer prices with them;
3. prices again the rows of those days that have no price or a rate from the bill (a revised bill, a
   table price that arrived: the table wins, `Daemon._use_table` marks every such day);
4. logs, once each, the rates that disagree with the ledger's table price by more than
   `reconciliation.drift_threshold_percent`, and the billed lines that gave no rate.

Wiring (the ledger, the clock, logging); the pricing itself does no I/O.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from monitor.pricing import Pricer
from monitor.pricing.bill import (
    WEB_SEARCH,
    BillProblem,
    Derived,
    ObservedRate,
    problems_text,
    usd_per_million,
)
from monitor.pricing.bill_rates import BillRates
from monitor.pricing.sources import BILL
from monitor.pricing.tiers import context_floor
from monitor.reconciliation.rates import derive_days, disagreement_text, disagreements
from monitor.store import Ledger
from monitor.store.billed import DAY, BilledStore, day_ranges

log = logging.getLogger(__name__)

RECENT_DAYS = 31
"""Days back whose bills are read at start, and whose unused lines are counted and shown."""
_FOREVER = (-(2**62), 2**62)


@dataclass(frozen=True, slots=True)
class ObservedPrice:
    """The latest rate a bill shows for one (provider, account, model, tier, token kind) in the base
    context window: the `llm_price_observed_usd_per_million_tokens` gauge."""

    provider: str
    account: str
    model: str
    tier: str
    token_type: str
    usd_per_million: Decimal
    day: str


class BillPrices:
    """The daemon's rates from the bill, kept per UTC day between cycles (see the module doc)."""

    def __init__(self, sources: Sequence[str], threshold_percent: Decimal, pricer: Pricer) -> None:
        self.enabled = BILL in sources
        self.threshold = threshold_percent
        self.pricer = pricer
        self.days: dict[int, Derived] = {}
        """UTC day start -> what that day's bills gave."""
        self._bills_seen: dict[tuple[str, int], int] = {}
        self._usage_mark = -1
        self._started = False
        self._table_changed = False
        self._pruned = -1
        self._told: set[tuple[object, ...]] = set()
        if self.enabled:  # no rates before the first update, but the pricer knows they will come
            pricer.use_bill(BillRates(()))

    def table_changed(self) -> None:
        """A price source changed (new community data): at the next update, every day with rows priced
        from a bill is priced again, so the new prices replace the bill's where they now exist."""
        self._table_changed = True

    def update(self, ledger: Ledger, now: int) -> int:
        """Derive the rates of the days that changed, price with them, report; returns rows repriced."""
        today = now - now % DAY
        days = self._changed_days(ledger, today)
        if not days:
            return 0
        for start, end in day_ranges(days):
            derived = derive_days(ledger, start, end)
            for day in range(start, end, DAY):
                found = Derived(
                    tuple(r for r in derived.rates if r.day_start == day),
                    tuple(p for p in derived.problems if p.day_start == day),
                )
                if found.rates or found.problems:
                    self.days[day] = found
                else:
                    self.days.pop(day, None)
        self._forget_old(ledger, today)
        if self.enabled:
            self.pricer.use_bill(BillRates(r for d in self.days.values() for r in d.rates))
        changed = 0
        for start, end in day_ranges(days):
            result = ledger.reprice(
                self.pricer.price, start, dry_run=False, only_unpriced=True, bill_priced=True, until=end
            )
            changed += result.changed
        if changed:
            log.info("rates from the bill: priced %d stored rows again", changed)
        self._tell(days)
        return changed

    def _changed_days(self, ledger: Ledger, today: int) -> list[int]:
        """The days to derive: bills fetched again and usage observed since the last update; on the
        first update (and after a table change) also every day with rows a bill prices or can price."""
        seen = BilledStore(ledger).observed_days(*_FOREVER)
        billed_days = {day for _, day in seen}
        newest, oldest = ledger.observed_since(self._usage_mark)
        if self._started:
            days = {key[1] for key, at in seen.items() if self._bills_seen.get(key) != at}
            if oldest is not None:
                days |= {d for d in billed_days if d >= oldest - oldest % DAY}
        else:
            days = {d for d in billed_days if d >= today - RECENT_DAYS * DAY}
        if not self._started or self._table_changed:
            days |= set(ledger.days_to_price(*_FOREVER))
        self._bills_seen, self._usage_mark = seen, max(self._usage_mark, newest)
        self._started, self._table_changed = True, False
        return sorted(d for d in days if d in billed_days or d in self.days)

    def _forget_old(self, ledger: Ledger, today: int) -> None:
        """Keep the days of the last RECENT_DAYS and the older days that hold rows a bill priced or
        can price: the rest are never needed again."""
        cutoff = today - RECENT_DAYS * DAY
        if self._pruned == today or not any(day < cutoff for day in self.days):
            return
        self._pruned = today  # once a day: the days still needed are read from an index
        needed = set(ledger.days_to_price(_FOREVER[0], cutoff))
        for day in [d for d in self.days if d < cutoff and d not in needed]:
            del self.days[day]

    def _tell(self, days: Iterable[int]) -> None:
        """Log each new disagreement and each new unused line, once."""
        for day in days:
            found = self.days.get(day)
            if found is None:
                continue
            off = set(disagreements(found.rates, self.threshold))
            for rate in found.rates:
                if rate in off and self._first(
                    ("rate", rate.account, rate.model, rate.tier, rate.context_window, rate.token_type, day)
                ):
                    log.warning("%s", disagreement_text(rate, self.threshold))
            new: dict[tuple[str, str], list[BillProblem]] = {}
            for problem in found.problems:
                if self._first(("line", problem.account, day, problem.line_item, problem.reason)):
                    new.setdefault((problem.account, problem.reason), []).append(problem)
            for problems in new.values():  # one line per account, day and reason
                log.warning("%s; counted in spend_monitor_bill_lines_unused", problems_text(problems))

    def _first(self, key: tuple[object, ...]) -> bool:
        if key in self._told:
            return False
        self._told.add(key)
        return True

    # -- what the views show -------------------------------------------------------------------

    def observed_prices(self) -> list[ObservedPrice]:
        """The latest rate per (provider, account, model, tier, token kind) of the base context window."""
        latest: dict[tuple[str, str, str, str, str], ObservedRate] = {}
        for day in sorted(self.days):
            for r in self.days[day].rates:
                if context_floor(r.context_window) == 0 and r.token_type != WEB_SEARCH:
                    latest[(r.provider, r.account, r.model, r.tier, r.token_type)] = r
        return [ObservedPrice(*key, usd_per_million(r.rate), r.day) for key, r in sorted(latest.items())]

    def disagreements(self) -> list[ObservedRate]:
        """The latest day's rate of each key, where it disagrees with the ledger's table price."""
        latest: dict[tuple[str, ...], ObservedRate] = {}
        for day in sorted(self.days):
            for r in self.days[day].rates:
                latest[(r.account, r.model, r.tier, r.context_window, r.token_type)] = r
        return disagreements(latest.values(), self.threshold)

    def disagreements_by_day(self) -> dict[tuple[str, int], list[ObservedRate]]:
        """(account, UTC day start) -> the rates of that day's bill that disagree with the table's."""
        found: dict[tuple[str, int], list[ObservedRate]] = {}
        for day, derived in self.days.items():
            for r in disagreements(derived.rates, self.threshold):
                found.setdefault((r.account, day), []).append(r)
        return found

    def problems(self, now: int) -> list[BillProblem]:
        """The billed lines of the last RECENT_DAYS days that gave no rate."""
        cutoff = now - now % DAY - RECENT_DAYS * DAY
        return [p for day in sorted(self.days) if day >= cutoff for p in self.days[day].problems]
