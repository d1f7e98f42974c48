"""`spend-monitor budgets`: each budget's spend, limit, forecast, run-out date and alert states now.

Reads the ledger at storage.path; it records no alert transition and sends nothing (the daemon
does both). Amounts are exact USD; `--format json|csv` for tools.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from monitor.budgets import BudgetEngine, BudgetStatus
from monitor.budgets.describe import scope_text
from monitor.budgets.payload import blind_text, threshold_text, unpriced_text
from monitor.cli import output
from monitor.cli.config import add_config_argument, load
from monitor.cli.output import EXIT_OK
from monitor.config import Config
from monitor.config.model import WEEKDAYS
from monitor.errors import StoreError
from monitor.records import pico_to_usd, usd_text
from monitor.store import Ledger
from monitor.store.alerts import AlertStore
from monitor.store.directory import read_names

COLUMNS = (
    "budget",
    "period",
    "period_start",
    "period_end",
    "spend_usd",
    "limit_usd",
    "percent",
    "forecast_usd",
    "runout",
    "alerts",
    "unpriced_tokens",
    "scope",
)
MORE = ("forecast_method", "billed_above_computed_usd", "unpriced")
"""Columns of json and csv only: the table prints what they say below it, one line per budget."""
_CENT = Decimal("0.01")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "budgets",
        help="each budget's spend, limit, forecast, run-out date and alert states",
        description="Show every configured budget over its current period: spend so far, limit, percent used, "
        "projected period-end spend, the date the limit is reached at the current run rate, and the state "
        "(OK/ALARM) of each threshold. Reads the ledger only; sends nothing.",
    )
    add_config_argument(parser)
    output.add_format_argument(parser)
    parser.set_defaults(func=_budgets)


def _usd(pico: int, fmt: str) -> Decimal | str:
    """Cents in the table ("85.00"), exact dollars for json/csv."""
    amount = pico_to_usd(pico)
    return (
        format(amount.quantize(_CENT, rounding=ROUND_HALF_EVEN), "f")
        if fmt == "table"
        else amount.normalize()
    )


def _alerts(status: BudgetStatus) -> str:
    parts = []
    for (threshold, kind), state in status.states.items():
        label = f"{threshold_text(threshold)}%" + ("" if kind == "actual" else f" {kind}")
        parts.append(f"{label}={state}")
    return ", ".join(parts)


def status_row(status: BudgetStatus, fmt: str, scope: str = "") -> dict[str, Any]:
    percent = (status.utilization * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)
    return {
        "budget": status.name,
        "scope": scope,
        "period": status.period,
        "period_start": status.period_start.isoformat(),
        "period_end": status.period_end.isoformat(),
        "spend_usd": _usd(status.spend_pico, fmt),
        "limit_usd": _usd(status.limit_pico, fmt),
        "percent": format(percent, "f"),
        "forecast_usd": _usd(status.forecast_pico, fmt),
        "runout": status.runout_at.astimezone(status.period_start.tzinfo).isoformat()
        if status.runout_at
        else "never",
        "alerts": _alerts(status),
        "unpriced_tokens": status.unpriced_tokens,
        "forecast_method": status.forecast_method,
        "billed_above_computed_usd": _usd(status.billed_excess_pico, fmt),
        "unpriced": unpriced_text(status.unpriced_tokens, status.unpriced_models),
    }


def engine_for(config: Config) -> BudgetEngine:
    week_start = WEEKDAYS.index(config.week_start) if config.week_start in WEEKDAYS else 0
    return BudgetEngine(
        config.budgets,
        [c.name for c in config.alerts],
        config.tz,
        month_start_day=config.month_start_day,
        week_start=week_start,
        attribution=config.attribution,
    )


def _budgets(args: argparse.Namespace) -> int:
    config = load(args)
    path = config.storage.path
    if not path.is_file():
        raise StoreError(
            f"no ledger at {path} (storage.path): run `spend-monitor run` or `backfill` with this config first"
        )
    now = datetime.now(UTC)
    with Ledger.open(path) as ledger:
        statuses = engine_for(config).statuses(ledger, AlertStore(ledger), now)
        names = read_names(ledger)
    scopes = {b.name: scope_text(b.scope, names) for b in config.budgets}
    rows = [status_row(s, args.format, scopes.get(s.name, "")) for s in statuses]
    if args.format == "json":
        output.render(rows, [*COLUMNS, *MORE], "json", extra={"as_of": now.isoformat()})
    elif not rows and args.format == "table":
        print("no budgets configured (add a `budgets:` section to the config)")
    elif args.format == "table":
        output.render(rows, COLUMNS, args.format)
        for status in statuses:  # what the spend does not show, in words
            note = blind_text(status.billed_excess_pico, status.unpriced_tokens, status.unpriced_models)
            if note:
                print(f"{status.name}: spend {usd_text(status.spend_pico)}{note}")
    else:
        output.render(rows, [*COLUMNS, *MORE], args.format)
    return EXIT_OK
