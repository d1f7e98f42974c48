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
from monitor.config.model import AttributionRule
from monitor.directory import Names, no_project
from monitor.metrics.status_page import BudgetLine, NamedLine, PollLine, SavingsLine, SpendLine, StatusData
from monitor.periods import period_bounds, to_unix
from monitor.pricing import PriceTable
from monitor.reconciliation.attributed import attributed_spend
from monitor.reconciliation.report import developers
from monitor.reconciliation.savings import savings_by
from monitor.store import Ledger
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
    attribution: Sequence[AttributionRule] = (),
) -> StatusData:
    """The page's data at `now`: this month's spend per account and top models, savings, budgets, polls."""
    start_dt, end_dt = period_bounds("month", now, tz, month_start_day=month_start_day)
    start, end = to_unix(start_dt), to_unix(end_dt)
    by_model = ledger.spend_by(("provider", "account", "model"), start, end)
    accounts: dict[tuple[str, str], int] = {}
    for r in by_model:
        key = (r["provider"], r["account"])
        accounts[key] = accounts.get(key, 0) + r["cost_total"]
    models = sorted(by_model, key=lambda r: (-r["cost_total"], r["provider"], r["account"], r["model"]))
    saved: dict[tuple[str, str], int] = {}
    for (provider, account), pico in savings_by(
        ledger, table, ("provider", "account"), start=start, end=end, discounts=discounts
    ).items():
        saved[(provider, account)] = pico
    return StatusData(
        generated_at=to_unix(now),
        month_start=start,
        month_spend_pico=sum(accounts.values()),
        timezone=str(tz),
        month=start_dt.strftime("%Y-%m"),
        version=version,
        budgets=tuple(
            BudgetLine(b.name, b.limit_pico, b.spend_pico, b.forecast_pico, to_unix(b.period_end))
            for b in budget_statuses
        ),
        providers=tuple(SpendLine(p, a, pico) for (p, a), pico in sorted(accounts.items())),
        models=tuple(
            SpendLine(r["provider"], r["account"], r["cost_total"], r["model"])
            for r in models[:top_models]
            if r["cost_total"]
        ),
        savings=tuple(SavingsLine(p, a, pico) for (p, a), pico in sorted(saved.items()) if pico),
        polls=tuple(PollLine(p.account, p.endpoint, p.finished, p.ok, p.error) for p in ledger.polls()),
        **_named_lines(ledger, read_names(ledger), start, end),
        teams=_teams(ledger, Attributor(attribution), start, end) if attribution else (),
        developers=tuple(
            NamedLine(d.account, d.actor, d.actor, d.estimated_pico)
            for d in developers(ledger, start, end)[:TOP_NAMED]
        ),
    )


def _teams(ledger: Ledger, attributor: Attributor, start: int, end: int) -> tuple[NamedLine, ...]:
    """The month's spend per team (the attribution rules, at read time), largest first."""
    rows = attributed_spend(ledger, ("team", "cost_center"), start, end, attributor)
    spend: dict[str, int] = {}
    centres: dict[str, set[str]] = {}
    for r in rows:
        spend[r["team"]] = spend.get(r["team"], 0) + r["cost_total"]
        centres.setdefault(r["team"], set()).add(r["cost_center"])
    ranked = sorted(spend, key=lambda t: (-spend[t], t))
    return tuple(NamedLine("", t, t, spend[t], ", ".join(sorted(centres[t]))) for t in ranked)


def _named_lines(ledger: Ledger, names: Names, start: int, end: int) -> dict[str, tuple[NamedLine, ...]]:
    """The month's top projects, API keys and users (known ones only), by name."""
    lines: dict[str, tuple[NamedLine, ...]] = {}
    for field, dim in (("projects", "project"), ("api_keys", "api_key"), ("users", "user")):
        rows = [r for r in ledger.spend_by(("provider", "account", dim), start, end) if r["cost_total"]]
        if dim != "project":
            rows = [r for r in rows if r[dim]]
        rows.sort(key=lambda r: (-r["cost_total"], r["account"], r[dim]))
        made = []
        for r in rows[:TOP_NAMED]:
            account, ident = r["account"], r[dim]
            if dim == "project":
                name = names.project(account, ident) or no_project(r["provider"])
            else:
                name = names.api_key(account, ident) if dim == "api_key" else names.user(account, ident)
            detail = names.owner(account, ident) if dim == "api_key" else ""
            made.append(NamedLine(account, ident, name, r["cost_total"], detail))
        lines[field] = tuple(made)
    return lines
