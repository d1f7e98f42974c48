"""One daemon per ledger: an exclusive lock a daemon holds on its ledger for as long as it runs.

Two daemons on one ledger would both drain the same alert outbox and send every notification
twice. The lock is `flock` on a file beside the ledger (`spend.db.lock`), not on the ledger itself:
closing any descriptor of the SQLite file would drop SQLite's own POSIX locks on it. The kernel
releases the lock when the holder exits, however it exits (SIGKILL included), so a crash never
leaves a stale lock behind; the file only records the holder's pid for the message.

Which commands may share a ledger with a running daemon is listed in docs/RELIABILITY.md.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from monitor.errors import StoreError


class LedgerInUseError(StoreError):
    """Another process holds the ledger's daemon lock."""


def lock_path(ledger: Path) -> Path:
    """Where the lock of `ledger` lives: the same name with `.lock` added, in the same directory."""
    return ledger.with_name(ledger.name + ".lock")


class LedgerLock:
    """The held lock; `release()` (or exit, or death of the process) frees it."""

    def __init__(self, fd: int, path: Path) -> None:
        self._fd: int | None = fd
        self.path = path

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __enter__(self) -> LedgerLock:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


def hold(ledger: Path, *, what: str = "daemon") -> LedgerLock:
    """Take the exclusive lock of `ledger` for `what`, or raise LedgerInUseError naming the holder."""
    path = lock_path(Path(ledger))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise StoreError(
            f"cannot create the lock file {path} of ledger {ledger}: {exc.strerror or exc}"
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read_holder(fd)
        os.close(fd)
        raise LedgerInUseError(
            f"ledger {ledger} is in use by another spend-monitor daemon{holder}; one daemon per ledger: "
            "stop the other one, or set storage.path to another file"
        ) from None
    except OSError as exc:
        os.close(fd)
        raise StoreError(f"cannot lock ledger {ledger} ({path}): {exc.strerror or exc}") from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()} {what}\n".encode())
    return LedgerLock(fd, path)


def _read_holder(fd: int) -> str:
    with contextlib.suppress(OSError, ValueError):
        words = os.pread(fd, 64, 0).decode("ascii").split()
        if words and words[0].isdigit():
            return f" (pid {int(words[0])})"
    return ""
