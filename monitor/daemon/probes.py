"""What the daemon says about itself: `/healthz`, `/readyz` and the status page's problems.

Readiness is honest about the ledger: the daemon is ready once every account has finished a
poll and a refresh has published it, as long as the last poll of each account could be stored and
the last refresh (budgets, drift, metrics, status page) could read and write the ledger. A provider that fails leaves the
daemon ready (it serves what it has, and says which account fails); a ledger that refuses writes
(read-only, full disk, a corrupt page) does not. The failures are kept in memory, never only in
the ledger that failed, and shown at the top of `/`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from monitor.metrics.status_page import PollLine, StatusData, render_status_page
from monitor.poller import PollResult

STORE = "store"
"""The poll error reason of a write the ledger refused (spend_monitor_poll_errors_total)."""


@dataclass(frozen=True, slots=True)
class AccountState:
    """The last poll of one account as the probes see it."""

    finished: float
    first_seq: int
    """The sequence number of the account's first poll: a refresh that began later published it."""
    polls: tuple[PollLine, ...]
    provider_failure: str
    store_failure: str


class Probes:
    """Thread-safe record of the last poll of each account and of the last refresh."""

    def __init__(self, accounts: Sequence[str], *, alive: Callable[[], tuple[bool, str]]) -> None:
        self._accounts = tuple(accounts)
        self._alive = alive
        self._lock = threading.Lock()
        self._states: dict[str, AccountState] = {}
        self._seq = 0
        self._published_seq = -1
        self._refresh_failure = ""
        self._page_data: StatusData | None = None
        self._page = render_status_page(StatusData(generated_at=0, month_start=0, month_spend_pico=0))
        self._listeners: list[Callable[[], None]] = []

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call `listener()` after each change of what the probes answer (on the changing thread,
        outside the lock): a poll or a refresh recorded, a page published."""
        self._listeners.append(listener)

    def changed(self) -> None:
        """Tell the listeners; also for changes made elsewhere (the daemon starting or stopping)."""
        for listener in self._listeners:
            listener()

    # -- recording ---------------------------------------------------------------------------

    def record_poll(self, result: PollResult, *, store_failure: str = "") -> None:
        """A finished poll of `result.account`; `store_failure` says why it could not be recorded."""
        stored = [f"{e.endpoint}: {e.error}" for e in result.endpoints if e.reason == STORE]
        failed = [f"{e.endpoint}: {e.reason}" for e in result.endpoints if not e.ok and e.reason != STORE]
        polls = tuple(
            PollLine(result.account, e.endpoint, int(result.finished), e.ok, e.error)
            for e in result.endpoints
        )
        with self._lock:
            self._seq += 1
            known = self._states.get(result.account)
            self._states[result.account] = AccountState(
                finished=result.finished,
                first_seq=known.first_seq if known is not None else self._seq,
                polls=polls,
                provider_failure="; ".join(failed),
                store_failure="; ".join([*stored, *([store_failure] if store_failure else [])]),
            )
            self._rerender()
        self.changed()

    def refresh_started(self) -> int:
        """Call as a refresh begins; pass the result to `record_refresh`: the polls it publishes."""
        with self._lock:
            return self._seq

    def record_refresh(self, failure: str = "", *, published: int | None = None) -> None:
        """The outcome of a refresh: "" when it stored and published everything, else why not;
        `published` is what `refresh_started` gave it."""
        with self._lock:
            if not failure and published is not None:
                self._published_seq = max(self._published_seq, published)
            changed = failure != self._refresh_failure
            self._refresh_failure = failure
            if changed:
                self._rerender()
        self.changed()

    def publish_page(self, data: StatusData) -> None:
        """The status page data of a refresh that succeeded; problems and fresher polls are added."""
        with self._lock:
            self._page_data = data
            self._rerender()
        self.changed()

    # -- answering ---------------------------------------------------------------------------

    def status_page(self) -> bytes:
        """The `/` page, rendered when something changed (never per request)."""
        return self._page

    def health(self) -> tuple[bool, str]:
        return self._alive()

    def ready(self) -> tuple[bool, str]:
        with self._lock:
            states = dict(self._states)
            refresh_failure = self._refresh_failure
            published = self._published_seq
        pending = [a for a in self._accounts if a not in states or states[a].first_seq > published]
        problems = self._problems(states, refresh_failure)
        if problems:
            return False, "not ready: " + "; ".join(problems)
        if pending:
            return False, "waiting for the first poll of: " + ", ".join(sorted(pending))
        failing = {a: s.provider_failure for a, s in states.items() if s.provider_failure}
        if failing:
            return True, "ready; failing: " + "; ".join(f"{a} ({why})" for a, why in sorted(failing.items()))
        return True, "ready"

    # -- internals ---------------------------------------------------------------------------

    @staticmethod
    def _problems(states: dict[str, AccountState], refresh_failure: str) -> list[str]:
        problems = [
            f"the ledger did not store the last poll of {a} ({s.store_failure})"
            for a, s in sorted(states.items())
            if s.store_failure
        ]
        if refresh_failure:
            problems.append(f"the last refresh failed ({refresh_failure})")
        return problems

    def _rerender(self) -> None:
        """Render the page again (under the lock): the last good data, the newest polls, the problems."""
        base = self._page_data or StatusData(generated_at=0, month_start=0, month_spend_pico=0)
        fresh = {line.account for state in self._states.values() for line in state.polls}
        polls = [p for p in base.polls if p.account not in fresh]
        polls.extend(line for state in self._states.values() for line in state.polls)
        polls.sort(key=lambda p: (p.account, p.endpoint))
        data = replace(
            base, polls=tuple(polls), problems=tuple(self._problems(self._states, self._refresh_failure))
        )
        self._page = render_status_page(data)
