"""`spend-monitor`'s entry point: the parser with every command group, logging, errors to exit codes.

Each command group lives in its own module with a `register(subparsers)` function; every
handler returns an exit code (monitor.cli.output: 0 ok, 1 runtime failure, 2 bad input or config).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from monitor import __version__
from monitor.cli import budgets, config, daemon, digest, export, ledger, output, pricing, report
from monitor.cli.output import EXIT_BAD_INPUT, EXIT_FAILURE, set_log_level
from monitor.errors import ConfigError, PricingError, SpendMonitorError

_COMMAND_GROUPS = (pricing, config, ledger, daemon, budgets, report, digest, export)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spend-monitor",
        description="Know what your LLM API usage costs, where the money goes, and when a budget runs out.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--log-level",
        default=None,
        choices=["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
        help="log verbosity (default: the config's log_level, else INFO)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in _COMMAND_GROUPS:
        group.register(subparsers)
    return parser


class _ArgumentParserExit(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code (tests call it directly)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code) if isinstance(exc.code, int) else EXIT_BAD_INPUT
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    set_log_level(getattr(logging, args.log_level or "INFO"))
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return int(args.func(args))
    except ConfigError as exc:
        for problem in exc.problems:
            output.error(problem)
        return EXIT_BAD_INPUT
    except PricingError as exc:
        output.error(str(exc))
        return EXIT_BAD_INPUT
    except SpendMonitorError as exc:
        output.error(str(exc))
        return EXIT_FAILURE
    except KeyboardInterrupt:
        output.error("interrupted")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
