"""The poll cycle, step by step: fetch -> price -> store (per account), then refresh: judge -> publish;
delivery follows on its own thread (monitor.daemon.delivery).

    poll(account)   fetch each endpoint's pages, price them, write each page with its cursor,
                    record the poll (ledger `polls`, self-metrics, probes)
    refresh()       judge: budgets and drift move alert states, queueing outbox rows in the same
                    transaction; publish: the metrics snapshot and the status page
    run(accounts)   poll each account, then refresh once: what one scheduled cycle does

`refresh` reads the ledger once per cycle, not once per account. The scheduler (monitor.daemon.app)
calls `poll` from one job per account and `refresh` once after the polls of a cycle.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from monitor import __version__
from monitor.bill_prices import BillPrices
from monitor.budgets import BudgetEngine, BudgetStatus
from monitor.budgets.balances import evaluate_balances
from monitor.config import Config
from monitor.daemon.heap import trim_heap
from monitor.daemon.probes import STORE, Probes
from monitor.errors import StoreError
from monitor.ledger_view import build_ledger_view
from monitor.metrics import Exposition, PollStats
from monitor.poller import AccountPoller, EndpointResult, PollResult
from monitor.pricing import PriceTable
from monitor.providers import Provider
from monitor.reconciliation import CumulativeSavings, evaluate_drift
from monitor.status import build_status_data
from monitor.store import Ledger
from monitor.store.alerts import AlertStore
from monitor.store.billed import BilledStore

log = logging.getLogger(__name__)


class PollCycle:
    """The steps of the daemon's poll cycle over one ledger, with the state kept between cycles
    (the budgets' daily table, the savings per day, the last budget statuses)."""

    def __init__(
        self,
        config: Config,
        *,
        table: PriceTable,
        pollers: Mapping[str, AccountPoller],
        engine: BudgetEngine,
        channels: Iterable[str],
        stats: PollStats,
        exposition: Exposition,
        probes: Probes,
        clock: Callable[[], float],
        bills: BillPrices | None = None,
    ) -> None:
        self.config = config
        self.table = table
        self.pollers = dict(pollers)
        self.engine = engine
        self.channels = list(channels)
        self.stats = stats
        self.exposition = exposition
        self.probes = probes
        self.clock = clock
        self.bills = bills
        """Rates from the bill: derived and applied in each judge step, shown by publish."""
        self.discounts: dict[str, Decimal] = {p.name: p.discount_percent for p in config.providers}
        self.savings = CumulativeSavings(table, self.discounts)
        self.statuses: list[BudgetStatus] = []
        """The budget statuses of the last refresh (replaced whole, so other threads may read it)."""
        self._refresh_lock = threading.Lock()

    def use_table(self, table: PriceTable) -> None:
        """Build the views (and the savings) with `table` from the next refresh on."""
        self.table = table
        self.savings.table = table

    def open_ledger(self) -> Ledger:
        """A connection of its own for each step: SQLite in WAL mode lets the steps overlap."""
        return Ledger.open(self.config.storage.path)

    # -- the whole cycle ---------------------------------------------------------------------

    def run(self, accounts: Iterable[str]) -> dict[str, PollResult]:
        """Poll each account, then refresh once."""
        results = {account: self.poll(account) for account in accounts}
        if not any(r.interrupted for r in results.values()):
            self.refresh()
        return results

    # -- fetch -> price -> store -------------------------------------------------------------

    def poll(self, account: str) -> PollResult:
        """Poll one account: every endpoint's pages written page by page, then the poll recorded."""
        poller = self.pollers[account]
        provider = poller.provider
        started = self.clock()
        result = PollResult(provider.provider, account, started=started)
        store_failure = ""
        lag: float | None = None
        try:
            with self.open_ledger() as ledger:
                result = poller.poll(ledger, int(started))
                result.finished = self.clock()
                record_polls(ledger, result, int(started))
                lag = data_lag(ledger, provider, result.finished)
        except StoreError as exc:  # the ledger could not be opened, or the poll not recorded
            store_failure = str(exc)
            log.error("%s: the ledger refused the poll: %s", account, exc)
            if not result.endpoints:
                result.endpoints = [
                    EndpointResult(e, ok=False, reason=STORE, error=str(exc)) for e in provider.endpoints
                ]
        result.finished = result.finished or self.clock()
        trim_heap()  # the pages' memory goes back now, not after the refresh that follows the polls
        self.stats.record_poll(
            provider.provider,
            account,
            duration=result.finished - started,
            ok=result.ok and not store_failure,
            finished_at=result.finished,
            endpoint_errors={e.endpoint: {e.reason: 1} for e in result.endpoints if not e.ok},
            endpoints_ok=[e.endpoint for e in result.endpoints if e.ok],
            requests=request_counts(provider),
            data_lag=lag,
            healthy=result.healthy,
        )
        self.probes.record_poll(result, store_failure=store_failure)
        return result

    # -- refresh: judge -> publish -----------------------------------------------------------

    def refresh(self) -> bool:
        """Judge the budgets and drift, then publish the metrics and the status page; False (and a
        problem on the probes) when the ledger could not be read or written."""
        with self._refresh_lock:
            published = self.probes.refresh_started()
            try:
                with self.open_ledger() as ledger:
                    now = datetime.fromtimestamp(self.clock(), UTC)
                    alert_store = AlertStore(ledger)
                    self.statuses = self.judge(ledger, alert_store, now)
                    self.publish(ledger, alert_store, now)
            except Exception as exc:  # a refresh that fails must show on /readyz and /, not kill a thread
                failure = str(exc) if isinstance(exc, StoreError) else f"{type(exc).__name__}: {exc}"
                log.error("refresh failed: %s", failure, exc_info=not isinstance(exc, StoreError))
                self.probes.record_refresh(failure)
                return False
            finally:
                trim_heap()
        self.probes.record_refresh(published=published)
        return True

    def judge(self, ledger: Ledger, alert_store: AlertStore, now: datetime) -> list[BudgetStatus]:
        """Rates from the bill (stored rows priced with the new bills first, so budgets count them),
        then budgets (and anomalies) and drift: alert transitions with their outbox rows, in the ledger."""
        if self.bills is not None:
            self.bills.update(ledger, int(now.timestamp()))
        statuses = self.engine.evaluate(ledger, alert_store, now)
        evaluate_drift(
            ledger,
            BilledStore(ledger),
            alert_store,
            self.channels,
            self.config.reconciliation.drift_threshold_percent,
            now,
            rates=self.bills.disagreements_by_day() if self.bills is not None else None,
        )
        evaluate_balances(ledger, alert_store, self.channels, self.config.balances, now)
        return statuses

    def publish(self, ledger: Ledger, alert_store: AlertStore, now: datetime) -> None:
        """Build the views of this refresh: the metrics snapshot and the status page.

        The one place a refresh builds what the daemon serves; a new gauge or page section reads
        the ledger here, once per cycle, never per request.
        """
        view = build_ledger_view(
            ledger,
            self.table,
            self.statuses,
            alert_store,
            now=now,
            tz=self.config.tz,
            month_start_day=self.config.month_start_day,
            discounts=self.discounts,
            savings=self.savings,
            daily=self.engine.daily,
            observed=self.bills.observed_prices() if self.bills is not None else (),
            bill_problems=self.bills.problems(int(now.timestamp())) if self.bills is not None else (),
            attribution=self.config.attribution,
        )
        self.exposition.update(
            view,
            self.stats,
            version=__version__,
            pricing_version=self.table.version,
            include_api_key=self.config.metrics.include_api_key,
            include_user=self.config.metrics.include_user,
            series_limit=self.config.metrics.series_limit,
            now=now.timestamp(),
        )
        del view
        self.probes.publish_page(
            build_status_data(
                ledger,
                self.statuses,
                table=self.table,
                now=now,
                tz=self.config.tz,
                month_start_day=self.config.month_start_day,
                discounts=self.discounts,
                version=__version__,
                daily=self.engine.daily,
                rates_off=self.bills.disagreements() if self.bills is not None else (),
                bill_problems=self.bills.problems(int(now.timestamp())) if self.bills is not None else (),
                attribution=self.config.attribution,
            )
        )


def record_polls(ledger: Ledger, result: PollResult, started: int) -> None:
    """The last poll of each endpoint, for the status page after a restart."""
    for outcome in result.endpoints:
        ledger.record_poll(
            result.account,
            outcome.endpoint,
            started=started,
            finished=int(result.finished),
            ok=outcome.ok,
            error=outcome.error,
            rows=outcome.rows,
        )


def data_lag(ledger: Ledger, provider: Provider, now: float) -> float | None:
    """Seconds from the newest closed bucket of the account's endpoints to `now` (None before any)."""
    cursors = [ledger.cursor(provider.account, e) for e in provider.endpoints]
    known = [c for c in cursors if c is not None]
    return max(0.0, now - max(known)) if known else None


def request_counts(provider: Provider) -> dict[str, int]:
    stats: Any = getattr(provider, "stats", None)
    if stats is None:
        return {}
    by_endpoint = getattr(stats, "requests_by_endpoint", None)
    return dict(by_endpoint) if by_endpoint else {}
