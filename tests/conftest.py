"""Shared test hygiene."""

from __future__ import annotations

import logging
import shutil
import subprocess
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


@pytest.fixture(scope="session")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (PEM files), made by the openssl CLI."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("the openssl CLI is missing: apt-get install openssl")
    where = tmp_path_factory.mktemp("tls")
    cert_file, key_file = where / "cert.pem", where / "key.pem"
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-days", "2"),
            *("-keyout", str(key_file), "-out", str(cert_file)),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert_file, key_file
