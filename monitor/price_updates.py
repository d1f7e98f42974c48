"""The community price source in the daemon and the CLI: load genai-prices' data, refresh it on a schedule,
and keep pricing with the last good data when a refresh fails.

genai-prices' object graph (pydantic, about 30 MB of RSS) never enters the daemon: a child process
(`python -m monitor.genai_prices_export`) converts its data to the table's model entries and exits, and
the daemon keeps only the entries of models no earlier source lists (PriceTable). The last good entries
are cached beside the ledger (`genai-prices.json`), so a restart without network prices with what the
last refresh brought. This is wiring (processes, files, the scheduler); pricing itself does no I/O.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Protocol

from monitor.config import Config, PricingConfig
from monitor.errors import PricingError, SpendMonitorError
from monitor.pricing import CommunityPrices, Pricer, PriceTable
from monitor.pricing.community import Converted, specs_of
from monitor.pricing.sources import GENAI_PRICES
from monitor.store import Ledger

log = logging.getLogger(__name__)

CACHE_NAME = "genai-prices.json"
EXPORT_TIMEOUT_S = 120.0
MAX_EXPORT_BYTES = 32 * 2**20
_FORMAT = 1


class CommunityDataError(SpendMonitorError):
    """Community price data that could not be had: the fetch failed or the data is not usable."""


def package_label() -> str:
    try:
        return f"{GENAI_PRICES} {version(GENAI_PRICES)}"
    except PackageNotFoundError:
        return ""


def export(*, fetch: bool = False, url: str = "", timeout: float = EXPORT_TIMEOUT_S) -> dict[str, Any]:
    """genai-prices' data as table entries, converted in a child process: the installed package's own
    data, or with `fetch` the data genai-prices' updater downloads (from `url`, or its own URL when "").
    Raises CommunityDataError, one line."""
    command = [sys.executable, "-m", "monitor.genai_prices_export"]
    if fetch:
        command += ["--fetch", *(["--url", url] if url else [])]
    where = (
        (url or f"{GENAI_PRICES}' update URL")
        if fetch
        else f"the installed {package_label() or GENAI_PRICES} package"
    )
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise CommunityDataError(
            f"{GENAI_PRICES} data from {where}: no answer within {timeout:g} s"
        ) from None
    except OSError as exc:
        raise CommunityDataError(f"{GENAI_PRICES} data from {where}: cannot run the export ({exc})") from None
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no reason given"]
        raise CommunityDataError(f"{GENAI_PRICES} data from {where}: {reason[0][:300]}")
    if len(done.stdout) > MAX_EXPORT_BYTES:
        raise CommunityDataError(f"{GENAI_PRICES} data from {where}: more than {MAX_EXPORT_BYTES} bytes")
    data = _parsed(done.stdout, where)
    data["origin"] = (url or "update URL") if fetch else "package"
    data["fetched_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return data


def _parsed(text: bytes, where: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        raise CommunityDataError(f"{GENAI_PRICES} data from {where}: not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("models"), list):
        raise CommunityDataError(f"{GENAI_PRICES} data from {where}: not a list of model entries")
    if not data["models"]:
        raise CommunityDataError(
            f"{GENAI_PRICES} data from {where}: no OpenAI, Anthropic or Google prices in it"
        )
    return data


def community_prices(data: dict[str, Any]) -> CommunityPrices:
    """Checked community prices from exported (or cached) data; CommunityDataError if none are usable."""
    converted = Converted(tuple(data["models"]), tuple(str(p) for p in data.get("problems") or ()))
    specs, problems = specs_of(converted, f"{GENAI_PRICES} data")
    if not specs:
        raise CommunityDataError(f"{GENAI_PRICES} data: no usable model prices ({'; '.join(problems[:3])})")
    for problem in problems:
        log.debug("%s data: left out %s", GENAI_PRICES, problem)
    digest = hashlib.sha256(json.dumps(data["models"], sort_keys=True).encode()).hexdigest()
    return CommunityPrices(tuple(specs), str(data.get("label") or GENAI_PRICES), digest)


def read_cache(path: Path) -> dict[str, Any] | None:
    """The cached export, or None when there is none or it is unreadable (then it is rebuilt)."""
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("ignoring the %s cache %s (%s); it is rebuilt", GENAI_PRICES, path, exc)
        return None
    ok = isinstance(data, dict) and data.get("format") == _FORMAT and isinstance(data.get("models"), list)
    return data if ok else None


def write_cache(path: Path, data: dict[str, Any]) -> None:
    """Replace the cache atomically; a failure (read-only directory) only costs a warning."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".genai-prices.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({**data, "format": _FORMAT}, out)
        os.replace(tmp, path)
    except OSError as exc:
        log.warning(
            "cannot write the %s cache %s (%s); the next start exports the data again",
            GENAI_PRICES,
            path,
            exc,
        )


