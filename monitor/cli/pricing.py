"""The calculator commands: `estimate` (what tokens cost on a model) and `prices` (the table in force).

Both use the bundled table, or with --config the config's chain of price sources.
"""

from __future__ import annotations

import argparse
import fnmatch
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from monitor.cli import output
from monitor.cli.config import load
from monitor.cli.prices_billed import billed_rows, merged
from monitor.cli.prices_diff import add_diff_command
from monitor.errors import PricingError
from monitor.price_updates import cached_or_exported, configured_table
from monitor.pricing import PriceEntry, PriceTable, estimate, unknown_model_error
from monitor.records import SERVICE_TIERS, TOKEN_TYPES

_CONTEXT_WINDOWS = ("0-200k", "200k-1M")
# --flag -> token type; counts are billed as given, except that cached and cache-write tokens are
# part of --input (as in OpenAI's input_tokens) and are taken out of it.
_TOKEN_FLAGS = {
    "cached_input": "cached-input",
    "cache_write": "cache-write",
    "cache_write_1h": "cache-write-1h",
    "input_audio": "input-audio",
    "output_audio": "output-audio",
}
_PART_OF_INPUT = ("cached_input", "cache_write", "cache_write_1h")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "estimate",
        help="what a number of tokens costs on a model",
        description=(
            "Price tokens on a model with the bundled table. --input counts all input tokens, "
            "including the --cached-input and --cache-write ones (as OpenAI's input_tokens does); "
            "audio tokens are counted apart from --input/--output. The last line is the total in USD."
        ),
    )
    parser.add_argument("--model", required=True, help="model name as the provider reports it")
    parser.add_argument(
        "--input", type=_count, default=0, metavar="N", help="input tokens, cached ones included"
    )
    parser.add_argument("--output", type=_count, default=0, metavar="N", help="output tokens")
    for token_type, flag in _TOKEN_FLAGS.items():
        note = " (part of --input)" if token_type in _PART_OF_INPUT else ""
        parser.add_argument(
            f"--{flag}", dest=token_type, type=_count, default=0, metavar="N", help=f"{flag} tokens{note}"
        )
    parser.add_argument(
        "--tier", choices=SERVICE_TIERS, default="standard", help="service tier (default: standard)"
    )
    parser.add_argument(
        "--context-window",
        choices=_CONTEXT_WINDOWS,
        default="",
        help="200k-1M prices the whole request at the long-context price where the model has one",
    )
    parser.add_argument("--provider", default="", help="look the model up under this provider only")
    _add_config_option(parser)
    parser.add_argument(
        "--inference-geo",
        default="",
        metavar="GEO",
        help="where the request ran (Anthropic: global, us); applies the model's multiplier for it",
    )
    parser.add_argument(
        "--discount", type=Decimal, default=Decimal(0), metavar="PCT", help="percent off list price"
    )
    _add_date_argument(parser)
    output.add_format_argument(parser)
    parser.set_defaults(func=_estimate)

    parser = subparsers.add_parser(
        "prices",
        help="the price table in force today (or on --date), and with --config the rates of the bills",
        description="List prices in USD per 1M tokens, per model, tier and context, with effective date, "
        "the price source that gives them (price_source) and where the figures come from (source). With "
        "--config, the rates the providers' bills of the last 31 days show (price_source 'billed "
        "YYYY-MM-DD') follow the table's prices of the same model.",
    )
    parser.add_argument("--provider", default="", help="only this provider (openai, anthropic, google)")
    parser.add_argument(
        "--model", default="", help="only this model (a name it resolves from, or a glob: 'gpt-4.1*')"
    )
    _add_config_option(parser)
    _add_date_argument(parser)
    output.add_format_argument(parser)
    parser.set_defaults(func=_prices)
    add_diff_command(parser, _add_common, _at)


def _add_common(parser: argparse.ArgumentParser) -> None:
    _add_date_argument(parser)
    output.add_format_argument(parser)


