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
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from monitor.claude_code import CLAUDE_CODE_ENDPOINT
from monitor.claude_code_poll import REFUSED_RETRY_SECONDS, poll_claude_code
from monitor.config import parse_duration
from monitor.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderResponseError,
    ProviderTransientError,
    SpendMonitorError,
    StoreError,
)
from monitor.periods import period_bounds, to_unix
from monitor.pricing import Pricer
from monitor.providers import Provider
from monitor.records import UsagePage
from monitor.store import Ledger
from monitor.store.billed import DAY, BilledStore, days_between
from monitor.store.channels import ChannelStore

log = logging.getLogger(__name__)


COSTS_ENDPOINT = "costs"
"""The pseudo-endpoint name of the providers' billed-cost report in poll results and metrics."""
BALANCES_ENDPOINT = "balances"
"""The pseudo-endpoint name of a channel's prepaid balances in poll results and metrics."""


def initial_start(lookback: str, tz: ZoneInfo, month_start_day: int) -> Callable[[int], int]:
    """Where an account's first poll starts, given `now`: the billing month's start ("month") or
    `now` minus the `initial_lookback` duration."""

    def start(now: int) -> int:
        if lookback == "month":
            at = datetime.fromtimestamp(now, UTC)
            return to_unix(period_bounds("month", at, tz, month_start_day=month_start_day)[0])
        return now - int(parse_duration(lookback))

    return start


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
    if isinstance(exc, StoreError):
        return "store"  # the ledger refused the write (read-only, full, corrupt): /readyz says so
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
                    shares = self.provider.list_price_shares()
                    if shares:  # a relay's group ratios, read with the page
                        self.pricer.set_shares(self.provider.account, shares)
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
                level = logging.ERROR if outcome.reason in ("internal", "store") else logging.WARNING
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
        shares = self.provider.list_price_shares()
        if shares:  # kept, so that `reprice` prices the relay's groups as the poll did
            ChannelStore(ledger).write_shares(self.provider.account, shares, observed_at=now)
        if self.fetch_costs and window is None and result.healthy and not result.interrupted:
            result.endpoints.append(self.poll_costs(ledger, now, costs_start))
        if self.provider.has_balances and window is None and result.healthy and not result.interrupted:
            result.endpoints.append(self.poll_balances(ledger, now))
        if self.claude_code and window is None and result.healthy and not result.interrupted:
            claude_code = self.poll_claude_code(ledger, now, costs_start)
            if claude_code is not None:
                result.endpoints.append(claude_code)
        return result

    def poll_claude_code(self, ledger: Ledger, now: int, start: int) -> EndpointResult | None:
        """Replace the days from `start` of the Claude Code report; None when the adapter has none,
        or for a day after the report was refused (a key without that permission)."""
        if now < self._claude_code_from:
            return None
        try:
            polled = poll_claude_code(self.provider, ledger, now, start)
        except PollInterrupted:  # stopping: the days are asked for again at the next poll
            return None
        if polled is None:
            return None
        if polled.reason == "auth":
            self._claude_code_from = now + REFUSED_RETRY_SECONDS
        outcome = EndpointResult(CLAUDE_CODE_ENDPOINT, not polled.error, polled.reason, polled.error)
        outcome.rows, outcome.cost_pico = polled.rows, polled.cost_pico
        return outcome

    def poll_balances(self, ledger: Ledger, now: int) -> EndpointResult:
        """Read the channel's prepaid balances and keep the newest."""
        outcome = EndpointResult(BALANCES_ENDPOINT)
        try:
            balances = self.provider.fetch_balances(now=now)
        except SpendMonitorError as exc:
            outcome.ok, outcome.reason, outcome.error = False, error_reason(exc), str(exc)
            log.warning("%s/balances: fetch failed (%s): %s", self.provider.account, outcome.reason, exc)
            return outcome
        ChannelStore(ledger).write_balances(self.provider.account, balances, observed_at=now)
        outcome.rows = len(balances)
        return outcome

    def poll_costs(self, ledger: Ledger, now: int, start: int) -> EndpointResult:
        """Fetch the provider's billed cost per day from `start` (a day) and replace those days.

        Each page (or part of whole days of a large one) is written as it arrives, in a transaction
        of its own, so a fetch never holds all of its lines (a large organisation is billed in tens
        of thousands a day). A day is replaced whole in one transaction (its lines come in one
        bucket), so a refresh sees each day as one observation; the covered days no line came for
        are emptied once the fetch has ended. A fetch that fails keeps the days written before it.
        """
        outcome = EndpointResult(COSTS_ENDPOINT)
        start -= start % DAY
        covered = days_between(start, now)
        store = BilledStore(ledger)
        observed_at = now * 1000
        written: set[int] = set()
        pages = self.provider.fetch_costs(start, now, now=now)
        while True:
            try:
                page = next(pages, None)
            except SpendMonitorError as exc:
                outcome.ok, outcome.reason, outcome.error = False, error_reason(exc), str(exc)
                log.warning("%s/costs: fetch failed (%s): %s", self.provider.account, outcome.reason, exc)
                return outcome
            if page is None:
                break
            days = set(self.provider.replaced_days(covered))  # known once the fetch has begun
            costs = [line for line in page if line.day_start in days]
            page_days = {line.day_start for line in costs}
            store.write_billed(self.provider.account, costs, observed_at=observed_at, days=page_days)
            written |= page_days
            outcome.rows += len(costs)
            outcome.cost_pico += sum(c.amount_pico for c in costs)
        empty = [d for d in self.provider.replaced_days(covered) if d not in written]
        store.write_billed(self.provider.account, [], observed_at=observed_at, days=empty)
        return outcome

    def _pages(self, endpoint: str, start: int, end: int, observed_at: int, now: int) -> Iterator[UsagePage]:
        for page in self.provider.fetch_usage(endpoint, start, end, observed_at=observed_at, now=now):
            yield page
            if self.stop.is_set():
                raise PollInterrupted("stopping")
