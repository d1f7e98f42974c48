"""Responses that cannot take the daemon with them: a total deadline per request and a bound on the
decompressed body.

httpx's `timeout` bounds each socket operation, not the request: a server that sends one byte every
few seconds never trips it. `Watchdog` learns the sockets its client opens (httpcore's documented
`trace` extension reports each new TCP connection) and shuts them down when the request outlives its
deadline, or at once on `cancel()` (the daemon is stopping), which ends any blocked read.

`iter_body` reads the body with its own gzip/deflate decoder in bounded steps, so a small gzip
"bomb" is refused after `limit` decompressed bytes instead of being inflated whole in memory.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import weakref
import zlib
from collections.abc import Iterator
from typing import Any

import httpx

STEP = 64 * 1024
"""Bytes read from the socket, and decompressed bytes produced, per step."""

IDLE_S = 5.0
"""A watcher thread with no deadline to watch for this long ends."""
CONNECT_EVENTS = frozenset({"connection.connect_tcp.complete", "connection.connect_unix_socket.complete"})


class ResponseTooLarge(Exception):
    """The (decompressed) body passed its bound; `read` bytes had been read when it stopped."""

    def __init__(self, read: int, limit: int) -> None:
        self.read = read
        self.limit = limit
        super().__init__(f"more than {_mib(limit)} (decompressed); stopped reading")


class UnsupportedEncoding(Exception):
    """The server answered with a Content-Encoding this client did not ask for."""


def _mib(n: int) -> str:
    return f"{n / 2**20:g} MiB"


class Watchdog:
    """Cuts the connections of one client (used by one thread at a time) at a deadline or on cancel.

    Pass `trace` as the client's `trace` request extension. `running(seconds)` arms the deadline for
    one request; `paused()` stops its clock while the caller works on what was read so far. One
    watcher thread per watchdog (started on first use) waits for the armed deadline.
    """

    def __init__(self) -> None:
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._cond = threading.Condition()
        self._deadline: float | None = None  # monotonic time, while armed
        self._remaining = 0.0
        self._watcher: threading.Thread | None = None
        self.expired = False
        self.cancelled = False

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore trace hook: remember the socket of every new connection."""
        if event in CONNECT_EVENTS:
            stream = info.get("return_value")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if isinstance(sock, socket.socket):
                with self._cond:
                    self._sockets.add(sock)
                if self.cancelled:
                    self._cut()

    def remaining(self) -> float:
        """Seconds left of the armed deadline (never below a millisecond)."""
        with self._cond:
            left = self._remaining if self._deadline is None else self._deadline - time.monotonic()
        return max(0.001, left)

    @contextlib.contextmanager
    def running(self, seconds: float) -> Iterator[None]:
        """Arm a deadline of `seconds` for the request made inside."""
        self.expired = False
        self._remaining = seconds
        self._arm()
        try:
            yield
        finally:
            self._disarm()

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Stop the deadline's clock while the caller processes data (the server is not waited on)."""
        self._disarm()
        try:
            yield
        finally:
            self._arm()

    def cancel(self) -> None:
        """Cut every connection now and refuse to wait on any later one (the owner is stopping)."""
        self.cancelled = True
        self._cut()

    def _arm(self) -> None:
        with self._cond:
            self._deadline = time.monotonic() + self._remaining
            if self._watcher is None:
                self._watcher = threading.Thread(target=self._watch, name="http-deadline", daemon=True)
                self._watcher.start()
            self._cond.notify()

    def _disarm(self) -> None:
        with self._cond:
            if self._deadline is not None:
                self._remaining = self._deadline - time.monotonic()
                self._deadline = None
            self._cond.notify()

    def _watch(self) -> None:
        """Wait for the armed deadline; end after IDLE_S unarmed (the next arm starts a new watcher)."""
        while True:
            with self._cond:
                while self._deadline is None or self._deadline > time.monotonic():
                    if self._deadline is None:
                        if not self._cond.wait(IDLE_S) and self._deadline is None:
                            self._watcher = None
                            return
                    else:
                        self._cond.wait(self._deadline - time.monotonic())
                self._deadline = None
                self.expired = True
            self._cut()

    def _cut(self) -> None:
        with self._cond:
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def iter_body(response: httpx.Response, limit: int) -> Iterator[bytes]:
    """The decoded body in steps of at most STEP bytes; ResponseTooLarge past `limit` decoded bytes."""
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        decoder = None
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise ResponseTooLarge(0, limit)
    elif encoding in ("gzip", "x-gzip", "deflate"):
        decoder = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib framing, detected
    else:
        raise UnsupportedEncoding(
            f"the response uses Content-Encoding {encoding[:30]!r}, which was not asked for"
        )
    if response.is_stream_consumed:  # built in memory (a test transport): httpx decoded it already
        yield from _in_memory(response.content, limit)
        return
    total = 0
    for raw in response.iter_raw(STEP):
        pending = raw
        while pending:
            if decoder is None:
                out, pending = pending, b""
            else:
                try:
                    out = decoder.decompress(pending, STEP)
                except zlib.error as exc:
                    raise httpx.DecodingError(f"the {encoding} body is corrupt ({exc})") from None
                pending = decoder.unconsumed_tail
            total += len(out)
            if total > limit:
                raise ResponseTooLarge(total, limit)
            if out:
                yield out
    if decoder is not None:
        tail = decoder.flush()
        if total + len(tail) > limit:
            raise ResponseTooLarge(total + len(tail), limit)
        if tail:
            yield tail


def _in_memory(content: bytes, limit: int) -> Iterator[bytes]:
    if len(content) > limit:
        raise ResponseTooLarge(len(content), limit)
    for start in range(0, len(content), STEP):
        yield content[start : start + STEP]


def drain_bounded(response: httpx.Response, limit: int) -> bytes:
    """At most `limit` decoded bytes of the body (the rest is left unread): for error messages."""
    data = bytearray()
    with contextlib.suppress(ResponseTooLarge, UnsupportedEncoding, httpx.HTTPError):
        for chunk in iter_body(response, 1 << 62):
            data += chunk
            if len(data) >= limit:
                break
    return bytes(data[:limit])
