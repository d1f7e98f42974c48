"""Fills the status page's `StatusData` from the ledger and the budget statuses (wiring for the daemon).

Month-to-date figures use the configured timezone and billing month, like the `llm_spend_usd`
gauge with period="month", so the page and /metrics agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Protocol
from zoneinfo import ZoneInfo

from monitor.attribution import Attributor
from monitor.budgets.days import epoch_day
from monitor.budgets.payload import blind_text
from monitor.budgets.spend import DIMS, DailySpend
from monitor.config.model import AttributionRule
from monitor.directory import Names, no_project
from monitor.metrics.status_data import (
    BalanceLine,
    BillLineProblem,
    BudgetLine,
    NamedLine,
    PollLine,
    RateLine,
    SavingsLine,
    SpendLine,
    StatusData,
)
from monitor.periods import period_bounds, to_unix
from monitor.pricing import PriceTable
from monitor.pricing.bill import BillProblem, ObservedRate, utc_day
from monitor.reconciliation.attributed import attributed_spend
from monitor.reconciliation.rates import off_by, per_million
from monitor.reconciliation.report import developers
from monitor.reconciliation.savings import savings_by
from monitor.store import Ledger
from monitor.store.billed import BilledStore
from monitor.store.channels import ChannelStore
from monitor.store.directory import read_names

TOP_MODELS = 10
TOP_NAMED = 10


class BudgetLike(Protocol):
    """The parts of a `monitor.budgets.BudgetStatus` the page shows."""

    @property
    def name(self) -> str: ...
    @property
    def limit_pico(self) -> int: ...
    @property
    def spend_pico(self) -> int: ...
    @property
    def forecast_pico(self) -> int: ...
    @property
    def period_end(self) -> datetime: ...
    @property
    def billed_excess_pico(self) -> int: ...
    @property
    def unpriced_tokens(self) -> int: ...
    @property
    def unpriced_models(self) -> tuple[tuple[str, int], ...]: ...


def build_status_data(
    ledger: Ledger,
    budget_statuses: Sequence[BudgetLike],
    *,
    table: PriceTable,
    now: datetime,
    tz: ZoneInfo,
    month_start_day: int = 1,
    discounts: Mapping[str, Decimal] | None = None,
    version: str = "",
    top_models: int = TOP_MODELS,
    daily: DailySpend | None = None,
    rates_off: Sequence[ObservedRate] = (),
    bill_problems: Sequence[BillProblem] = (),
    attribution: Sequence[AttributionRule] = (),
) -> StatusData:
    """The page's data at `now`: this month's spend per account and top models, savings, budgets, polls.

    The month's spend comes from `daily` (the budgets' table, synced by the refresh) when it covers
    the month, else from a grouped query of the ledger. `rates_off` and `bill_problems` come from the
    daemon's rates from the bill (monitor.bill_prices)."""
    start_dt, end_dt = period_bounds("month", now, tz, month_start_day=month_start_day)
    start, end = to_unix(start_dt), to_unix(end_dt)
    month = MonthSums(ledger, daily, start_dt, end_dt)
    by_model = [(p, a, m, cost) for (p, a, m), cost in month.by(("provider", "account", "model")).items()]
    accounts: dict[tuple[str, str], int] = {}
    for provider, account, _, cost in by_model:
        accounts[(provider, account)] = accounts.get((provider, account), 0) + cost
    billed = {
        (r["provider"], r["account"]): int(r["amount_pico"])
        for r in BilledStore(ledger).billed_by(("provider", "account"), start, end)
    }
    for key in billed:
        accounts.setdefault(key, 0)
    models = sorted(by_model, key=lambda r: (-r[3], r[0], r[1], r[2]))
    saved: dict[tuple[str, str], int] = {}
    for (provider, account), pico in savings_by(
        ledger, table, ("provider", "account"), start=start, end=end, discounts=discounts
    ).items():
        saved[(provider, account)] = pico
    named = _named_lines(month, read_names(ledger))
    return StatusData(
        generated_at=to_unix(now),
        month_start=start,
        month_spend_pico=sum(accounts.values()),
        timezone=str(tz),
        month=start_dt.strftime("%Y-%m"),
        version=version,
        budgets=tuple(
            BudgetLine(
                b.name,
                b.limit_pico,
                b.spend_pico,
                b.forecast_pico,
                to_unix(b.period_end),
                blind_text(b.billed_excess_pico, b.unpriced_tokens, b.unpriced_models).removeprefix("; "),
            )
            for b in budget_statuses
        ),
        providers=tuple(
            SpendLine(p, a, pico, billed_pico=billed.get((p, a))) for (p, a), pico in sorted(accounts.items())
        ),
        models=tuple(SpendLine(p, a, cost, m) for p, a, m, cost in models[:top_models] if cost),
        savings=tuple(SavingsLine(p, a, pico) for (p, a), pico in sorted(saved.items()) if pico),
        polls=tuple(PollLine(p.account, p.endpoint, p.finished, p.ok, p.error) for p in ledger.polls()),
        balances=tuple(
            BalanceLine(b.provider, b.account, b.key, b.balance_pico, b.limit_pico, b.observed_at)
            for b in ChannelStore(ledger).balances()
        ),
        projects=named["project"],
        api_keys=named["api_key"],
        users=named["user"],
        teams=_teams(month, Attributor(attribution)) if attribution else (),
        developers=tuple(
            NamedLine(d.account, d.actor, d.actor, d.estimated_pico)
            for d in developers(ledger, start, end)[:TOP_NAMED]
        ),
        bill_priced=tuple(ledger.bill_priced(start, end)),
        rates_off=tuple(rate_line(r) for r in rates_off),
        bill_lines=tuple(
            BillLineProblem(p.account, utc_day(p.day_start), p.reason, p.text()) for p in bill_problems
        ),
    )


