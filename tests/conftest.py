"""Shared test hygiene."""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_LOGGERS = ("", "httpx", "httpcore", "apscheduler")
"""The loggers `spend-monitor`'s main() sets levels on (monitor.cli.output.set_log_level)."""


@pytest.fixture(autouse=True)
def _restore_log_levels() -> Iterator[None]:
    """A test that runs the CLI's main() sets process-wide log levels, as the real command does;
    put them back so the next test's log capture sees what it would alone."""
    before = {name: logging.getLogger(name).level for name in _LOGGERS}
    yield
    for name, level in before.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def world_readable_dir() -> Iterator[Path]:
    """A directory an unprivileged user can reach (pytest's tmp_path is private to root), for tests
    that run the daemon as the image's user."""
    path = Path(tempfile.mkdtemp(prefix="spend-monitor-shared-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)
