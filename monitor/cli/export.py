"""`spend-monitor export --format focus --month YYYY-MM [--output F]`: a month as a FOCUS 1.2 CSV.

The month is the UTC calendar month (providers bill in UTC days), whatever the configured
timezone. Without `--output` the CSV goes to standard output. See docs/reports.md.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.attribution import Attributor
from monitor.cli.config import add_config_argument, load
from monitor.cli.output import EXIT_OK
from monitor.cli.report import month_arg, open_ledger
from monitor.errors import SpendMonitorError
from monitor.focus import FocusInputs, focus_rows, write_csv
from monitor.price_updates import cached_or_exported, configured_table
from monitor.pricing.bill_rates import BillRates
from monitor.pricing.sources import BILL
from monitor.reconciliation.rates import derive_days
from monitor.store.directory import read_names

FORMATS = ("focus",)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write a month as a FinOps FOCUS 1.2 CSV",
        description="Export one UTC month of the ledger as a FinOps Open Cost and Usage Specification (FOCUS) 1.2 "
        "CSV: one row per day, account, project, model, tier and token type, with billed, effective and list "
        "cost, unit prices, quantities and the team/cost centre tags.",
    )
    add_config_argument(parser)
    parser.add_argument("--format", required=True, choices=FORMATS, help="focus (FOCUS 1.2 CSV)")
    parser.add_argument(
        "--month", required=True, type=month_arg, metavar="YYYY-MM", help="the UTC month, e.g. 2026-11"
    )
    parser.add_argument("--output", type=Path, metavar="FILE", help="write here instead of standard output")
    parser.set_defaults(func=_export)


def utc_month(year: int, month: int) -> tuple[int, int]:
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return int(start.timestamp()), int(end.timestamp())


def _export(args: argparse.Namespace) -> int:
    config = load(args)
    table = configured_table(config.pricing, cached_or_exported(config))
    start, end = utc_month(*args.month)
    with open_ledger(config) as ledger:
        bill = BillRates(derive_days(ledger, start, end).rates) if BILL in config.pricing.sources else None
        inputs = FocusInputs(table, read_names(ledger), Attributor(config.attribution), bill)
        rows = focus_rows(ledger, start, end, inputs)
        if args.output is None:
            count = write_csv(rows, sys.stdout)
        else:
            try:
                with args.output.open("w", encoding="utf-8", newline="") as out:
                    count = write_csv(rows, out)
            except OSError as exc:
                raise SpendMonitorError(
                    f"--output: cannot write {args.output}: {exc.strerror or exc}"
                ) from None
    if args.output is not None:
        print(f"wrote {count} FOCUS rows to {args.output}", file=sys.stderr)
    return EXIT_OK
