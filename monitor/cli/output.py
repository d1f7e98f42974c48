"""What a command gives back: its exit code, its results (a human table by default, `--format
json|csv` for tools), its errors on stderr, and the log level."""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import sys
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, TextIO

FORMATS = ("table", "json", "csv")

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2

_NOISY_LOGGERS = ("httpx", "httpcore", "apscheduler")


def set_log_level(level: int) -> None:
    """Set the root level; the HTTP and scheduler libraries stay at WARNING or above (they log every request)."""
    logging.getLogger().setLevel(level)
    for noisy in _NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, level))


def add_format_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")


def error(message: str, stream: TextIO | None = None) -> None:
    """One line on stderr, prefixed so it is recognisable in logs."""
    print(f"spend-monitor: error: {message}", file=stream or sys.stderr)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(_plain(value))
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def render(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    fmt: str,
    stream: TextIO | None = None,
    *,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Write rows as a table, JSON (a list, or an object with `rows` when `extra` is given) or CSV.

    Decimals are written exactly: strings in JSON, plain digits in tables and CSV.
    """
    out = stream or sys.stdout
    if fmt == "json":
        payload: Any = list(rows) if extra is None else {**extra, "rows": list(rows)}
        json.dump(payload, out, default=_json_default, indent=2)
        out.write("\n")
        return
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_plain(row.get(col, "")) for col in columns])
        out.write(buffer.getvalue())
        return
    cells = [[str(_plain(row.get(col, ""))) for col in columns] for row in rows]
    widths = [max([len(col)] + [len(r[i]) for r in cells]) for i, col in enumerate(columns)]
    out.write("  ".join(col.ljust(w) for col, w in zip(columns, widths, strict=True)).rstrip() + "\n")
    for r in cells:
        out.write("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() + "\n")
