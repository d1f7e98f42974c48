"""The rendered exposition: built once per snapshot, served many times.

`Exposition.update()` renders the Prometheus text format (0.0.4) and OpenMetrics 1.0 once (text.py),
gzips each, and swaps them in with one reference assignment; `render()` only picks cached bytes, so a
scrape never queries SQLite or formats a number. Only the gzipped bytes are kept (a client that
does not accept gzip gets them decompressed). Formats are negotiated as prometheus_client's
`choose_encoder` does; rare variants (another name escaping) are derived on first demand.
The daemon's web process (monitor.web.process) is handed each new rendering (`on_publish`,
`published`) and asks here for what it cannot decide itself (`negotiate`, `variant`).
"""

from __future__ import annotations

import gzip
import logging
import threading
import zlib
from collections.abc import Callable, Mapping

from prometheus_client import exposition as text_format
from prometheus_client.openmetrics import exposition as openmetrics

from monitor.metrics.collector import prepare
from monitor.metrics.escaping import escape_names
from monitor.metrics.snapshot import BuildInfo, LedgerView, MetricsOptions, PollStats, PollView, Snapshot
from monitor.metrics.text import encode
from monitor.web.encoding import Variant, gzip_accepted

log = logging.getLogger(__name__)

TEXT = "text"
OPENMETRICS = "openmetrics"
GZIP_LEVEL = 6


def negotiate(accept_header: str | None) -> tuple[Variant, str]:
    """The (format, escaping) variant and Content-Type for an Accept header, as choose_encoder picks.

    Every metric and label name here is a legacy Prometheus name, which the allow-utf-8 escaping
    leaves as underscores does (tests/test_metrics_exposition.py checks it), so those two share the
    pre-rendered variant; "dots" and "values" rewrite names and are derived from it on first demand.
    """
    try:
        _, content_type = text_format.choose_encoder(accept_header or "")
    except (TypeError, ValueError):  # an unparsable version such as "version=x"
        content_type = text_format.CONTENT_TYPE_PLAIN_0_0_4
    fmt = OPENMETRICS if content_type.startswith("application/openmetrics-text") else TEXT
    escaping = openmetrics.UNDERSCORES
    for param in content_type.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name == "escaping" and value != openmetrics.ALLOWUTF8:
            escaping = value
    return (fmt, escaping), content_type


class _Rendered:
    """One snapshot's exposition, kept gzipped only: the plain bytes are decompressed for the rare
    client that does not accept gzip, and a rare name escaping is derived from the default rendering
    (`escape_names`) and cached, gzipped too. No snapshot or metric object outlives the constructor."""

    def __init__(self, snapshot: Snapshot, dropped_before: int) -> None:
        prepared = prepare(snapshot, dropped_before=dropped_before)
        self.series, self.dropped, self.steps = prepared.series, prepared.dropped, prepared.steps
        text, om = _GzipWriter(), _GzipWriter()
        encode(prepared, text.write, om.write)
        self.gzipped: dict[Variant, bytes] = {
            (TEXT, openmetrics.UNDERSCORES): text.close(),
            (OPENMETRICS, openmetrics.UNDERSCORES): om.close(),
        }
        self.lock = threading.Lock()

    def get(self, variant: Variant, gzipped: bool) -> bytes:
        data = self.gzipped.get(variant)
        if data is None:
            with self.lock:
                data = self.gzipped.get(variant)
                if data is None:
                    fmt, escaping = variant
                    default = gzip.decompress(self.gzipped[(fmt, openmetrics.UNDERSCORES)]).decode()
                    data = self.gzipped[variant] = _gzip(escape_names(default, fmt, escaping).encode())
        return data if gzipped else gzip.decompress(data)


def _gzip(plain: bytes) -> bytes:
    return gzip.compress(plain, compresslevel=GZIP_LEVEL, mtime=0)


class _GzipWriter:
    """Gzips a body written in chunks, so the whole plain text never has to be held at once."""

    def __init__(self) -> None:
        self._zlib = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip header, mtime 0
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> None:
        self._parts.append(self._zlib.compress(data))

    def close(self) -> bytes:
        self._parts.append(self._zlib.flush())
        return b"".join(self._parts)


class Exposition:
    """The current rendered metrics. `update()` from the daemon, `render()` from any scrape thread."""

    def __init__(self) -> None:
        self._current: _Rendered | None = None
        self._generation = 0
        self._update_lock = threading.Lock()
        self._dropped_total = 0
        self._warned = False
        self._listeners: list[Callable[[], None]] = []

    def on_publish(self, listener: Callable[[], None]) -> None:
        """Call `listener()` after each publish (on the publishing thread)."""
        self._listeners.append(listener)

    def published(self) -> tuple[int, Mapping[Variant, bytes]] | None:
        """(generation, the gzipped bodies rendered so far by variant) of the current snapshot, or
        None before the first; the generation counts publishes."""
        with self._update_lock:
            current, generation = self._current, self._generation
        return None if current is None else (generation, dict(current.gzipped))

    def variant(self, variant: Variant) -> tuple[int, bytes]:
        """(generation, gzipped body) of `variant` of the current snapshot; LookupError before any."""
        with self._update_lock:
            current, generation = self._current, self._generation
        if current is None:
            raise LookupError("no metrics snapshot has been published yet")
        return generation, current.get(variant, gzipped=True)

    @property
    def has_snapshot(self) -> bool:
        """False until the first `update()`; the server answers 503 until then."""
        return self._current is not None

    @property
    def series(self) -> int:
        """Series in the current snapshot (0 before the first update)."""
        current = self._current
        return current.series if current else 0

    def update(
        self,
        ledger: LedgerView,
        polls: PollStats | PollView,
        *,
        version: str,
        pricing_version: str = "",
        include_api_key: bool = False,
        series_limit: int = 50_000,
        now: float,
        include_user: bool = False,
    ) -> None:
        """Build a snapshot of `ledger` and `polls` at unix time `now`, render it and publish it."""
        view = polls.view() if isinstance(polls, PollStats) else polls
        snapshot = Snapshot(
            ledger,
            view,
            BuildInfo(version, pricing_version),
            now,
            MetricsOptions(include_api_key, series_limit, include_user),
        )
        self.publish(snapshot)

    def publish(self, snapshot: Snapshot) -> None:
        """Render `snapshot` in the common formats and make it what scrapes get, atomically."""
        with self._update_lock:
            rendered = _Rendered(snapshot, self._dropped_total)
            self._dropped_total += rendered.dropped
            self._current = rendered
            self._generation += 1
        if rendered.dropped:
            level = logging.DEBUG if self._warned else logging.WARNING
            self._warned = True
            log.log(
                level,
                "metrics over the series limit of %d: %s; %d series folded or dropped (see docs/metrics.md)",
                snapshot.options.series_limit,
                ", ".join(rendered.steps),
                rendered.dropped,
            )
        for listener in self._listeners:
            listener()

    def render(
        self, accept_header: str | None = None, accept_encoding: str | None = None
    ) -> tuple[bytes, str, str | None]:
        """(body, Content-Type, Content-Encoding or None) for a scrape; LookupError before any update."""
        current = self._current
        if current is None:
            raise LookupError("no metrics snapshot has been published yet")
        variant, content_type = negotiate(accept_header)
        gzipped = gzip_accepted(accept_encoding)
        return current.get(variant, gzipped), content_type, "gzip" if gzipped else None
