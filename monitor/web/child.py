"""The web child: `python -m monitor.web.child`, the daemon's HTTP server in a process of its own.

The daemon (monitor.web.process) starts it with pipes on stdin and stdout. It reads one CONFIG
frame, binds and answers STARTED with the port (or FAILED with why), then applies the frames the
daemon sends (METRICS, PAGE, PROBES, ANSWER) until its stdin ends: the daemon stopped or died.
It ignores SIGINT and SIGTERM (a terminal's Ctrl-C or a service manager signalling the whole group
reaches the daemon too, which then closes the pipe), so it never outlives the daemon's shutdown.

Why a process: the daemon parses, prices and writes tens of thousands of rows per poll on threads
that hold the GIL; an HTTP thread in the same process waited for it between every step of a
request (scrape p99 ~100 ms during polls). Here the requests wait for nobody. The child imports
only the web package, the standard library and bcrypt (~19 MB of RSS, half of it shared with the
daemon: the interpreter and OpenSSL), never prometheus_client, the config package or SQLite.
"""

from __future__ import annotations

import itertools
import logging
import signal
import sys
import threading
from typing import IO, Any

from monitor.errors import ConfigError, SpendMonitorError
from monitor.web import frames
from monitor.web.mirror import Mirror
from monitor.web.server import MetricsServer

log = logging.getLogger("monitor.web")

ASK_TIMEOUT_S = 10.0
"""How long a request waits for the daemon's answer to a question before it gets a 503."""


class Questions:
    """Questions to the daemon on the child's stdout; the answers come back on stdin (`answer`)."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self._write = threading.Lock()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._pending: dict[int, tuple[threading.Event, list[Any]]] = {}

    def ask(self, question: dict[str, Any]) -> tuple[dict[str, Any], list[bytes]]:
        ident = next(self._ids)
        done = threading.Event()
        slot: list[Any] = []
        with self._lock:
            self._pending[ident] = (done, slot)
        try:
            self.send(frames.ASK, frames.dump({**question, "id": ident}))
            if not done.wait(ASK_TIMEOUT_S) or not slot:
                raise LookupError("the daemon did not answer in time")
        finally:
            with self._lock:
                self._pending.pop(ident, None)
        answer, fields = slot
        if "error" in answer:
            raise LookupError(str(answer["error"]))
        return answer, fields

    def answer(self, fields: list[bytes]) -> None:
        answer = frames.load(fields[0])
        with self._lock:
            waiting = self._pending.get(int(answer["id"]))
        if waiting is not None:
            done, slot = waiting
            slot.extend((answer, fields[1:]))
            done.set()

    def send(self, kind: int, *fields: bytes) -> None:
        with self._write:
            frames.write_frame(self._out, kind, *fields)


def serve(inp: IO[bytes], out: IO[bytes]) -> int:
    """Run the child on these pipes; the exit code (0 when the daemon closed the pipe, 2 when the
    server could not start)."""
    first = frames.read_frame(inp)
    if first is None or first[0] != frames.CONFIG:
        return 2
    config = frames.load(first[1][0])
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger().setLevel(int(config["log_level"]))
    questions = Questions(out)
    mirror = Mirror(questions.ask)
    mirror.set_probes(
        config
    )  # the daemon's answers as the child starts: /healthz is right from the first request
    try:
        server = MetricsServer(
            config["listen"],
            mirror,
            health=mirror.health,
            ready=mirror.ready,
            landing=mirror.landing,
            tls_cert_file=config["tls_cert_file"],
            tls_key_file=config["tls_key_file"],
            basic_auth_users=config["basic_auth_users"],
            request_timeout=float(config["request_timeout"]),
            address=(str(config["address"][0]), int(config["address"][1])),
        )
        server.start(warn=False)
    except ConfigError as exc:
        questions.send(frames.FAILED, frames.dump({"problems": exc.problems}))
        return 2
    except SpendMonitorError as exc:
        questions.send(frames.FAILED, frames.dump({"error": str(exc)}))
        return 2
    questions.send(frames.STARTED, frames.dump({"port": server.port}))
    try:
        while (frame := frames.read_frame(inp)) is not None:
            kind, fields = frame
            if kind == frames.ANSWER:
                questions.answer(fields)
            else:
                mirror.apply(kind, fields)
    finally:
        server.stop()
    return 0


def main() -> int:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    return serve(sys.stdin.buffer, sys.stdout.buffer)


if __name__ == "__main__":
    sys.exit(main())
