"""The poll cycle of one provider account: fetch -> price -> write, page by page.

Each page is priced and written with its cursor in one ledger transaction, so a crash between
pages loses nothing and a retry counts nothing twice (see docs/architecture.md). The poller never
reads the clock itself: `now` comes from the caller.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from monitor.claude_code import CLAUDE_CODE_ENDPOINT
from monitor.claude_code_poll import REFUSED_RETRY_SECONDS, poll_claude_code
from monitor.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderResponseError,
    ProviderTransientError,
    SpendMonitorError,
)
from monitor.pricing import Pricer
from monitor.providers import Provider
from monitor.records import UsagePage
from monitor.store import Ledger
from monitor.store.billed import BilledStore, days_between

log = logging.getLogger(__name__)


COSTS_ENDPOINT = "costs"
"""The pseudo-endpoint name of the providers' billed-cost report in poll results and metrics."""


class PollInterrupted(SpendMonitorError):
    """The daemon is stopping: the fetch in flight is abandoned after the last written page."""


@dataclass
class EndpointResult:
    endpoint: str
    ok: bool = True
    reason: str = ""
    error: str = ""
    pages: int = 0
    rows: int = 0
    cost_pico: int = 0
    buckets: int = 0


@dataclass
class PollResult:
    """What one poll of one account did; the daemon turns it into self-metrics."""

    provider: str
    account: str
    started: float
    finished: float = 0.0
    endpoints: list[EndpointResult] = field(default_factory=list)
    healthy: bool = True
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return all(e.ok for e in self.endpoints) and not self.interrupted

    @property
    def rows(self) -> int:
        return sum(e.rows for e in self.endpoints)


def error_reason(exc: BaseException) -> str:
    """The `reason` label of spend_monitor_poll_errors_total for an exception."""
    if isinstance(exc, ProviderError) and exc.reason:
        return exc.reason
    if isinstance(exc, ProviderAuthError):
        return "auth"
    if isinstance(exc, ProviderResponseError):
        return "bad_response"
    if isinstance(exc, ProviderTransientError):
        return "server_error"
    if isinstance(exc, ProviderError):
        return "client_error"
    return "internal"


