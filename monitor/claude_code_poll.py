"""One poll of an account's Claude Code usage report: the days of the revision window, replaced.

Called by the poll cycle after the usage endpoints and the billed cost (monitor.poller), for
accounts whose adapter has the report (Anthropic) and whose config keeps it on (`claude_code`).
Every day of the window is fetched and written as one observation, so a day whose records were
revised or removed upstream is replaced, never added to.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from monitor.claude_code import CLAUDE_CODE_ENDPOINT, ClaudeCodeUsage
from monitor.errors import ProviderError
from monitor.store import Ledger
from monitor.store.billed import days_between
from monitor.store.claude_code import ClaudeCodeStore

log = logging.getLogger(__name__)

REFUSED_RETRY_SECONDS = 86_400
"""After a 401/403 (the key may not read the report) the report is asked for again a day later."""


@runtime_checkable
class ClaudeCodeSource(Protocol):
    account: str

    def fetch_claude_code(self, day_start: int) -> list[ClaudeCodeUsage]: ...


@dataclass(frozen=True, slots=True)
class ClaudeCodePoll:
    """What one poll of the report did: rows written and their estimated cost, or the error."""

    rows: int = 0
    cost_pico: int = 0
    error: str = ""
    reason: str = ""


def poll_claude_code(source: object, ledger: Ledger, now: int, start: int) -> ClaudeCodePoll | None:
    """Fetch the UTC days from `start` to `now` and replace them in the store; None when `source`
    has no Claude Code report."""
    if not isinstance(source, ClaudeCodeSource):
        return None
    days = days_between(start, now + 1)
    try:
        usage = [u for day in days for u in source.fetch_claude_code(day)]
    except ProviderError as exc:
        reason = exc.reason or "client_error"
        later = "; asked again in a day, usage polling goes on" if reason == "auth" else ""
        log.warning(
            "%s/%s: fetch failed (%s): %s%s", source.account, CLAUDE_CODE_ENDPOINT, reason, exc, later
        )
        return ClaudeCodePoll(error=str(exc), reason=reason)
    rows = ClaudeCodeStore(ledger).write(source.account, usage, observed_at=now * 1000, days=days)
    return ClaudeCodePoll(rows, sum(u.estimated_cost_pico for u in usage))
