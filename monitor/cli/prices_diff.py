"""`spend-monitor prices diff`: where the price table disagrees with genai-prices or LiteLLM, for CI.

Exit status 1 when there is any difference, 0 when none, 2 for bad input (a file that cannot be
read or is not the named source's data).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

from monitor.cli import output
from monitor.cli.config import load
from monitor.cli.output import EXIT_FAILURE, EXIT_OK
from monitor.errors import PricingError
from monitor.price_updates import community_prices, export
from monitor.pricing import PriceTable
from monitor.pricing import litellm as litellm_data
from monitor.pricing.community import GENAI_PRICES, convert, specs_of
from monitor.pricing.diff import diff_tables
from monitor.pricing.layer import PriceLayer
from monitor.pricing.sources import FILES, TABLE_SOURCES
from monitor.pricing.specs import with_origin

LITELLM = "litellm"
COLUMNS = ("provider", "model", "tier", "context", "field", "table", "other", "difference")


def add_diff_command(
    prices: argparse.ArgumentParser,
    add_common: Callable[[argparse.ArgumentParser], None],
    at: Callable[[date | None], int],
) -> None:
    """`prices diff` under the `prices` command; `add_common(parser)` adds --date and --format, `at`
    turns --date into the unix second the prices are compared at."""
    commands = prices.add_subparsers(dest="prices_command", metavar="diff")
    parser = commands.add_parser(
        "diff",
        help="where the price table disagrees with genai-prices or LiteLLM (exit 1 when anywhere)",
        description="Compare the prices in force (today or on --date) of the price table with another "
        "source: every model both know, each tier, context and token type; and the models the other "
        "source lists for the table's providers that the table lacks. Exit status 1 when anything "
        "differs, so a CI job can check your own price files (--file).",
    )
    parser.add_argument(
        "--against",
        choices=(GENAI_PRICES, LITELLM),
        default=GENAI_PRICES,
        help="the other source (default: genai-prices)",
    )
    parser.add_argument(
        "data",
        nargs="?",
        type=Path,
        metavar="FILE",
        help="its data: genai-prices' data.json (default: the installed genai-prices package's data) or "
        "LiteLLM's model_prices_and_context_window.json (required for litellm)",
    )
    parser.add_argument(
        "--file",
        action="append",
        type=Path,
        default=[],
        dest="price_files",
        metavar="PRICE_FILE",
        help="compare only the models of this price file (repeatable), instead of the bundled table",
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        default=None,
        help="compare the config's table (bundled table, price files and overrides)",
    )
    add_common(parser)
    parser.set_defaults(func=_diff, at=at)


def _diff(args: argparse.Namespace) -> int:
    table = _table(args)
    other = _other(args.against, args.data)
    at = args.at(args.date)
    found = diff_tables(table, other, at, missing_models=not args.price_files)
    rows = [
        {
            "provider": d.provider,
            "model": d.model if d.other_model in ("", d.model) else f"{d.model} ({d.other_model})",
            "tier": d.tier,
            "context": d.context,
            "field": d.field,
            "table": _plain(d.table),
            "other": _plain(d.other),
            "difference": d.kind if d.kind != "missing" else f"missing from the table, {args.against} has it",
        }
        for d in found
    ]
    output.render(rows, list(COLUMNS), args.format)
    print(f"{len(rows)} difference(s) against {args.against}" if rows else "no differences", file=sys.stderr)
    return EXIT_FAILURE if rows else EXIT_OK


def _table(args: argparse.Namespace) -> PriceTable:
    if args.price_files:
        return PriceTable.load(extra_files=args.price_files, sources=[FILES])
    if args.config:
        pricing = load(args).pricing
        sources = [s for s in pricing.sources if s in TABLE_SOURCES] or list(TABLE_SOURCES)
        return PriceTable.load(pricing.files, pricing.overrides, pricing.aliases, sources=sources)
    return PriceTable.bundled()


def _other(against: str, path: Path | None) -> PriceTable:
    """The other source's prices as a one-layer table; PricingError (exit 2) for a file it cannot use."""
    if against == GENAI_PRICES and path is None:
        prices = community_prices(export())
        return PriceTable([PriceLayer(GENAI_PRICES, prices.specs)], prices.label)
    if path is None:
        raise PricingError(
            f"prices diff --against {against}: give its data file (model_prices_and_context_window.json)"
        )
    try:
        data = json.loads(path.read_bytes(), parse_float=Decimal)
        converted = (convert if against == GENAI_PRICES else litellm_data.convert)(
            data, f"{against} {path.name}"
        )
    except OSError as exc:
        raise PricingError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise PricingError(f"{path}: {' '.join(str(exc).split())[:200]}") from None
    specs, problems = specs_of(converted, str(path))
    for problem in problems:
        print(f"spend-monitor: note: {problem} (left out)", file=sys.stderr)
    if against == LITELLM:
        for spec in specs:
            for block in spec.blocks:
                block.geo_known = True  # LiteLLM lists the geo multipliers it knows
    return PriceTable([PriceLayer(against, with_origin(specs, against))], against)


def _plain(value: Decimal | None) -> str:
    if value is None:
        return ""
    normal = value.normalize()
    return format(normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal, "f")