def _estimate(args: argparse.Namespace) -> int:
    tokens = {token_type: getattr(args, token_type) for token_type in _TOKEN_FLAGS}
    part_of_input = sum(tokens[t] for t in _PART_OF_INPUT)
    if part_of_input > args.input:
        raise PricingError(
            f"--cached-input + --cache-write + --cache-write-1h ({part_of_input}) exceed --input ({args.input}); "
            "--input counts all input tokens, cached ones included"
        )
    tokens["input"] = args.input - part_of_input
    tokens["output"] = args.output
    table = table_of(args)
    result = estimate(
        table,
        args.model,
        tokens,
        args.tier,
        at=_at(args.date),
        discount=args.discount,
        provider=args.provider,
        context_window=args.context_window,
        inference_geo=args.inference_geo,
    )
    entry = result.entry
    rows = [
        {
            "token_type": line.token_type,
            "tokens": line.tokens,
            "usd_per_1m": _plain(line.usd_per_million),
            "usd": _plain(line.cost),
        }
        for line in result.lines
    ]
    columns = ["token_type", "tokens", "usd_per_1m", "usd"]
    total = _plain(result.total)
    if args.format == "json":
        extra = {
            "model": args.model,
            "provider": entry.provider,
            "priced_as": entry.model,
            "tier": entry.tier,
            "context": entry.context,
            "price_id": entry.id,
            "effective_from": entry.effective_from.isoformat(),
            "source": entry.source,
            "discount_percent": _plain(result.discount),
            "total_usd": total,
        }
        output.render(rows, columns, "json", extra=extra)
    elif args.format == "csv":
        output.render([*rows, {"token_type": "total", "usd": total}], columns, "csv")
    else:
        discount = f", {_plain(result.discount)}% discount" if result.discount else ""
        print(f"{args.model}: {entry.id}{discount}")
        output.render(rows, columns, "table")
        print(total)
    return 0


def _prices(args: argparse.Namespace) -> int:
    table = table_of(args)
    if args.provider and args.provider not in table.providers():
        raise PricingError(f"unknown provider {args.provider!r}; known: {', '.join(table.providers())}")
    at = _at(args.date)
    entries = table.entries_in_force(at)
    if args.provider:
        entries = [e for e in entries if e.provider == args.provider]
    billed = billed_rows(load(args), table, at, args.provider, args.model) if args.config else []
    if args.model:
        entries = _select_model(table, entries, args.model, args.provider, unknown_ok=bool(billed))
    rows = merged(table, [_price_row(entry) for entry in entries], billed)
    columns = [
        "provider", "model", "tier", "context", *TOKEN_TYPES, "units", "effective_from", "price_source", "source",
    ]  # fmt: skip
    if args.format == "table":  # leave out token types no listed entry prices
        columns = [c for c in columns if c not in TOKEN_TYPES or any(row[c] != "" for row in rows)]
    output.render(rows, columns, args.format)
    return 0


def _select_model(
    table: PriceTable, entries: list[PriceEntry], pattern: str, provider: str, *, unknown_ok: bool = False
) -> list[PriceEntry]:
    if any(ch in pattern for ch in "*?["):
        return [e for e in entries if fnmatch.fnmatchcase(e.model, pattern)]
    resolved = table.resolve(provider, pattern)
    if resolved is None:
        if unknown_ok:  # no source lists it, but a bill does
            return []
        raise unknown_model_error(table, pattern, provider)
    return [e for e in entries if (e.provider, e.model) == (resolved.provider, resolved.model)]


def _price_row(entry: PriceEntry) -> dict[str, object]:
    row: dict[str, object] = {
        "provider": entry.provider,
        "model": entry.model,
        "tier": entry.tier,
        "context": entry.context,
    }
    for token_type in TOKEN_TYPES:
        price = entry.usd_per_million(token_type)
        row[token_type] = "" if price is None else _plain(price)
    units = (f"{name}={_plain(entry.usd_per_unit(name) or Decimal(0))}" for name in sorted(entry.unit_rates))
    row["units"] = " ".join(units)
    row["effective_from"] = entry.effective_from.isoformat()
    row["price_source"] = entry.origin
    row["source"] = entry.source
    return row


def _add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="PATH",
        default=None,
        help="use the config's price sources (pricing.sources, files, overrides, aliases) instead of the "
        "bundled table alone",
    )


def table_of(args: argparse.Namespace) -> PriceTable:
    """The bundled table, or with --config the config's price-source chain."""
    if not args.config:
        return PriceTable.bundled()
    config = load(args)
    return configured_table(config.pricing, cached_or_exported(config))


def _add_date_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--date",
        type=_day,
        default=None,
        metavar="YYYY-MM-DD",
        help="prices in force on this day (default: today, UTC)",
    )


def _at(day: date | None) -> int:
    """Unix seconds of 00:00 UTC of `day`, or now."""
    if day is None:
        return int(datetime.now(UTC).timestamp())
    return int(datetime.combine(day, time(), tzinfo=UTC).timestamp())


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _count(text: str) -> int:
    try:
        value = int(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of tokens") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: token counts are 0 or more")
    return value


def _plain(value: Decimal) -> Decimal:
    """A Decimal without trailing zeros or exponent: 0.216000000000 -> 0.216, 1.2E+1 -> 12."""
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal
