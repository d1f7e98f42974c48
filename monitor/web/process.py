"""The daemon's side of its web child (monitor.web.child): start it, hand it every new exposition,
status page and probe answer, answer its questions, restart it if it dies, stop it with the daemon.

The daemon calls `exposition_changed()` after each publish and `probes_changed()` after each change
of its probes; both send the newest state (never a queue of old ones). A request in the child
never waits for the daemon, except the first time it meets an Accept header or a rare name
escaping (see monitor.web.mirror).
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from email.message import Message
from pathlib import Path
from typing import IO, Any, Protocol

from monitor.errors import ConfigError, SpendMonitorError
from monitor.web import frames
from monitor.web.encoding import Variant
from monitor.web.listen import StrPath
from monitor.web.server import Check, MetricsServer, Response, Source, safe_check

log = logging.getLogger(__name__)

START_TIMEOUT_S = 30.0
"""How long the child may take to import and bind before the start fails."""
STOP_TIMEOUT_S = 3.0
"""How long `stop()` waits for the child to exit after closing its pipe, before it kills it."""
RESTART_DELAY_S = 1.0
SELF = "/proc/self/exe"
"""The interpreter binary of this process: what the child runs (with `sys.executable` as its name,
so it finds the same virtualenv), even where the path of `sys.executable` leads through a directory
the daemon's user may not enter (a virtualenv linked to a root-only Python)."""


class Published(Source, Protocol):
    """What the web process needs of the exposition (monitor.metrics.Exposition)."""

    def published(self) -> tuple[int, Mapping[Variant, bytes]] | None: ...

    def variant(self, variant: Variant) -> tuple[int, bytes]: ...


Negotiate = Callable[[str | None], tuple[Variant, str]]


