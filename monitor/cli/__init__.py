"""The `spend-monitor` command (console script `monitor.cli:main`); see monitor/cli/main.py."""

from monitor.cli.main import main

__all__ = ["main"]
