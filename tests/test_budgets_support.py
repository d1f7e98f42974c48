"""Builders shared by the budget and alert tests: usage writes with exact dollar costs, budgets, a ledger.

No tests here. Costs are written as whole input-token costs so each row costs exactly the given
dollars, and expected values can be worked out by hand.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

from monitor.config import BudgetConfig, BudgetScope
from monitor.periods import to_unix
from monitor.records import PricedRow, UsagePage, UsageRow, tokens_of, usd_to_pico
from monitor.store import Ledger
from monitor.store.alerts import AlertStore

HOUR = 3600


def row(
    at: datetime,
    usd: str | Decimal,
    *,
    project: str = "p1",
    model: str = "gpt-4.1",
    api_key: str = "key_1",
    account: str = "openai-prod",
    provider: str = "openai",
    endpoint: str = "completions",
    width: int = HOUR,
    user: str = "",
) -> PricedRow:
    """A priced usage row in the bucket containing `at` that costs exactly `usd` dollars."""
    bucket = to_unix(at) // width * width
    usage = UsageRow(
        provider=provider,
        account=account,
        endpoint=endpoint,
        bucket_start=bucket,
        bucket_width=width,
        project=project,
        api_key=api_key,
        user=user,
        model=model,
        tokens=tokens_of(input=1),
    )
    return PricedRow(usage, tokens_of(input=usd_to_pico(Decimal(usd))), 0, "test-price")


def write(
    ledger: Ledger, at: datetime, usd: str | Decimal, *, observed: datetime | None = None, **dims: str
) -> None:
    """Upsert one row (replacing an older observation of the same key, e.g. a corrected price)."""
    ledger.upsert_priced([row(at, usd, **dims)], to_unix(observed or at) * 1000)


def write_page(ledger: Ledger, rows: list[PricedRow], observed: datetime) -> None:
    """Write rows of one (account, endpoint) as a fetched page, replacing their buckets wholesale."""
    first = rows[0].usage
    buckets = tuple(sorted({r.usage.bucket_start for r in rows}))
    page = UsagePage(
        provider=first.provider,
        account=first.account,
        endpoint=first.endpoint,
        bucket_width=first.bucket_width,
        buckets=buckets,
        rows=tuple(r.usage for r in rows),
        observed_at=to_unix(observed) * 1000,
        closed_until=buckets[-1],
    )
    ledger.write_page(page, rows)


def budget(
    name: str = "monthly",
    amount: str = "100",
    period: str = "month",
    *,
    thresholds: tuple[int, ...] = (50, 80, 100),
    forecast: tuple[int, ...] = (),
    **scope: tuple[str, ...],
) -> BudgetConfig:
    return BudgetConfig(
        name=name,
        amount_usd=Decimal(amount),
        period=period,
        scope=BudgetScope(**scope),
        thresholds=tuple(Decimal(t) for t in thresholds),
        forecast_thresholds=tuple(Decimal(t) for t in forecast),
    )


def open_stores(path: Path) -> tuple[Ledger, AlertStore]:
    ledger = Ledger.open(path)
    return ledger, AlertStore(ledger)


def entries_by_channel(store: AlertStore) -> dict[str, list[tuple[str, str, str]]]:
    """channel -> [(threshold, kind, event)] in outbox order."""
    result: dict[str, list[tuple[str, str, str]]] = {}
    for e in store.entries():
        result.setdefault(e.channel, []).append((e.key.threshold, e.key.kind, e.event))
    return result
