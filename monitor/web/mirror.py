"""The web child's copy of what the daemon serves: the exposition's gzipped bodies, the status page,
and the answers of /healthz and /readyz, each replaced whole when the daemon hands a new one over.

Content negotiation needs prometheus_client's rules, and a rare name escaping its escaping
functions; the child does not import prometheus_client (it would double the child's memory), so
it asks the daemon (`ask`) the first time it meets an Accept header, remembers the answer (the
rules do not change), and asks for a rare variant's body once per snapshot.
"""

from __future__ import annotations

import gzip
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from monitor.web import frames
from monitor.web.encoding import Variant, gzip_accepted

Ask = Callable[[dict[str, Any]], tuple[dict[str, Any], list[bytes]]]
"""Sends a question to the daemon and waits for (answer, byte fields); LookupError without one."""

NEGOTIATED_LIMIT = 256
"""Accept headers remembered; beyond, the least recently used is forgotten (and asked again)."""


class Mirror:
    """Thread-safe state of the web child, applied from the daemon's frames (`apply`)."""

    def __init__(self, ask: Ask) -> None:
        self._ask = ask
        self._lock = threading.Lock()
        self._generation = 0
        self._bodies: dict[Variant, bytes] = {}
        self._page = b""
        self._health = (False, "starting")
        self._ready = (False, "starting")
        self._negotiated: OrderedDict[str, tuple[Variant, str]] = OrderedDict()

    # -- from the daemon ---------------------------------------------------------------------

    def apply(self, kind: int, fields: list[bytes]) -> None:
        """One METRICS, PAGE or PROBES frame."""
        if kind == frames.METRICS:
            head = frames.load(fields[0])
            bodies = {(fmt, esc): body for (fmt, esc), body in zip(head["variants"], fields[1:], strict=True)}
            self.set_bodies(int(head["generation"]), bodies)
        elif kind == frames.PAGE:
            self._page = fields[0]
        elif kind == frames.PROBES:
            self.set_probes(frames.load(fields[0]))

    def set_probes(self, state: Mapping[str, Any]) -> None:
        """The answers of /healthz and /readyz: `state["health"]` and `state["ready"]` as (ok, text)."""
        with self._lock:
            self._health = (bool(state["health"][0]), str(state["health"][1]))
            self._ready = (bool(state["ready"][0]), str(state["ready"][1]))

    def set_bodies(self, generation: int, bodies: Mapping[Variant, bytes]) -> None:
        with self._lock:
            if generation >= self._generation:
                self._generation, self._bodies = generation, dict(bodies)

    # -- to the server -----------------------------------------------------------------------

    def health(self) -> tuple[bool, str]:
        with self._lock:
            return self._health

    def ready(self) -> tuple[bool, str]:
        with self._lock:
            return self._ready

    def landing(self) -> bytes:
        return self._page

    def render(
        self, accept_header: str | None = None, accept_encoding: str | None = None
    ) -> tuple[bytes, str, str | None]:
        """As `monitor.metrics.Exposition.render`, from the bodies handed over."""
        with self._lock:
            generation, bodies = self._generation, self._bodies
        if not bodies:
            raise LookupError("no metrics snapshot has been published yet")
        variant, content_type = self._negotiate(accept_header or "")
        body = bodies.get(variant)
        if body is None:
            body = self._fetch(variant, generation)
        gzipped = gzip_accepted(accept_encoding)
        return (body if gzipped else gzip.decompress(body)), content_type, "gzip" if gzipped else None

    # -- asking the daemon -------------------------------------------------------------------

    def _negotiate(self, accept: str) -> tuple[Variant, str]:
        with self._lock:
            known = self._negotiated.get(accept)
            if known is not None:
                self._negotiated.move_to_end(accept)
                return known
        answer, _ = self._ask({"what": "negotiate", "accept": accept})
        found = ((str(answer["format"]), str(answer["escaping"])), str(answer["content_type"]))
        with self._lock:
            self._negotiated[accept] = found
            while len(self._negotiated) > NEGOTIATED_LIMIT:
                self._negotiated.popitem(last=False)
        return found

    def _fetch(self, variant: Variant, generation: int) -> bytes:
        """A rare variant's body, derived by the daemon; kept with the snapshot it belongs to."""
        answer, fields = self._ask({"what": "variant", "format": variant[0], "escaping": variant[1]})
        body = fields[0]
        with self._lock:
            if int(answer["generation"]) == self._generation == generation:
                self._bodies = {**self._bodies, variant: body}
        return body
