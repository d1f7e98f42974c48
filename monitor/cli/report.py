"""`spend-monitor report`: a month's spend, tokens, requests, billed cost, drift and savings per group.

Table output prints every section (groups and total, drift per UTC day, models off, what-if
estimates); JSON carries them all in one object; CSV carries the group rows and a total row
(`row` column). `--plot FILE.png` draws daily spend stacked by the first `--by` dimension and,
per monthly budget, the cumulative spend in its scope against its limit (needs matplotlib:
the `plot` extra). See docs/reports.md.
"""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

from monitor.cli import output
from monitor.cli.config import add_config_argument, load
from monitor.cli.output import EXIT_OK
from monitor.cli.report_plot import plot_report
from monitor.config import Config
from monitor.directory import NO_NAMES, Names
from monitor.errors import StoreError
from monitor.periods import period_bounds, to_unix
from monitor.price_updates import cached_or_exported, configured_table
from monitor.reconciliation.drift import exceeds
from monitor.reconciliation.report import REPORT_DIMENSIONS, GroupLine, Report, build_report
from monitor.records import TOKEN_TYPES, pico_to_usd
from monitor.store import Ledger
from monitor.store.billed import BilledStore, utc_day
from monitor.store.directory import read_names

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_CENT = Decimal("0.01")
"""Groups drawn in the plot; the smaller ones are summed into "other"."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report",
        help="a month's spend, tokens, billed cost, drift and savings per group",
        description="Report one month from the ledger: spend, tokens by type, requests, billed cost, drift and "
        "cache savings per group, with totals; drift per UTC day; the models whose computed cost is off; "
        "what-if estimates at batch/flex prices and the next-cheaper model.",
    )
    add_config_argument(parser)
    parser.add_argument(
        "--month", required=True, type=month_arg, metavar="YYYY-MM", help="the month, e.g. 2026-11"
    )
    parser.add_argument(
        "--by",
        type=_dims,
        default=("provider", "account"),
        metavar="DIMS",
        help=f"comma-separated grouping, some of {','.join(REPORT_DIMENSIONS)} (default: provider,account)",
    )
    output.add_format_argument(parser)
    parser.add_argument(
        "--plot", type=Path, metavar="FILE.png", help="also draw daily spend and budgets as a PNG"
    )
    parser.set_defaults(func=_report)


def month_arg(text: str) -> tuple[int, int]:
    match = _MONTH.match(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM (e.g. 2026-11), got {text!r}")
    return int(match[1]), int(match[2])


def _dims(text: str) -> tuple[str, ...]:
    dims = tuple(d.strip() for d in text.split(",") if d.strip())
    unknown = [d for d in dims if d not in REPORT_DIMENSIONS]
    if unknown or not dims:
        raise argparse.ArgumentTypeError(
            f"unknown dimension {unknown[0] if unknown else text!r}: use some of {','.join(REPORT_DIMENSIONS)}"
        )
    return tuple(dict.fromkeys(dims))


def month_bounds(config: Config, year: int, month: int) -> tuple[int, int]:
    """The [start, end) unix seconds of the billing month in the config's timezone and month_start_day."""
    at = datetime(year, month, config.month_start_day, 12, tzinfo=config.tz)
    start, end = period_bounds("month", at, config.tz, month_start_day=config.month_start_day)
    return to_unix(start), to_unix(end)


def _usd(pico: int | None, fmt: str) -> Decimal | str:
    if pico is None:
        return ""
    exact = pico_to_usd(pico)
    return exact.quantize(_CENT, rounding=ROUND_HALF_EVEN) if fmt == "table" else exact.normalize()


def _pct(ratio: Decimal | None) -> Decimal | str:
    return "n/a" if ratio is None else (ratio * 100).quantize(_CENT, rounding=ROUND_HALF_EVEN)


NAME_COLUMNS: dict[str, str] = {"project": "project_name", "api_key": "api_key_name", "user": "user_email"}
"""The column that names each id dimension of a report (from the directory; the id when unknown)."""


def _group_row(
    report: Report, g: GroupLine, fmt: str, token_types: list[str], names: Names = NO_NAMES
) -> dict[str, Any]:
    row: dict[str, Any] = dict(zip(report.by, g.key, strict=False))
    account = str(row.get("account", ""))
    for dim, column in NAME_COLUMNS.items():
        if dim in row and g.key:
            row[column] = names.label(dim, str(row[dim]), account)
    row["spend_usd"] = _usd(g.cost_pico, fmt)
    for t in token_types:
        row[f"tokens_{t}"] = g.tokens[t]
    row["requests"] = g.requests
    row["billed_usd"] = _usd(g.billed_pico, fmt)
    row["drift_percent"] = "" if g.billed_pico is None else _pct(g.ratio)
    row["savings_usd"] = _usd(g.saved_pico, fmt)
    return row


def _columns(by: tuple[str, ...]) -> list[str]:
    """The grouping columns, each id dimension followed by its name column."""
    return [c for d in by for c in ((d, NAME_COLUMNS[d]) if d in NAME_COLUMNS else (d,))]