class AccountPoller:
    """Polls one account's usage endpoints from its cursor minus the revision window up to now."""

    def __init__(
        self,
        provider: Provider,
        pricer: Pricer,
        *,
        revision_window: int,
        initial_start: Callable[[int], int],
        stop: threading.Event | None = None,
        fetch_costs: bool = True,
        claude_code: bool = False,
    ) -> None:
        self.provider = provider
        self.fetch_costs = fetch_costs
        self.claude_code = claude_code
        self._claude_code_from = 0
        """Unix time from which the Claude Code report is asked for again (a day after a refusal)."""
        self.pricer = pricer
        self.revision_window = revision_window
        self.initial_start = initial_start
        self.stop = stop or threading.Event()

    def window_start(self, ledger: Ledger, endpoint: str, now: int) -> int:
        """Where this endpoint's fetch starts: cursor minus the revision window, or the initial lookback."""
        cursor = ledger.cursor(self.provider.account, endpoint)
        if cursor is None:
            return self.initial_start(now)
        return min(cursor, now) - self.revision_window

    def poll(
        self,
        ledger: Ledger,
        now: int,
        *,
        window: Callable[[str], tuple[int, int]] | None = None,
        on_page: Callable[[UsagePage, int], None] | None = None,
    ) -> PollResult:
        """Fetch every endpoint and write page by page.

        `window(endpoint) -> (start, end)` overrides the polling window (backfill); an empty
        window skips the endpoint.
        """
        result = PollResult(self.provider.provider, self.provider.account, started=float(now))
        observed_at = now * 1000
        costs_start = (
            self.window_start(ledger, self.provider.endpoints[0], now) if self.provider.endpoints else now
        )
        for endpoint in self.provider.endpoints:
            if self.stop.is_set():
                result.interrupted = True
                break
            outcome = EndpointResult(endpoint)
            result.endpoints.append(outcome)
            if window is not None:
                fetch_start, fetch_end = window(endpoint)
                if fetch_start >= fetch_end:
                    continue
            else:
                fetch_start, fetch_end = self.window_start(ledger, endpoint, now), now
            try:
                for page in self._pages(endpoint, fetch_start, fetch_end, observed_at, now):
                    priced = self.pricer.price_rows(page.rows)
                    ledger.write_page(page, priced)
                    outcome.pages += 1
                    outcome.rows += len(page.rows)
                    outcome.buckets += len(page.buckets)
                    page_cost = sum(p.total for p in priced)
                    outcome.cost_pico += page_cost
                    if on_page is not None:
                        on_page(page, page_cost)
            except PollInterrupted:
                result.interrupted = True
                break
            except ProviderAuthError as exc:
                outcome.ok, outcome.reason, outcome.error = False, "auth", str(exc)
                result.healthy = False
                # The message already starts with the account name.
                log.error("%s; marked unhealthy, next try at the next poll interval", exc)
                break
            except SpendMonitorError as exc:
                outcome.ok, outcome.reason, outcome.error = False, error_reason(exc), str(exc)
                # A provider failure is routine (retried next poll); a store or pricing error is not.
                level = logging.ERROR if outcome.reason == "internal" else logging.WARNING
                log.log(
                    level, "%s/%s: poll failed (%s): %s", self.provider.account, endpoint, outcome.reason, exc
                )
            except Exception as exc:  # a bug on one page must not stop the daemon
                # Parsing, pricing or writing one page raised unexpectedly: that page is not written
                # (the ledger transaction rolls back), the endpoint counts an "internal" error and the
                # other endpoints and accounts go on. The traceback goes to the log.
                outcome.ok, outcome.reason = False, "internal"
                outcome.error = f"internal error ({type(exc).__name__}); see the log"
                log.error(
                    "%s/%s: poll failed (internal): unexpected %s",
                    self.provider.account,
                    endpoint,
                    type(exc).__name__,
                    exc_info=True,
                )
        if self.fetch_costs and window is None and result.healthy and not result.interrupted:
            result.endpoints.append(self.poll_costs(ledger, now, costs_start))
        if self.claude_code and window is None and result.healthy and not result.interrupted:
            polled = (
                poll_claude_code(self.provider, ledger, now, costs_start)
                if now >= self._claude_code_from
                else None
            )
            if polled is not None:
                if polled.reason == "auth":
                    self._claude_code_from = now + REFUSED_RETRY_SECONDS
                outcome = EndpointResult(CLAUDE_CODE_ENDPOINT, not polled.error, polled.reason, polled.error)
                outcome.rows, outcome.cost_pico = polled.rows, polled.cost_pico
                result.endpoints.append(outcome)
        return result

    def poll_costs(self, ledger: Ledger, now: int, start: int) -> EndpointResult:
        """Fetch the provider's billed cost per day from `start` (a day) and replace those days."""
        outcome = EndpointResult(COSTS_ENDPOINT)
        day = 86400
        start -= start % day
        try:
            costs = [line for page in self.provider.fetch_costs(start, now, now=now) for line in page]
        except SpendMonitorError as exc:
            outcome.ok, outcome.reason, outcome.error = False, error_reason(exc), str(exc)
            log.warning("%s/costs: fetch failed (%s): %s", self.provider.account, outcome.reason, exc)
            return outcome
        BilledStore(ledger).write_billed(
            self.provider.account, costs, observed_at=now * 1000, days=days_between(start, now)
        )
        outcome.rows = len(costs)
        outcome.cost_pico = sum(c.amount_pico for c in costs)
        return outcome

    def _pages(self, endpoint: str, start: int, end: int, observed_at: int, now: int) -> Iterator[UsagePage]:
        for page in self.provider.fetch_usage(endpoint, start, end, observed_at=observed_at, now=now):
            yield page
            if self.stop.is_set():
                raise PollInterrupted("stopping")
