"""The directory job: read each account's directory (projects, API keys, users) into the ledger.

Reads every directory on start and then daily: names change rarely, and the usage poll never waits
for them. The job runs hourly, and reads an account's directory early when its usage shows a
project or key the directory lacks (a new key's alert should name it), once per new set of ids. A part that cannot be read (a key without the permission to list users
answers 403) is one warning line naming the account, the list and the fix; the names already
known stay, and polling usage goes on regardless.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from monitor.directory import DirectoryPart
from monitor.errors import ProviderError
from monitor.store import Ledger
from monitor.store.directory import DirectoryStore, unnamed_ids

log = logging.getLogger(__name__)

REFRESH_SECONDS = 86_400
"""How often every directory is re-read (and once at start)."""
CHECK_SECONDS = 3_600
"""How often the daemon runs the job, which reads early only where usage shows unnamed ids."""


@runtime_checkable
class DirectorySource(Protocol):
    """A provider adapter that can list its organization's directory."""

    provider: str
    account: str

    def fetch_directory(self) -> list[DirectoryPart]: ...


@dataclass(frozen=True, slots=True)
class DirectoryOutcome:
    """What one refresh read of one kind of one account: entries written, or the error line."""

    account: str
    kind: str
    entries: int
    error: str = ""


class DirectoryRefresher:
    """Reads the directories of every account whose adapter has one (others are skipped)."""

    def __init__(self, providers: Mapping[str, object]) -> None:
        self.sources = {name: p for name, p in providers.items() if isinstance(p, DirectorySource)}
        self._read_at: dict[str, int] = {}
        self._unnamed: dict[str, set[tuple[str, str]]] = {}

    def due(self, ledger: Ledger, now: int) -> list[str]:
        """Accounts to read now: never read by this process, read a day ago, or spending through
        ids the directory lacks that were not already looked for."""
        unnamed = unnamed_ids(ledger)
        due = []
        for account in self.sources:
            last = self._read_at.get(account)
            new_ids = unnamed.get(account, set()) - self._unnamed.get(account, set())
            if last is None or now - last >= REFRESH_SECONDS or new_ids:
                due.append(account)
            self._unnamed[account] = unnamed.get(account, set()) | self._unnamed.get(account, set())
        return due

    def run(self, ledger: Ledger, now: int) -> list[DirectoryOutcome]:
        """The scheduled job: read the directories that are due (see `due`)."""
        return self.refresh(ledger, now, self.due(ledger, now))

    def refresh(self, ledger: Ledger, now: int, accounts: list[str] | None = None) -> list[DirectoryOutcome]:
        """Read the directories of `accounts` (default: all) and record them at `now` (unix seconds)."""
        store = DirectoryStore(ledger)
        outcomes: list[DirectoryOutcome] = []
        for account, source in self.sources.items():
            if accounts is not None and account not in accounts:
                continue
            self._read_at[account] = now
            try:
                parts = source.fetch_directory()
            except ProviderError as exc:
                log.warning("%s: directory not read: %s; usage polling goes on", account, exc)
                outcomes.append(DirectoryOutcome(account, "", 0, str(exc)))
                continue
            for part in parts:
                if part.error:
                    log.warning(
                        "%s: %s; the names read before stay, usage polling goes on", account, part.error
                    )
                written = store.write(account, part.kind, part.entries, seen_at=now, complete=part.complete)
                outcomes.append(DirectoryOutcome(account, part.kind, written, part.error))
        return outcomes