def _sections(report: Report, fmt: str) -> dict[str, list[dict[str, Any]]]:
    days = [
        {
            "day": utc_day(d.day_start),
            "provider": d.provider,
            "account": d.account,
            "computed_usd": _usd(d.computed_pico, fmt),
            "billed_usd": _usd(d.billed_pico, fmt),
            "drift_percent": _pct(d.ratio),
            "off": "yes" if d.ratio is None or exceeds(d.ratio, report.threshold_percent) else "",
        }
        for d in report.days
    ]
    models = [
        {
            "day": "" if m.day_start is None else utc_day(m.day_start),
            "provider": m.provider,
            "account": m.account,
            "model": m.model,
            "kind": m.kind or "all",
            "computed_usd": _usd(m.computed_pico, fmt),
            "billed_usd": _usd(m.billed_pico, fmt),
            "drift_percent": _pct(m.ratio),
        }
        for m in sorted(
            [*report.off, *report.off_kinds], key=lambda m: (m.day_start or 0, m.account, m.model, m.kind)
        )
    ]
    what_if = [
        {
            "provider": w.provider,
            "account": w.account,
            "project": w.project,
            "model": w.model,
            "actual_usd": _usd(w.actual_pico, fmt),
            "at_batch_usd": _usd(w.batch_pico, fmt) if w.batch_pico is not None else "n/a",
            "at_flex_usd": _usd(w.flex_pico, fmt) if w.flex_pico is not None else "n/a",
            "cheaper_model": w.cheaper_model or "",
            "at_cheaper_usd": _usd(w.cheaper_pico, fmt) if w.cheaper_pico is not None else "n/a",
        }
        for w in report.what_if
    ]
    claude_code = [
        {
            "provider": d.provider,
            "account": d.account,
            "developer": d.actor,
            "actor": d.actor_type,
            "tokens_input": d.input_tokens,
            "tokens_output": d.output_tokens,
            "tokens_cache_read": d.cache_read_tokens,
            "tokens_cache_write": d.cache_write_tokens,
            "estimated_usd": _usd(d.estimated_pico, fmt),
        }
        for d in report.claude_code
    ]
    return {"daily_drift": days, "models_off": models, "what_if": what_if, "claude_code": claude_code}


def open_ledger(config: Config) -> Ledger:
    """The ledger at storage.path; a one-line StoreError when there is none yet (never creates one)."""
    path = config.storage.path
    if not path.is_file():
        raise StoreError(
            f"no ledger at {path} (storage.path): run `spend-monitor run` or `backfill` with this config first"
        )
    return Ledger.open(path)


def _report(args: argparse.Namespace) -> int:
    config = load(args)
    start, end = month_bounds(config, *args.month)
    table = configured_table(config.pricing, cached_or_exported(config))
    discounts = {p.name: p.discount_percent for p in config.providers}
    threshold = config.reconciliation.drift_threshold_percent
    with open_ledger(config) as ledger:
        names = read_names(ledger)
        report = build_report(
            ledger,
            BilledStore(ledger),
            table,
            start=start,
            end=end,
            by=args.by,
            threshold_percent=threshold,
            discounts=discounts,
            attribution=config.attribution,
        )
        if args.plot is not None:
            plot_report(args.plot, ledger, config, report)
    fmt = args.format
    types = [t for t in TOKEN_TYPES if report.total.tokens[t]] or ["input", "output"]
    rows = [_group_row(report, g, fmt, types, names) for g in report.groups]
    total = _group_row(report, report.total, fmt, types)
    columns = [*_columns(report.by), "spend_usd", *(f"tokens_{t}" for t in types), "requests", "billed_usd"]
    columns += ["drift_percent", "savings_usd"]
    sections = _sections(report, fmt)
    month = f"{args.month[0]:04d}-{args.month[1]:02d}"
    if fmt == "csv":
        output.render(
            [{"row": "group", **r} for r in rows] + [{"row": "total", **total}], ["row", *columns], fmt
        )
    elif fmt == "json":
        extra = {
            "month": month,
            "start": datetime.fromtimestamp(start, UTC).isoformat(),
            "end": datetime.fromtimestamp(end, UTC).isoformat(),
            "timezone": config.timezone,
            "by": list(report.by),
            "drift_threshold_percent": threshold,
            "total": total,
            **sections,
            "estimates": "what_if figures are estimates: the same tokens at other prices",
            "notes": report.notes,
        }
        output.render(rows, columns, fmt, extra=extra)
    else:
        _print_table(
            report, month=month, config=config, rows=rows, total=total, columns=columns, sections=sections
        )
    return EXIT_OK


def _print_table(
    report: Report,
    *,
    month: str,
    config: Config,
    rows: list[dict[str, Any]],
    total: dict[str, Any],
    columns: list[str],
    sections: dict[str, list[dict[str, Any]]],
) -> None:
    print(f"Spend in {month} ({config.timezone}) by {','.join(report.by)}")
    output.render(
        [*rows, {report.by[0]: "TOTAL", **{k: v for k, v in total.items() if k not in report.by}}],
        columns,
        "table",
    )
    titles = {
        "daily_drift": "Drift per UTC day (computed vs billed)",
        "models_off": f"Models whose computed cost is off by more than {config.reconciliation.drift_threshold_percent}%",
        "what_if": "What-if (ESTIMATES: the same tokens at batch, flex or the next-cheaper model's price)",
        "claude_code": "Claude Code by developer (Anthropic's estimate; an API organization's spend above includes it)",
    }
    for name, title in titles.items():
        section = sections[name]
        if name == "claude_code" and not section:
            continue  # most organizations have no Claude Code report
        print(f"\n{title}")
        if section:
            output.render(section, list(section[0]), "table")
        else:
            print("  none" if name == "models_off" else "  no data")
    for note in report.notes:
        print(f"\nnote: {note}")
