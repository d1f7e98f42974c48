"""The daemon: builds the parts from the config, registers the jobs, and starts and stops them.

This package and `cli/` are the only places that read the clock and wire the layers together:
providers fetch -> pricing prices -> store keeps -> budgets judge -> metrics/alerts tell.

    cycle.py      the poll cycle's steps (poll an account; refresh: judge, publish)
    scheduler.py  interval jobs on daemon threads, the coalesced refresh, shutdown deadlines
    delivery.py   the outbox drained on a thread of its own
    probes.py     /healthz, /readyz and the status page's problems
    web.py        the HTTP server wiring (the server runs in a process of its own: monitor.web)
    heap.py       the heap policy: one malloc arena, a trim after each poll and refresh
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from types import FrameType

from monitor.alerts import build_channels
from monitor.bill_prices import BillPrices
from monitor.budgets import BudgetEngine
from monitor.config import Config, ProviderConfig
from monitor.config.model import WEEKDAYS
from monitor.daemon.cycle import PollCycle
from monitor.daemon.delivery import Delivery
from monitor.daemon.heap import one_arena
from monitor.daemon.probes import Probes
from monitor.daemon.scheduler import Coalescer, Scheduler, join_until, set_switch_interval
from monitor.daemon.slow_jobs import DIGEST_INTERVAL_S, DIRECTORY_INTERVAL_S, DigestJob, DirectoryJob
from monitor.daemon.web import build_server
from monitor.metrics import AccountRef, Exposition, PollStats
from monitor.poller import COSTS_ENDPOINT, AccountPoller, PollInterrupted, PollResult, initial_start
from monitor.price_updates import PriceUpdates, configured_table
from monitor.pricing import Pricer, PriceTable
from monitor.providers import Provider, make_provider, option_of
from monitor.store.lock import LedgerLock
from monitor.store.lock import hold as hold_ledger

log = logging.getLogger(__name__)

ProviderFactory = Callable[[ProviderConfig, Callable[[float], None]], Provider]
SHUTDOWN_S = 6.0
"""How long `stop()` waits for the page in flight and the delivery in flight before it returns
anyway: SIGTERM ends the process within 10 s whatever the network does."""


def _default_provider_factory(cfg: ProviderConfig, sleep: Callable[[float], None]) -> Provider:
    return make_provider(cfg, sleep=sleep)


class Daemon:
    """The pollers, the poll cycle, the delivery thread, the scheduler and the HTTP server of one config."""

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
        self.table = configured_table(config.pricing)
        pricer = Pricer(self.table, {p.name: p.discount_percent for p in config.providers})
        self.pricer = pricer
        self.providers: dict[str, Provider] = {
            p.name: provider_factory(p, self._interruptible_sleep) for p in config.providers
        }
        self.pollers = {
            cfg.name: AccountPoller(
                self.providers[cfg.name],
                pricer,
                revision_window=int(cfg.revision_window),
                initial_start=initial_start(cfg.initial_lookback, config.tz, config.month_start_day),
                stop=self.stopping,
                fetch_costs=cfg.fetch_costs,
                claude_code=bool(option_of(cfg, "claude_code")),
            )
            for cfg in config.providers
        }
        self.channels = build_channels(config.alerts)
        self.stats = PollStats(
            [
                AccountRef(
                    p.provider,
                    p.account,
                    (*p.endpoints, COSTS_ENDPOINT) if cfg.fetch_costs else tuple(p.endpoints),
                )
                for cfg, p in ((c, self.providers[c.name]) for c in config.providers)
            ],
            channels=list(self.channels),
        )
        week_start = WEEKDAYS.index(config.week_start.lower()) if config.week_start.lower() in WEEKDAYS else 0
        engine = BudgetEngine(
            config.budgets,
            list(self.channels),
            config.tz,
            month_start_day=config.month_start_day,
            week_start=week_start,
            anomalies=config.anomalies,
            per_rung_channels=[c.name for c in config.alerts if c.type == "alertmanager"],
            attribution=config.attribution,
        )
        self.exposition = Exposition()
        self.probes = Probes(list(self.providers), alive=self.health)
        self.bills = BillPrices(config.pricing.sources, config.reconciliation.drift_threshold_percent, pricer)
        self.cycle = PollCycle(
            config,
            table=self.table,
            pollers=self.pollers,
            engine=engine,
            channels=self.channels,
            stats=self.stats,
            exposition=self.exposition,
            probes=self.probes,
            clock=clock,
            bills=self.bills,
        )
        self.delivery = Delivery(
            self.cycle.open_ledger,
            self.channels,
            statuses=lambda: self.cycle.statuses,
            clock=clock,
            on_outcome=self.stats.record_alert,
        )
        self.price_updates = PriceUpdates(config, pricer, self._use_table, self.cycle.open_ledger)
        self.server = build_server(config, self.exposition, self.probes, listen)
        self.scheduler = Scheduler(
            on_error=self.stats.record_job_error, on_missed=self.stats.record_job_missed
        )
        shortest = min((float(p.poll_interval) for p in config.providers), default=60.0)
        self.refresher = Coalescer(self._refresh_and_deliver, name="refresh", max_wait=max(shortest, 5.0))
        self.directories = DirectoryJob(self.providers, self.cycle, refresh=self.refresher.request)
        self.digests = DigestJob(config, self.cycle, week_start=week_start, deliver=self.delivery.wake)
        self._ledger_lock: LedgerLock | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Open (and migrate) the ledger, publish a first snapshot, start serving and polling.

        A ledger that cannot be opened stops the start (StoreError); one whose first refresh fails
        starts not ready, the problem shown on /readyz and /.
        """
        one_arena()  # before the daemon's threads start (monitor.daemon.heap)
        self._ledger_lock = hold_ledger(self.config.storage.path)  # one daemon per ledger
        self.cycle.open_ledger().close()
        first_run = datetime.fromtimestamp(self.clock(), UTC)
        self.price_updates.start(self.scheduler, self.refresher.request, now=first_run)  # if configured
        self.cycle.refresh()
        self.server.start()
        self._register_jobs()
        self.probes.changed()  # alive now: the scheduler runs
        log.info("polling %d account(s); metrics on %s/metrics", len(self.providers), self.server.url)

    def _register_jobs(self) -> None:
        """Every job of the daemon, in one place: a poll job per account (accounts with the same
        interval start together, so one refresh follows them), the directories (at start, then
        hourly), the digests (every minute, when configured), the refresh after the polls, and the
        delivery loop."""
        first_run = datetime.fromtimestamp(self.clock(), UTC)
        for cfg in self.config.providers:
            self.scheduler.every(
                _poll_job_id(cfg.name),
                float(cfg.poll_interval),
                self._poll_job,
                cfg.name,
                first_run=first_run,
            )
        self.scheduler.every("directory", DIRECTORY_INTERVAL_S, self.directories.run, first_run=first_run)
        if self.config.digests:
            self.scheduler.every("digests", DIGEST_INTERVAL_S, self.digests.run, first_run=first_run)
        self.refresher.start()
        self.delivery.start()
        self.scheduler.start()

    def stop(self, timeout: float = SHUTDOWN_S) -> None:
        """Stop within `timeout` seconds: no new runs; the page in flight finishes if it can; the
        threads still running then (a hung network call) are left behind (daemon threads)."""
        deadline = time.monotonic() + timeout
        self.stopping.set()
        self.probes.changed()  # /healthz says "shutting down" until the server stops
        for provider in self.providers.values():
            provider.close()  # cuts a request in flight first, so the poll jobs end now
        for channel in self.channels.values():
            getattr(channel, "cancel", lambda: None)()  # and a POST in flight (webhook, Alertmanager)
        self.scheduler.stop()
        self.refresher.stop()
        self.delivery.stop()
        self.server.stop()
        busy = self.scheduler.executor.wait_idle(deadline)
        threads = [t for t in (self.refresher.thread, self.delivery.thread) if t.is_alive()]
        left = sorted(busy) + join_until(threads, deadline)
        if left:
            log.warning("stopping without waiting for: %s", ", ".join(left))
        if self._ledger_lock is not None:
            self._ledger_lock.release()

    def run_forever(self) -> int:
        """Run until SIGTERM or SIGINT; exit code 0 after a clean shutdown."""

        def _signal(signum: int, _frame: FrameType | None) -> None:
            log.info("received %s, shutting down", signal.Signals(signum).name)
            self.stopping.set()

        previous = {s: signal.signal(s, _signal) for s in (signal.SIGTERM, signal.SIGINT)}
        set_switch_interval()
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

    # -- jobs --------------------------------------------------------------------------------

    def _poll_job(self, account: str) -> None:
        """The scheduled poll of one account; the refresh follows once the cycle's polls are done."""
        with self.refresher.busy():
            result = self.cycle.poll(account)
        if not result.interrupted:
            self.refresher.request()

    def _refresh_and_deliver(self) -> None:
        self.cycle.refresh()
        self.delivery.wake()

    # -- synchronous entry points (tests, benchmarks, backfill) --------------------------------

    def poll_account(self, account: str) -> PollResult:
        """Poll one account, refresh and deliver, on the caller's thread."""
        result = self.cycle.poll(account)
        if not result.interrupted:
            self.cycle.refresh()
            self.deliver_alerts()
        return result

    def run_cycle(self, accounts: Iterable[str] | None = None) -> dict[str, PollResult]:
        """Poll the accounts (default: all), refresh once and deliver, on the caller's thread."""
        results = self.cycle.run(list(self.providers) if accounts is None else accounts)
        self.deliver_alerts()
        return results

    def refresh(self) -> bool:
        return self.cycle.refresh()

    def refresh_directories(self) -> None:
        """Read the directories that are due, then refresh, on the caller's thread."""
        self.directories.read()
        self.cycle.refresh()

    def deliver_alerts(self) -> None:
        """Drain the outbox on the caller's thread (the running daemon drains on its own thread)."""
        self.delivery.drain()

    # -- health ------------------------------------------------------------------------------

    def health(self) -> tuple[bool, str]:
        if self.stopping.is_set():
            return False, "shutting down"
        if not self.scheduler.running:
            return False, "scheduler not running"
        return True, "ok"

    def ready(self) -> tuple[bool, str]:
        return self.probes.ready()

    def status_page(self) -> bytes:
        return self.probes.status_page()

    # -- helpers -----------------------------------------------------------------------------

    def _use_table(self, table: PriceTable) -> None:
        """Price with `table` from now on (new community prices): ingest, savings and views."""
        self.table = table
        self.pricer.use(table)
        self.cycle.use_table(table)
        self.bills.table_changed()  # rows priced from a bill get the new prices where they have some
        self.digests.use_table(table)

    def _interruptible_sleep(self, seconds: float) -> None:
        if self.stopping.wait(seconds):
            raise PollInterrupted("stopping")


def _poll_job_id(account: str) -> str:
    return f"poll:{account}"