class WebProcess:
    """The metrics server (TLS, basic auth, every path of `MetricsServer`) run in a child process."""

    def __init__(
        self,
        listen: str,
        exposition: Published,
        *,
        negotiate: Negotiate,
        health: Check,
        ready: Check,
        landing: Callable[[], bytes],
        tls_cert_file: StrPath | None = None,
        tls_key_file: StrPath | None = None,
        basic_auth_users: Mapping[str, str] | None = None,
        request_timeout: float = 10.0,
    ) -> None:
        # Never started: it checks the settings now (a bad TLS file or user is a config error at
        # construction, as it always was) and answers `handle()` in this process.
        self._local = MetricsServer(
            listen,
            exposition,
            health=health,
            ready=ready,
            landing=landing,
            tls_cert_file=tls_cert_file,
            tls_key_file=tls_key_file,
            basic_auth_users=basic_auth_users,
            request_timeout=request_timeout,
        )
        self.listen = listen
        self._exposition = exposition
        self._negotiate = negotiate
        self._health, self._ready, self._landing = health, ready, landing
        self._settings: dict[str, Any] = {
            "listen": listen,
            "tls_cert_file": os.fspath(tls_cert_file) if tls_cert_file is not None else None,
            "tls_key_file": os.fspath(tls_key_file) if tls_key_file is not None else None,
            "basic_auth_users": dict(basic_auth_users) if basic_auth_users else None,
            "request_timeout": request_timeout,
        }
        self._host, self._port = self._local.address
        self._proc: subprocess.Popen[bytes] | None = None
        self._write = threading.Lock()
        self._stopping = threading.Event()
        self._reader: threading.Thread | None = None
        self._sent: tuple[Any, ...] = ()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return self._local.url_for(self._port)

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def handle(self, path: str, headers: Message) -> Response:
        """The response the server gives to a GET of `path`, computed in this process."""
        return self._local.handle(path, headers)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the child and wait until it listens; ConfigError or SpendMonitorError as the
        in-process server raised them (a bad TLS file, a busy port)."""
        self._stopping.clear()
        self._local.warn_if_wildcard()
        self._spawn()

    def stop(self) -> None:
        """Close the child's pipe (it stops serving and exits), kill it after STOP_TIMEOUT_S."""
        self._stopping.set()
        proc = self._proc
        if proc is None:
            return
        with self._write, contextlib.suppress(OSError):
            if proc.stdin is not None:
                proc.stdin.close()
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(STOP_TIMEOUT_S)

    # -- state to the child --------------------------------------------------------------------

    def exposition_changed(self) -> None:
        """Hand the child the newest exposition (call after each publish)."""
        published = self._exposition.published()
        if published is None:
            return
        generation, bodies = published
        variants = list(bodies)
        head = frames.dump({"generation": generation, "variants": [list(v) for v in variants]})
        self._send(frames.METRICS, head, *(bodies[v] for v in variants))

    def probes_changed(self) -> None:
        """Hand the child the newest status page and probe answers, if they changed."""
        page, health, ready = self._landing(), safe_check(self._health), safe_check(self._ready)
        with self._write:
            sent, self._sent = self._sent, (page, health, ready)
        if sent[:1] != (page,):
            self._send(frames.PAGE, page)
        if sent[1:] != (health, ready):
            self._send(frames.PROBES, frames.dump({"health": list(health), "ready": list(ready)}))

    def _send(self, kind: int, *fields: bytes) -> None:
        proc = self._proc
        if proc is None or proc.stdin is None:
            return
        # OSError, ValueError: the child is gone (the reader thread starts it again)
        with self._write, contextlib.suppress(OSError, ValueError):
            frames.write_frame(proc.stdin, kind, *fields)

    # -- the child -----------------------------------------------------------------------------

    def _spawn(self) -> None:
        root = str(Path(__file__).resolve().parents[2])  # the same monitor package as this process
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, (root, os.environ.get("PYTHONPATH")))),
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor.web.child"],
            executable=SELF if os.path.exists(SELF) else None,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            close_fds=True,
        )
        assert proc.stdin is not None and proc.stdout is not None
        settings = {
            **self._settings,
            "address": [self._host, self._port],
            "log_level": logging.getLogger().getEffectiveLevel(),
            "health": list(safe_check(self._health)),
            "ready": list(safe_check(self._ready)),
        }
        try:
            frames.write_frame(proc.stdin, frames.CONFIG, frames.dump(settings))
            reply = _read_with_timeout(proc.stdout, START_TIMEOUT_S)
        except OSError:
            reply = None
        if reply is None or reply[0] != frames.STARTED:
            _end(proc)
            answer = frames.load(reply[1][0]) if reply is not None and reply[0] == frames.FAILED else {}
            if answer.get("problems"):
                raise ConfigError(list(answer["problems"]))
            raise SpendMonitorError(
                answer.get("error")
                or f"listen {self.listen}: the web server process did not start; see the log"
            )
        self._port = int(frames.load(reply[1][0])["port"])
        with self._write:
            self._proc, self._sent = proc, ()
        self.exposition_changed()
        self.probes_changed()
        self._reader = threading.Thread(target=self._read, args=(proc,), name="web-child", daemon=True)
        self._reader.start()
        log.debug("metrics server (process %d) listening on %s", proc.pid, self.url)

    def _read(self, proc: subprocess.Popen[bytes]) -> None:
        """Answer the child's questions until it exits; restart it if it died on its own."""
        assert proc.stdout is not None
        try:
            while (frame := frames.read_frame(proc.stdout)) is not None:
                if frame[0] == frames.ASK:
                    self._answer(frames.load(frame[1][0]))
        except (OSError, ValueError, frames.FrameError):
            pass
        if self._stopping.is_set():
            return
        code = proc.wait()
        with self._write:
            _close_pipes(proc)
        log.error("the metrics server process exited (code %s); starting it again", code)
        while not self._stopping.wait(RESTART_DELAY_S):
            try:
                self._spawn()
                return
            except SpendMonitorError as exc:
                log.error("the metrics server process did not start again: %s", exc)

    def _answer(self, question: dict[str, Any]) -> None:
        ident = question.get("id")
        try:
            if question.get("what") == "negotiate":
                (fmt, escaping), content_type = self._negotiate(question.get("accept") or None)
                self._send(
                    frames.ANSWER,
                    frames.dump(
                        {"id": ident, "format": fmt, "escaping": escaping, "content_type": content_type}
                    ),
                )
            elif question.get("what") == "variant":
                generation, body = self._exposition.variant(
                    (str(question["format"]), str(question["escaping"]))
                )
                self._send(frames.ANSWER, frames.dump({"id": ident, "generation": generation}), body)
            else:
                raise LookupError(f"unknown question {question.get('what')!r}")
        except Exception as exc:  # the child's request gets a 503; this thread goes on
            log.warning("the metrics server's question failed: %s", exc)
            self._send(frames.ANSWER, frames.dump({"id": ident, "error": str(exc)}))


def _read_with_timeout(stream: IO[bytes], timeout: float) -> tuple[int, list[bytes]] | None:
    """The next frame from `stream`, or None when none came within `timeout` seconds."""
    box: list[tuple[int, list[bytes]] | None] = []
    reader = threading.Thread(target=lambda: box.append(frames.read_frame(stream)), daemon=True)
    reader.start()
    reader.join(timeout)
    return box[0] if box else None


def _end(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()
    proc.wait()
    _close_pipes(proc)


def _close_pipes(proc: subprocess.Popen[bytes]) -> None:
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()
