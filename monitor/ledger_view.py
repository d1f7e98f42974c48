"""Builds the metrics `LedgerView` from the ledger after each poll (wiring, used by the daemon).

Everything here is read once per refresh, never per scrape: cumulative counters are streamed from
the incrementally maintained `totals` table, the day and month spend gauges are summed from the
budgets' daily table (already synced by the refresh; a grouped query when there is none).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from monitor.attribution import Attributor
from monitor.bill_prices import ObservedPrice
from monitor.budgets import BudgetStatus
from monitor.budgets.days import epoch_day
from monitor.budgets.spend import DailySpend
from monitor.config.model import AttributionRule
from monitor.metrics import (
    BalanceRow,
    BilledRow,
    BillLinesRow,
    BudgetRow,
    ClaudeCodeRow,
    DriftRow,
    LedgerView,
    ObservedPriceRow,
    PriceRow,
    SpendRow,
    TotalRow,
    UnpricedRow,
)
from monitor.naming import name_rows
from monitor.periods import period_bounds, to_unix
from monitor.pricing import PriceTable
from monitor.pricing.bill import BillProblem
from monitor.reconciliation import (
    CumulativeSavings,
    billed_in_periods,
    cache_savings,
    last_complete_day_drift,
)
from monitor.records import TOKEN_TYPES
from monitor.store import Ledger
from monitor.store.alerts import AlertStore
from monitor.store.billed import BilledStore
from monitor.store.channels import ChannelStore
from monitor.store.claude_code import ClaudeCodeStore
from monitor.store.directory import read_names
from monitor.store.repriced import Repriced

PERIOD_GAUGES = ("day", "month")
SPEND_DIMS = ("provider", "account", "project", "model")


def total_rows(ledger: Ledger) -> list[TotalRow]:
    """The cumulative totals per label combination, with the tokens left unpriced in each, and what
    re-pricing took back from each (added to the counters, so they never go down)."""
    carried = ledger.repriced_totals()
    # Streamed from the cursor straight into TotalRows (no intermediate list of dicts), with the
    # label strings interned: 12,000 combinations repeat a few hundred values (and share them with
    # the budgets' daily table), which keeps the refresh's peak and the heap's fragmentation down.
    return [
        TotalRow(
            provider=sys.intern(t.provider),
            account=sys.intern(t.account),
            project=sys.intern(t.project),
            model=sys.intern(t.model),
            service_tier=sys.intern(t.service_tier),
            api_key=sys.intern(t.api_key),
            tokens=t.tokens,
            costs=t.costs,
            requests=t.requests,
            unpriced_tokens=t.unpriced_tokens,
            unit_cost=t.unit_cost,
            user=sys.intern(t.user),
            **_carried(
                carried.get((t.provider, t.account, t.project, t.api_key, t.model, t.service_tier, t.user))
            ),
        )
        for t in ledger.iter_totals()
    ]


def _carried(repriced: Repriced | None) -> dict[str, Any]:
    if repriced is None:
        return {}
    return {"repriced_costs": repriced.costs, "repriced_unit_cost": repriced.unit_cost}


def unpriced_rows(ledger: Ledger) -> list[UnpricedRow]:
    """Tokens unpriced now and tokens priced since they were stored, per (provider, account, model)."""
    now = {(u["provider"], u["account"], u["model"]): int(u["tokens"]) for u in ledger.unpriced()}
    later: dict[tuple[str, str, str], int] = {}
    for (provider, account, _, _, model, _, _), repriced in ledger.repriced_totals().items():
        if repriced.priced_later_tokens:
            key = (provider, account, model)
            later[key] = later.get(key, 0) + repriced.priced_later_tokens
    return [
        UnpricedRow(provider, account, model, now.get(key, 0), later.get(key, 0))
        for key in sorted(now.keys() | later.keys())
        for provider, account, model in [key]
    ]


def spend_rows(
    ledger: Ledger,
    now: datetime,
    tz: ZoneInfo,
    month_start_day: int,
    *,
    daily: DailySpend | None = None,
    attributor: Attributor | None = None,
) -> list[SpendRow]:
    """The `llm_spend_usd` gauges of the current day and month, each with its team (attributed at
    read time), from the daily table when it covers them (the daemon's: its combinations carry every
    dimension a rule matches on), else from a grouped query keeping the dimensions the rules match on."""
    attributor = attributor or Attributor()
    dims = (*SPEND_DIMS, *(d for d in attributor.dims if d not in SPEND_DIMS))
    rows: list[SpendRow] = []
    for period in PERIOD_GAUGES:
        start, end = period_bounds(period, now, tz, month_start_day=month_start_day)
        days = (epoch_day(start.date()), epoch_day(end.date()))
        if daily is not None and daily.covers(*days):
            by_key = daily.sums_by(*days, key=lambda c: (c[0], c[1], c[2], c[3], attributor.of(c).team))
            sums = {key: cost for key, (cost, _) in by_key.items()}
        else:
            sums = {}
            for r in ledger.spend_by(dims, to_unix(start), to_unix(end)):
                key = (r["provider"], r["account"], r["project"], r["model"], attributor.of_row(r).team)
                sums[key] = sums.get(key, 0) + int(r["cost_total"])
        rows.extend(
            SpendRow(p, a, pr, m, period, cost, team) for (p, a, pr, m, team), cost in sorted(sums.items())
        )
    return rows


def claude_code_rows(
    ledger: Ledger, now: datetime, tz: ZoneInfo, month_start_day: int
) -> list[ClaudeCodeRow]:
    """Claude Code's estimated cost per developer and model in the current day and month (the UTC
    days that start in the period, as for billed cost)."""
    store = ClaudeCodeStore(ledger)
    rows: list[ClaudeCodeRow] = []
    for period in PERIOD_GAUGES:
        start, end = period_bounds(period, now, tz, month_start_day=month_start_day)
        sums: dict[tuple[str, str, str, str], int] = {}
        for u in store.rows(to_unix(start), to_unix(end)):
            key = (u.provider, u.account, u.actor, u.model)
            sums[key] = sums.get(key, 0) + u.estimated_cost_pico
        rows.extend(
            ClaudeCodeRow(p, a, user, m, period, pico) for (p, a, user, m), pico in sorted(sums.items())
        )
    return rows


def price_rows(table: PriceTable, now: datetime) -> list[PriceRow]:
    rows: list[PriceRow] = []
    for entry in table.entries_in_force(int(now.timestamp())):
        if entry.context:
            continue  # long-context prices apply only above a threshold; the gauge shows base prices
        for token_type in TOKEN_TYPES:
            usd = entry.usd_per_million(token_type)
            if usd is not None:
                rows.append(PriceRow(entry.provider, entry.model, entry.tier, token_type, usd))
    return rows


def budget_rows(statuses: Sequence[BudgetStatus]) -> list[BudgetRow]:
    rows = []
    for s in statuses:
        runout = s.runout_at.timestamp() if s.runout_at is not None else float("inf")
        states = [(str(threshold), kind, int(state)) for (threshold, kind), state in _states(s)]
        rows.append(
            BudgetRow(
                budget=s.name,
                limit_pico=s.limit_pico,
                spend_pico=s.spend_pico,
                forecast_pico=s.forecast_pico,
                period_end=to_unix(s.period_end),
                runout=runout,
                alert_states=states,
                unpriced_tokens=s.unpriced_tokens,
            )
        )
    return rows


def _states(status: BudgetStatus) -> list[tuple[tuple[Any, str], int]]:
    return [((threshold, kind), 1 if alarm else 0) for (threshold, kind), alarm in status.alarm_states()]


def build_ledger_view(
    ledger: Ledger,
    table: PriceTable,
    statuses: Sequence[BudgetStatus],
    alert_store: AlertStore,
    *,
    now: datetime,
    tz: ZoneInfo,
    month_start_day: int = 1,
    discounts: Mapping[str, Decimal] | None = None,
    savings: CumulativeSavings | None = None,
    daily: DailySpend | None = None,
    observed: Sequence[ObservedPrice] = (),
    bill_problems: Sequence[BillProblem] = (),
    attribution: Sequence[AttributionRule] = (),
) -> LedgerView:
    """One consistent view of the ledger for the metrics snapshot.

    `savings`, kept by the caller across refreshes, spares re-reading the whole history for the
    all-time cache savings each time; without it they are computed afresh. `daily` (the budgets'
    table, synced by this refresh) gives the day and month spend without a query.
    """
    billed = BilledStore(ledger)
    totals = total_rows(ledger)
    return LedgerView(
        totals=totals,
        spend=spend_rows(ledger, now, tz, month_start_day, daily=daily, attributor=Attributor(attribution)),
        billed=[
            BilledRow(b.provider, b.account, b.project, b.period, b.amount_pico)
            for b in billed_in_periods(billed, now, tz, month_start_day=month_start_day)
        ],
        drift=[
            DriftRow(d.provider, d.account, d.ratio)
            for d in last_complete_day_drift(ledger, billed, now)
            if d.ratio is not None
        ],
        unpriced=unpriced_rows(ledger),
        cache_savings=(
            savings.rows(ledger) if savings is not None else cache_savings(ledger, table, discounts=discounts)
        ),
        prices=price_rows(table, now),
        observed_prices=[
            ObservedPriceRow(o.provider, o.account, o.model, o.tier, o.token_type, o.usd_per_million)
            for o in observed
        ],
        bill_lines=[
            BillLinesRow(provider, account, reason, n)
            for (provider, account, reason), n in sorted(
                Counter((p.provider, p.account, p.reason) for p in bill_problems).items()
            )
        ],
        budgets=budget_rows(statuses),
        balances=[
            BalanceRow(b.provider, b.account, b.key, b.balance_pico, b.limit_pico)
            for b in ChannelStore(ledger).balances()
        ],
        outbox_pending=alert_store.pending_count(),
        names=name_rows(read_names(ledger), totals),
        claude_code=claude_code_rows(ledger, now, tz, month_start_day),
    )
