"""Billed cost per current calendar period, for the `llm_billed_cost_usd{provider,account,project,period}` gauge.

Bills are per UTC day; a period (day or month, in the configured timezone) counts the UTC days that
start inside it. With `timezone: UTC` that is exact; elsewhere a local day holds the UTC day that
starts during it (see docs/reconciliation.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from monitor.periods import period_bounds, to_unix
from monitor.store.billed import BilledStore

PERIODS: tuple[str, ...] = ("day", "month")


@dataclass(frozen=True, slots=True)
class BilledPeriod:
    """Billed picodollars of one (provider, account, project) in the current `period`."""

    provider: str
    account: str
    project: str
    period: str
    amount_pico: int


def billed_in_periods(
    billed: BilledStore,
    now: datetime,
    tz: ZoneInfo,
    *,
    periods: Sequence[str] = PERIODS,
    month_start_day: int = 1,
) -> list[BilledPeriod]:
    """The billed cost of the current day and month (or `periods`) per provider, account and project."""
    rows: list[BilledPeriod] = []
    for period in periods:
        start, end = period_bounds(period, now, tz, month_start_day=month_start_day)
        for r in billed.billed_by(("provider", "account", "project"), to_unix(start), to_unix(end)):
            rows.append(BilledPeriod(r["provider"], r["account"], r["project"], period, r["amount_pico"]))
    return rows
