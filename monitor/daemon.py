"""The daemon: one scheduler job per provider account, the poll cycle, snapshots, signals, shutdown.

This is the only module (with `cli/`) that reads the clock and wires the layers together:
providers fetch -> pricing prices -> store keeps -> budgets judge -> metrics/alerts tell.
Every job opens its own ledger connection (SQLite in WAL mode lets them run side by side), so a
slow or failing account never stalls another one.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from monitor import __version__
from monitor.alerts import OutboxWorker, build_channels
from monitor.attribution import Attributor
from monitor.budgets import BudgetEngine, BudgetStatus
from monitor.config import Config, ProviderConfig, parse_duration
from monitor.digests import DigestInputs, DigestScheduler
from monitor.directory_refresher import CHECK_SECONDS, DirectoryRefresher
from monitor.ledger_view import build_ledger_view
from monitor.metrics import AccountRef, Exposition, MetricsServer, PollStats
from monitor.metrics.status_page import render_status_page
from monitor.periods import period_bounds, to_unix
from monitor.poller import COSTS_ENDPOINT, AccountPoller, PollInterrupted, PollResult
from monitor.pricing import Pricer, PriceTable
from monitor.providers import Provider, make_provider
from monitor.reconciliation import CumulativeSavings, evaluate_drift
from monitor.status import build_status_data
from monitor.store import Ledger
from monitor.store.alerts import AlertStore
from monitor.store.billed import BilledStore

log = logging.getLogger(__name__)

ProviderFactory = Callable[[ProviderConfig, Callable[[float], None]], Provider]
OUTBOX_JOB_SECONDS = 15


def _default_provider_factory(cfg: ProviderConfig, sleep: Callable[[float], None]) -> Provider:
    return make_provider(cfg, sleep=sleep)


class Daemon:
    """Owns the scheduler, the metrics server and the per-account pollers for one config."""

    def __init__(
        self,
        config: Config,
        *,
        listen: str | None = None,
        clock: Callable[[], float] = time.time,
        provider_factory: ProviderFactory = _default_provider_factory,
    ) -> None:
        self.config = config
        self.clock = clock
        self.stopping = threading.Event()
        self.table = PriceTable.load(config.pricing.files, config.pricing.overrides, config.pricing.aliases)
        self.pricer = Pricer(self.table, {p.name: p.discount_percent for p in config.providers})
        self.providers: dict[str, Provider] = {
            p.name: provider_factory(p, self._interruptible_sleep) for p in config.providers
        }
        self.pollers = {
            cfg.name: AccountPoller(
                self.providers[cfg.name],
                self.pricer,
                revision_window=int(cfg.revision_window),
                initial_start=self._initial_start(cfg),
                stop=self.stopping,
                fetch_costs=cfg.fetch_costs,
                claude_code=cfg.claude_code,
            )
            for cfg in config.providers
        }
        self.channels = build_channels(config.alerts)
        self.directories = DirectoryRefresher(self.providers)
        self.stats = PollStats(
            [
                AccountRef(
                    provider.provider,
                    provider.account,
                    (*provider.endpoints, COSTS_ENDPOINT) if cfg.fetch_costs else tuple(provider.endpoints),
                )
                for cfg, provider in ((c, self.providers[c.name]) for c in config.providers)
            ],
            channels=list(self.channels),
        )
        self.budget_engine = BudgetEngine(
            config.budgets,
            list(self.channels),
            config.tz,
            month_start_day=config.month_start_day,
            week_start=_weekday(config.week_start),
            anomalies=config.anomalies,
            attribution=config.attribution,
        )
        self.exposition = Exposition()
        self.server = MetricsServer(
            listen or config.listen,
            self.exposition,
            health=self.health,
            ready=self.ready,
            landing=self.status_page,
            tls_cert_file=config.web.tls_cert_file,
            tls_key_file=config.web.tls_key_file,
            basic_auth_users=config.web.basic_auth_users,
        )
        self.scheduler = BackgroundScheduler(
            timezone=UTC, executors={"default": ThreadPoolExecutor(max_workers=len(config.providers) + 2)}
        )
        self._after_poll_lock = threading.Lock()
        self._polled: dict[str, str] = {}
        self._budget_statuses: list[BudgetStatus] = []
        self._discounts = {p.name: p.discount_percent for p in config.providers}
        self._savings = CumulativeSavings(self.table, self._discounts)
        self._status_page = b""
        self.digests = DigestScheduler(
            config.digests,
            list(self.channels),
            DigestInputs(config.tz, Attributor(config.attribution), self.table, discounts=self._discounts),
            month_start_day=config.month_start_day,
            week_start=_weekday(config.week_start),
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Open (and migrate) the ledger, publish a first snapshot, start serving and polling."""
        with self._ledger() as ledger:
            AlertStore(ledger)
        self.refresh()
        self.server.start()
        now = datetime.fromtimestamp(self.clock(), UTC)
        for cfg in self.config.providers:
            self.scheduler.add_job(
                self.poll_account,
                "interval",
                args=[cfg.name],
                id=f"poll:{cfg.name}",
                name=f"poll {cfg.name}",
                seconds=cfg.poll_interval,
                jitter=min(30.0, cfg.poll_interval / 10),
                max_instances=1,
                coalesce=True,
                next_run_time=now,
                misfire_grace_time=int(cfg.poll_interval),
            )
        self.scheduler.add_job(
            self.deliver_alerts,
            "interval",
            id="outbox",
            seconds=OUTBOX_JOB_SECONDS,
            max_instances=1,
            coalesce=True,
        )
        self.scheduler.add_job(
            self.refresh_directories, "interval", id="directory", seconds=CHECK_SECONDS, next_run_time=now
        )
        if self.config.digests:
            self.scheduler.add_job(self.send_digests, "interval", id="digests", seconds=60, next_run_time=now)
        self.scheduler.add_listener(self._on_job_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED)
        self.scheduler.start()
        log.info("polling %d account(s); metrics on %s/metrics", len(self.providers), self.server.url)

    def stop(self) -> None:
        """Finish the page in flight, stop the scheduler and the server, close connections."""
        self.stopping.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        self.server.stop()
        for provider in self.providers.values():
            provider.close()

    def run_forever(self) -> int:
        """Run until SIGTERM or SIGINT; exit code 0 after a clean shutdown."""

        def _signal(signum: int, _frame: FrameType | None) -> None:
            log.info("received %s, shutting down", signal.Signals(signum).name)
            self.stopping.set()

        previous = {s: signal.signal(s, _signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.start()
            while not self.stopping.wait(0.5):
                pass
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        log.info("stopped cleanly")
        return 0

    # -- jobs ------------------------------------------------------------------------------

    def poll_account(self, account: str) -> PollResult:
        """The scheduler job: poll one account, then re-evaluate budgets and rebuild the snapshot."""
        poller = self.pollers[account]
        provider = self.providers[account]
        started = self.clock()
        with self._ledger() as ledger:
            result = poller.poll(ledger, int(started))
            finished = self.clock()
            result.finished = finished
            for outcome in result.endpoints:
                ledger.record_poll(
                    account,
                    outcome.endpoint,
                    started=int(started),
                    finished=int(finished),
                    ok=outcome.ok,
                    error=outcome.error,
                    rows=outcome.rows,
                )
            lag = self._data_lag(ledger, provider, finished)
        self.stats.record_poll(
            provider.provider,
            account,
            duration=finished - started,
            ok=result.ok,
            finished_at=finished,
            endpoint_errors={e.endpoint: {e.reason: 1} for e in result.endpoints if not e.ok},
            endpoints_ok=[e.endpoint for e in result.endpoints if e.ok],
            requests=_request_counts(provider),
            data_lag=lag,
            healthy=result.healthy,
        )
        failed = [f"{e.endpoint}: {e.reason}" for e in result.endpoints if not e.ok]
        self._polled[account] = "; ".join(failed)
        if not result.interrupted:
            self.refresh()
            self.deliver_alerts()
        return result

    def refresh(self) -> None:
        """Evaluate budgets (queueing alerts) and publish a new metrics snapshot from the ledger."""
        with self._after_poll_lock, self._ledger() as ledger:
            now = datetime.fromtimestamp(self.clock(), UTC)
            alert_store = AlertStore(ledger)
            self._budget_statuses = self.budget_engine.evaluate(ledger, alert_store, now)
            evaluate_drift(
                ledger,
                BilledStore(ledger),
                alert_store,
                list(self.channels),
                self.config.reconciliation.drift_threshold_percent,
                now,
            )
            view = build_ledger_view(
                ledger,
                self.table,
                self._budget_statuses,
                alert_store,
                now=now,
                tz=self.config.tz,
                month_start_day=self.config.month_start_day,
                discounts=self._discounts,
                savings=self._savings,
                attribution=self.config.attribution,
            )
            self._status_page = render_status_page(
                build_status_data(
                    ledger,
                    self._budget_statuses,
                    table=self.table,
                    now=now,
                    tz=self.config.tz,
                    month_start_day=self.config.month_start_day,
                    discounts=self._discounts,
                    version=__version__,
                    attribution=self.config.attribution,
                )
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
        _trim_heap()

    def refresh_directories(self) -> None:
        """The hourly job (and at start): names of projects, keys and users where due, then a snapshot."""
        with self._ledger() as ledger:
            read = self.directories.run(ledger, int(self.clock()))
        if read:
            self.refresh()

    def send_digests(self) -> None:
        """The minutely job: queue each digest that is due (once per period), then deliver."""
        with self._after_poll_lock, self._ledger() as ledger:
            now = datetime.fromtimestamp(self.clock(), UTC)
            queued = self.digests.run(ledger, AlertStore(ledger), now, self._budget_statuses)
        if queued:
            self.deliver_alerts()

    def deliver_alerts(self) -> None:
        """Drain the outbox: each queued notification goes out once per channel, retried with backoff."""
        if not self.channels:
            return
        with self._after_poll_lock, self._ledger() as ledger:
            worker = OutboxWorker(AlertStore(ledger), self.channels, on_outcome=self.stats.record_alert)
            worker.drain(datetime.fromtimestamp(self.clock(), UTC))
            worker.repost_active(self._budget_statuses, datetime.fromtimestamp(self.clock(), UTC))

    # -- health ----------------------------------------------------------------------------

    def status_page(self) -> bytes:
        """The `/` page, rendered once per refresh (never per request)."""
        return self._status_page

    def health(self) -> tuple[bool, str]:
        if self.stopping.is_set():
            return False, "shutting down"
        if not self.scheduler.running:
            return False, "scheduler not running"
        return True, "ok"

    def ready(self) -> tuple[bool, str]:
        pending = [name for name in self.providers if name not in self._polled]
        if pending:
            return False, "waiting for the first poll of: " + ", ".join(sorted(pending))
        failing = {name: why for name, why in self._polled.items() if why}
        if failing:
            return True, "ready; failing: " + "; ".join(f"{n} ({w})" for n, w in sorted(failing.items()))
        return True, "ready"

    # -- helpers ---------------------------------------------------------------------------

    def _ledger(self) -> Ledger:
        return Ledger.open(self.config.storage.path)

    def _interruptible_sleep(self, seconds: float) -> None:
        if self.stopping.wait(seconds):
            raise PollInterrupted("stopping")

    def _initial_start(self, cfg: ProviderConfig) -> Callable[[int], int]:
        def initial_start(now: int) -> int:
            if cfg.initial_lookback == "month":
                at = datetime.fromtimestamp(now, UTC)
                start, _ = period_bounds(
                    "month", at, self.config.tz, month_start_day=self.config.month_start_day
                )
                return to_unix(start)
            return now - int(parse_duration(cfg.initial_lookback))

        return initial_start

    def _data_lag(self, ledger: Ledger, provider: Provider, now: float) -> float | None:
        cursors = [ledger.cursor(provider.account, e) for e in provider.endpoints]
        known = [c for c in cursors if c is not None]
        return max(0.0, now - max(known)) if known else None

    def _on_job_event(self, event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            self.stats.record_job_missed(event.job_id)
        else:
            log.error("job %s failed: %r", event.job_id, event.exception)
            self.stats.record_job_error(event.job_id)


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's `malloc_trim`, or None where the C library has none (musl, macOS, Windows)."""
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError, TypeError):
        return None
    return trim


_MALLOC_TRIM = _malloc_trim()


def _trim_heap() -> None:
    """Give the heap pages a refresh freed back to the OS.

    A refresh over a large ledger allocates and frees tens of MB (query rows, the metric families,
    the rendered text); glibc keeps freed pages mapped, so without a trim the daemon's RSS stays
    at the refresh's peak. Measured in docs/BENCHMARKS.md ("Scrape vs ledger size").
    """
    gc.collect()  # cyclic garbage first (exception tracebacks, frames), so its pages can go too
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def _weekday(name: str) -> int:
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    return days.index(name.lower()) if name.lower() in days else 0


def _request_counts(provider: Provider) -> dict[str, int]:
    stats: Any = getattr(provider, "stats", None)
    if stats is None:
        return {}
    by_endpoint = getattr(stats, "requests_by_endpoint", None)
    return dict(by_endpoint) if by_endpoint else {}


def accounts_of(daemon: Daemon) -> Sequence[str]:
    return list(daemon.providers)
