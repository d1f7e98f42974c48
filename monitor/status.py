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

from monitor.budgets.days import epoch_day
from monitor.budgets.payload import blind_text
from monitor.budgets.spend import DailySpend
from monitor.metrics.status_bills import BillLineProblem, RateLine
from monitor.metrics.status_page import BalanceLine, BudgetLine, PollLine, SavingsLine, SpendLine, StatusData
from monitor.periods import period_bounds, to_unix
from monitor.pricing import PriceTable
from monitor.pricing.bill import BillProblem, ObservedRate, utc_day
from monitor.reconciliation.rates import off_by, per_million
from monitor.reconciliation.savings import savings_by
from monitor.store import Ledger
from monitor.store.billed import BilledStore
from monitor.store.channels import ChannelStore

TOP_MODELS = 10


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
) -> StatusData:
    """The page's data at `now`: this month's spend per account and top models, savings, budgets, polls.

    The month's spend comes from `daily` (the budgets' table, synced by the refresh) when it covers
    the month, else from a grouped query of the ledger. `rates_off` and `bill_problems` come from the
    daemon's rates from the bill (monitor.bill_prices)."""
    start_dt, end_dt = period_bounds("month", now, tz, month_start_day=month_start_day)
    start, end = to_unix(start_dt), to_unix(end_dt)
    month_days = (epoch_day(start_dt.date()), epoch_day(end_dt.date()))
    if daily is not None and daily.covers(*month_days):
        sums = daily.sums_by(*month_days, key=lambda c: (c[0], c[1], c[3]))
        by_model = [(p, a, m, cost) for (p, a, m), (cost, _) in sums.items()]
    else:
        by_model = [
            (r["provider"], r["account"], r["model"], r["cost_total"])
            for r in ledger.spend_by(("provider", "account", "model"), start, end)
        ]
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
