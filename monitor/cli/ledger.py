"""`spend-monitor reprice`: price the stored ledger again with the current price table and discounts.

Use it after fixing a price file, adding a price override or alias, or changing an account's
`discount_percent`: every stored row is priced as the daemon would price it now, and the change
per model is printed (old, new, delta in USD). `--dry-run` prints the same without writing.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from monitor.cli import output
from monitor.cli.config import add_config_argument, load
from monitor.cli.output import EXIT_OK
from monitor.errors import StoreError
from monitor.periods import to_unix
from monitor.price_updates import cached_or_exported, configured_table
from monitor.pricing import Pricer
from monitor.pricing.bill_rates import BillRates
from monitor.pricing.sources import BILL
from monitor.reconciliation.rates import derive_days
from monitor.records import pico_to_usd
from monitor.store import Ledger, RepriceResult
from monitor.store.channels import ChannelStore

COLUMNS = (
    "provider",
    "model",
    "rows",
    "changed",
    "old_usd",
    "new_usd",
    "delta_usd",
    "old_unpriced_tokens",
    "new_unpriced_tokens",
)
_TABLE_QUANTUM = Decimal("0.000001")
"""Tables show USD to the micro-dollar so that small corrections stay visible; JSON and CSV are exact."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "reprice",
        help="price the stored ledger again with the current prices and discounts",
        description="Price every stored usage row again with the config's price sources (pricing.sources: "
        "the bundled table, price files, overrides and aliases, the community source, the rates of the "
        "stored bills) and each account's discount_percent; print old, new and delta cost per model. Run it "
        "after a price correction or when a better source has a price (each row records the source that "
        "priced it): rows priced from a bill get the table's price where it now has one. The metrics' "
        "counters never go down (docs/metrics.md). Safe to interrupt and run again.",
    )
    add_config_argument(parser)
    parser.add_argument(
        "--since",
        type=_day,
        metavar="YYYY-MM-DD",
        help="only buckets starting on or after this day, 00:00 UTC (default: the whole ledger)",
    )
    parser.add_argument("--dry-run", action="store_true", help="show what would change, write nothing")
    output.add_format_argument(parser)
    parser.set_defaults(func=_reprice)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _reprice(args: argparse.Namespace) -> int:
    config = load(args)
    path = config.storage.path
    if not path.exists():
        raise StoreError(f"no ledger at {path} (storage.path): nothing to reprice yet")
    table = configured_table(config.pricing, cached_or_exported(config))
    pricer = Pricer(table, {p.name: p.discount_percent for p in config.providers})
    since = to_unix(datetime.combine(args.since, time(), tzinfo=UTC)) if args.since else None
    with Ledger.open(path) as ledger:
        for account, shares in ChannelStore(ledger).shares().items():  # a relay's group ratios
            pricer.set_shares(account, shares)
        if BILL in config.pricing.sources:  # the rates of every bill of the range, as the daemon has them
            first = since if since is not None else (ledger.first_bucket_start() or 0)
            end = int(datetime.now(UTC).timestamp()) + 86_400
            pricer.use_bill(BillRates(derive_days(ledger, first - first % 86_400, end).rates))
        result = ledger.reprice(pricer.price, since, args.dry_run)
    rows, total = _rows(result, args.format)
    if args.format == "json":
        extra = {
            "dry_run": result.dry_run,
            "since": args.since.isoformat() if args.since else None,
            "total": total,
        }
        output.render(rows, COLUMNS, "json", extra=extra)
    else:
        output.render([*rows, total], COLUMNS, args.format)
    verb = "would change" if result.dry_run else "changed"
    print(f"{verb} {result.changed} of {result.rows} rows", file=sys.stderr)
    return EXIT_OK


def _usd(pico: int, fmt: str) -> Decimal:
    exact = pico_to_usd(pico)
    return exact.quantize(_TABLE_QUANTUM, rounding=ROUND_HALF_EVEN) if fmt == "table" else exact.normalize()


def _rows(result: RepriceResult, fmt: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    rows = [
        {
            "provider": line.provider,
            "model": line.model,
            "rows": line.rows,
            "changed": line.changed,
            "old_usd": _usd(line.old_cost, fmt),
            "new_usd": _usd(line.new_cost, fmt),
            "delta_usd": _usd(line.delta, fmt),
            "old_unpriced_tokens": line.old_unpriced_tokens,
            "new_unpriced_tokens": line.new_unpriced_tokens,
        }
        for line in result.lines
    ]
    old = sum(line.old_cost for line in result.lines)
    new = sum(line.new_cost for line in result.lines)
    total = {
        "provider": "total",
        "model": "",
        "rows": result.rows,
        "changed": result.changed,
        "old_usd": _usd(old, fmt),
        "new_usd": _usd(new, fmt),
        "delta_usd": _usd(new - old, fmt),
        "old_unpriced_tokens": sum(line.old_unpriced_tokens for line in result.lines),
        "new_unpriced_tokens": sum(line.new_unpriced_tokens for line in result.lines),
    }
    return rows, total
