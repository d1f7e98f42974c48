"""`spend-monitor check-config`, and the `--config` option every config-reading command shares."""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Mapping
from pathlib import Path

from monitor import redaction
from monitor.cli.output import EXIT_OK, set_log_level
from monitor.config import Config, load_config
from monitor.config.secrets import secret_values

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


def load(
    args: argparse.Namespace,
    path: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Load the config named by `--config` (or `path`) and apply its `log_level`.

    An explicit `--log-level` on the command line wins over the file's `log_level`.
    """
    config = load_config(args.config if path is None else path, environ=environ)
    redaction.install(secret_values(config))  # from here on, no log line of any library shows them
    if getattr(args, "log_level", None) is None:
        set_log_level(getattr(logging, config.log_level))
    return config


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
    load(args)
    print("ok")
    return EXIT_OK
