"""The daemon's slow jobs beside the poll cycle: the providers' directories (names for ids) and the
digests. Each is one scheduled function (registered in `Daemon._register_jobs`) that opens its own
ledger connection, so it never waits on a poll or a refresh, and hands on to them:

    DirectoryJob.run   at start, then hourly: read the directories that are due (monitor.
                       directory_refresher); when names were read, a refresh shows them
    DigestJob.run      every minute while digests are configured: queue each due digest once per
                       period (monitor.digests), then wake the delivery thread
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime

from monitor.attribution import Attributor
from monitor.config import Config
from monitor.daemon.cycle import PollCycle
from monitor.digests import DigestInputs, DigestScheduler
from monitor.directory_refresher import CHECK_SECONDS, DirectoryRefresher
from monitor.poller import PollInterrupted
from monitor.pricing import PriceTable
from monitor.providers import Provider
from monitor.store.alerts import AlertStore

log = logging.getLogger(__name__)

DIRECTORY_INTERVAL_S = float(CHECK_SECONDS)
"""How often the directory job looks for directories that are due (each is read daily, or early)."""
DIGEST_INTERVAL_S = 60.0
"""How often the digest job looks for a digest whose send time has come."""


class DirectoryJob:
    """Reads the accounts' directories into the ledger (adapters without one are skipped)."""

    def __init__(
        self, providers: Mapping[str, Provider], cycle: PollCycle, *, refresh: Callable[[], None]
    ) -> None:
        self.refresher = DirectoryRefresher(providers)
        self._cycle = cycle
        self._refresh = refresh

    def read(self) -> bool:
        """Read the directories that are due; whether any part was read. A stop in the middle ends
        the read quietly (what was written stays; the rest is read after the restart)."""
        with self._cycle.open_ledger() as ledger:
            try:
                return bool(self.refresher.run(ledger, int(self._cycle.clock())))
            except PollInterrupted:
                return False

    def run(self) -> None:
        """The job: read what is due, then request a refresh when anything was (names to show)."""
        if self.read():
            self._refresh()


class DigestJob:
    """Queues the configured digests when due, exactly once per period, through the alert outbox."""

    def __init__(
        self, config: Config, cycle: PollCycle, *, week_start: int, deliver: Callable[[], None]
    ) -> None:
        inputs = DigestInputs(
            config.tz, Attributor(config.attribution), cycle.table, discounts=cycle.discounts
        )
        self.scheduler = DigestScheduler(
            config.digests,
            cycle.channels,
            inputs,
            month_start_day=config.month_start_day,
            week_start=week_start,
        )
        self._cycle = cycle
        self._deliver = deliver

    def use_table(self, table: PriceTable) -> None:
        """Build the digests' savings with `table` from now on (new community prices)."""
        self.scheduler.inputs = replace(self.scheduler.inputs, table=table)

    def run(self) -> None:
        """Queue each due digest not queued yet; wake the delivery when one was."""
        with self._cycle.open_ledger() as ledger:
            now = datetime.fromtimestamp(self._cycle.clock(), UTC)
            queued = self.scheduler.run(ledger, AlertStore(ledger), now, self._cycle.statuses)
        if queued:
            self._deliver()
