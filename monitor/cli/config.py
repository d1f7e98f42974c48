"""`spend-monitor check-config`, and the `--config` option every config-reading command shares."""

from __future__ import annotations

import argparse
import os

from monitor.cli import EXIT_OK
from monitor.config import load_config

CONFIG_ENV = "SPEND_MONITOR_CONFIG"


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    """Add `--config PATH`: required unless the SPEND_MONITOR_CONFIG environment variable gives a default."""
    default = os.environ.get(CONFIG_ENV) or None
    parser.add_argument(
        "--config",
        metavar="PATH",
        default=default,
        required=default is None,
        help=f"YAML config file (default: ${CONFIG_ENV}{f', now {default}' if default else ''})",
    )


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = subparsers.add_parser(
        "check-config",
        help="validate a config file: prints ok, or every problem with its line (exit 2)",
        description="Load and validate the config, resolving ${ENV} and ${file:...} references, "
        "without contacting any provider. Prints 'ok' (exit 0) or one line per problem on stderr (exit 2).",
    )
    add_config_argument(check)
    check.set_defaults(func=_check_config)


def _check_config(args: argparse.Namespace) -> int:
    """Problems surface as ConfigError, which `monitor.cli.main` prints one per line with exit 2."""
    load_config(args.config)
    print("ok")
    return EXIT_OK