def rate_line(rate: ObservedRate) -> RateLine:
    """A disagreeing rate as the page shows it."""
    off = off_by(rate)
    table = "" if rate.ledger_rate is None else per_million(rate.ledger_rate)
    return RateLine(
        rate.account,
        rate.model,
        rate.token_type,
        rate.tier + (f", {rate.context_window}" if rate.context_window else ""),
        rate.day,
        per_million(rate.rate),
        table,
        "" if off is None else f"{off * 100:+.2f}",
    )


class MonthSums:
    """The month's picodollars grouped by some of the daily table's dimensions: summed from `daily`
    (the budgets' table, synced by the refresh) when it covers the month, else a grouped query."""

    def __init__(self, ledger: Ledger, daily: DailySpend | None, start: datetime, end: datetime) -> None:
        self.ledger = ledger
        self.start, self.end = to_unix(start), to_unix(end)
        days = (epoch_day(start.date()), epoch_day(end.date()))
        self._daily = daily if daily is not None and daily.covers(*days) else None
        self._days = days

    def by(self, dims: tuple[str, ...]) -> dict[tuple[str, ...], int]:
        """Picodollars per values of `dims` (some of DIMS), groups with rows only."""
        if self._daily is not None:
            index = [DIMS.index(d) for d in dims]
            sums = self._daily.sums_by(*self._days, key=lambda c: tuple(c[i] for i in index))
            return {key: cost for key, (cost, _) in sums.items()}
        return {
            tuple(r[d] for d in dims): int(r["cost_total"])
            for r in self.ledger.spend_by(dims, self.start, self.end)
        }

    def by_team(self, attributor: Attributor) -> dict[tuple[str, str], int]:
        """Picodollars per (team, cost centre) the rules give the usage, at read time."""
        if self._daily is not None:
            sums = self._daily.sums_by(*self._days, key=attributor.of)
            return {(found.team, found.cost_center): cost for found, (cost, _) in sums.items()}
        rows = attributed_spend(self.ledger, ("team", "cost_center"), self.start, self.end, attributor)
        return {(r["team"], r["cost_center"]): int(r["cost_total"]) for r in rows}


def _teams(month: MonthSums, attributor: Attributor) -> tuple[NamedLine, ...]:
    """The month's spend per team (the attribution rules, at read time), largest first."""
    spend: dict[str, int] = {}
    centres: dict[str, set[str]] = {}
    for (team, centre), cost in month.by_team(attributor).items():
        spend[team] = spend.get(team, 0) + cost
        centres.setdefault(team, set()).add(centre)
    ranked = sorted(spend, key=lambda t: (-spend[t], t))
    return tuple(NamedLine("", t, t, spend[t], ", ".join(sorted(centres[t]))) for t in ranked)


def _named_lines(month: MonthSums, names: Names) -> dict[str, tuple[NamedLine, ...]]:
    """The month's top projects, API keys and users (known ones only), by name, per dimension."""
    lines: dict[str, tuple[NamedLine, ...]] = {}
    for dim in ("project", "api_key", "user"):
        rows = [(key, cost) for key, cost in month.by(("provider", "account", dim)).items() if cost]
        if dim != "project":
            rows = [(key, cost) for key, cost in rows if key[2]]
        rows.sort(key=lambda r: (-r[1], r[0][1], r[0][2]))
        made = []
        for (provider, account, ident), cost in rows[:TOP_NAMED]:
            if dim == "project":
                name = names.project(account, ident) or no_project(provider)
            else:
                name = names.api_key(account, ident) if dim == "api_key" else names.user(account, ident)
            detail = names.owner(account, ident) if dim == "api_key" else ""
            made.append(NamedLine(account, ident, name, cost, detail))
        lines[dim] = tuple(made)
    return lines