def configured_table(pricing: PricingConfig, community: CommunityPrices | None = None) -> PriceTable:
    """The table of the config's price-source chain, with `community` data for genai-prices."""
    return PriceTable.load(
        pricing.files, pricing.overrides, pricing.aliases, sources=pricing.sources, community=community
    )


def cached_or_exported(config: Config) -> CommunityPrices | None:
    """For a CLI command: the daemon's cached community data, else the installed package's; None when
    genai-prices is not a configured source. Raises CommunityDataError."""
    if GENAI_PRICES not in config.pricing.sources:
        return None
    cached = read_cache(config.storage.path.parent / CACHE_NAME)
    return community_prices(cached if cached is not None else export())


class _Scheduler(Protocol):
    def every(
        self, job_id: str, seconds: float, func: Callable[..., Any], *args: Any, first_run: datetime
    ) -> None: ...


class PriceUpdates:
    """The daemon's community source: loads it at start, refreshes it when `pricing.auto_update` is on,
    and after each new version swaps the table in (`use_table`) and prices the rows no price matched."""

    def __init__(
        self,
        config: Config,
        pricer: Pricer,
        use_table: Callable[[PriceTable], None],
        open_ledger: Callable[[], AbstractContextManager[Ledger]],
    ) -> None:
        self.pricing = config.pricing
        self.cache = config.storage.path.parent / CACHE_NAME
        self.pricer = pricer
        self._use_table = use_table
        self._open_ledger = open_ledger
        self.current: CommunityPrices | None = None
        self._failing = False

    @property
    def enabled(self) -> bool:
        return GENAI_PRICES in self.pricing.sources

    def start(self, scheduler: _Scheduler, after_update: Callable[[], None], *, now: datetime) -> None:
        """Load the community data (cache, else the installed package) before the first poll, and
        schedule the refresh from `now` when auto_update is on. Without data the chain works without
        the source."""
        if not self.enabled:
            return
        cached = read_cache(self.cache)
        if cached is not None and cached.get("package") != package_label():
            cached = None  # another genai-prices version: its own data may be newer
        try:
            data = cached if cached is not None else export()
            self._install(community_prices(data))
            if cached is None:
                write_cache(self.cache, data)
        except (CommunityDataError, PricingError) as exc:
            log.warning("%s; pricing goes on without the %s source until it loads", exc, GENAI_PRICES)
        if self.pricing.auto_update:

            def update() -> None:
                if self.update():
                    after_update()

            scheduler.every(f"prices:{GENAI_PRICES}", self.pricing.update_interval, update, first_run=now)

    def update(self) -> bool:
        """Fetch the community data once; True when new prices were taken into use. A failed or unusable
        fetch keeps the last good data, with one warning per run of failures."""
        try:
            data = export(fetch=True, url=self.pricing.update_url)
            prices = community_prices(data)
            table = configured_table(self.pricing, prices)
        except (CommunityDataError, PricingError) as exc:
            if not self._failing:
                kept = self.current.label if self.current else "no community data"
                log.warning(
                    "%s; pricing keeps %s and retries every %g s", exc, kept, self.pricing.update_interval
                )
            self._failing = True
            return False
        if self._failing:
            log.info("%s data fetched again", GENAI_PRICES)
        self._failing = False
        write_cache(self.cache, {**data, "package": package_label()})
        if self.current is not None and prices.digest == self.current.digest:
            return False
        self._install(prices, table)
        return True

    def _install(self, prices: CommunityPrices, table: PriceTable | None = None) -> None:
        """Swap in the table with `prices` and price the stored rows that had no price."""
        table = table or configured_table(self.pricing, prices)
        self.current = prices
        self._use_table(table)
        log.info(
            "%s: %s (%d models), pricing version %s",
            GENAI_PRICES,
            prices.label,
            len(prices.specs),
            table.version,
        )
        with self._open_ledger() as ledger:
            result = ledger.reprice(self.pricer.price, since=None, dry_run=False, only_unpriced=True)
        if result.changed:
            log.info("priced %d stored rows that had no price before", result.changed)
