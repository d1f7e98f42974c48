"""The metrics HTTP server: `/metrics`, `/healthz`, `/readyz` and a landing page on a background thread.

`/metrics` returns the cached bytes of a `Source` (the exposition, gzip when accepted). The daemon
runs this server in a process of its own (monitor.web.process); tests and benchmarks run it in
theirs. One thread per connection
with a socket timeout, and the TLS handshake done in that thread, so a slow or broken client never
holds up another scrape. Optional TLS (1.2+) and bcrypt basic auth follow Prometheus'
exporter-toolkit web config; `/healthz` and `/readyz` stay open so probes need no credentials.
"""

from __future__ import annotations

import contextlib
import html
import logging
import socket
import socketserver
import ssl
import threading
from collections.abc import Callable, Mapping
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import urlsplit

from monitor.errors import SpendMonitorError
from monitor.web.auth import REALM, BasicAuth
from monitor.web.listen import WILDCARD_HOSTS, StrPath, parse_listen, tls_context

log = logging.getLogger(__name__)

Check = Callable[[], tuple[bool, str]]
Response = tuple[int, dict[str, str], bytes]

OPEN_PATHS = frozenset({"/healthz", "/readyz"})
PLAIN = "text/plain; charset=utf-8"


class Source(Protocol):
    """What `/metrics` serves: `monitor.metrics.Exposition`, or its mirror in the web child."""

    def render(
        self, accept_header: str | None = None, accept_encoding: str | None = None
    ) -> tuple[bytes, str, str | None]:
        """(body, Content-Type, Content-Encoding or None); LookupError before the first snapshot."""
        ...


class MetricsServer:
    """Serves one `Source` (the exposition) plus health, readiness and a landing page until `stop()`."""

    def __init__(
        self,
        listen: str,
        exposition: Source,
        *,
        health: Check,
        ready: Check,
        landing: Callable[[], bytes] | None = None,
        tls_cert_file: StrPath | None = None,
        tls_key_file: StrPath | None = None,
        basic_auth_users: Mapping[str, str] | None = None,
        request_timeout: float = 10.0,
        address: tuple[str, int] | None = None,
    ) -> None:
        """`address`: `listen` parsed already (the web child, which does not load the config package)."""
        self.listen = listen
        self._host, self._port = address or parse_listen(listen)
        self._exposition = exposition
        self._health = health
        self._ready = ready
        self._landing = landing
        self._ssl = tls_context(tls_cert_file, tls_key_file)
        self._auth = BasicAuth(basic_auth_users) if basic_auth_users else None
        self._timeout = request_timeout
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (the real one after `start()` when listening on port 0)."""
        return int(self._httpd.server_address[1]) if self._httpd else self._port

    @property
    def address(self) -> tuple[str, int]:
        """The (host, port) to listen on, as configured (port 0: any free port)."""
        return self._host, self._port

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:9877 (no trailing slash)."""
        return self.url_for(self.port)

    def url_for(self, port: int) -> str:
        """The base URL of this server's host and scheme on `port`."""
        host = self._host or "0.0.0.0"  # noqa: S104
        host = f"[{host}]" if ":" in host else host
        return f"{'https' if self._ssl else 'http'}://{host}:{port}"

    def warn_if_wildcard(self) -> None:
        """Log a warning when the server is to listen on all interfaces."""
        if self._host in WILDCARD_HOSTS:
            log.warning(
                "metrics server listens on all interfaces (%s); anyone who can reach it can read it",
                self.listen,
            )

    def start(self, *, warn: bool = True) -> None:
        """Bind and serve on a daemon thread; raises SpendMonitorError if the address is unusable.
        `warn`: log the all-interfaces warning here (the web child leaves it to the daemon)."""
        if self._httpd is not None:
            return
        if warn:
            self.warn_if_wildcard()
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        try:
            httpd = _HTTPServer((self._host, self._port), self, family, self._ssl, self._timeout)
        except OSError as exc:
            raise SpendMonitorError(f"listen {self.listen}: cannot listen ({exc.strerror or exc})") from None
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="metrics-server", daemon=True
        )
        self._thread.start()
        log.debug("metrics server listening on %s", self.url)

    def stop(self) -> None:
        """Stop accepting and close the socket; in-flight responses finish on their own threads."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def handle(self, path: str, headers: Message) -> Response:
        """The response to a GET of `path`: status, headers and body."""
        if path not in OPEN_PATHS and self._auth and not self._auth.check(headers.get("Authorization")):
            return 401, {"Content-Type": PLAIN, "WWW-Authenticate": REALM}, b"401 Unauthorized\n"
        if path == "/metrics":
            return self._metrics(headers)
        if path == "/healthz":
            return _check(self._health, "health")
        if path == "/readyz":
            return _check(self._ready, "readiness")
        if path == "/":
            return self._landing_page()
        return 404, {"Content-Type": PLAIN}, b"404 Not Found: see / for the endpoints\n"

    def _metrics(self, headers: Message) -> Response:
        try:
            body, content_type, encoding = self._exposition.render(
                headers.get("Accept"), headers.get("Accept-Encoding")
            )
        except LookupError:
            return 503, {"Content-Type": PLAIN}, b"no metrics snapshot yet\n"
        out = {"Content-Type": content_type, "Vary": "Accept, Accept-Encoding"}
        if encoding:
            out["Content-Encoding"] = encoding
        return 200, out, body

    def _landing_page(self) -> Response:
        if self._landing is not None:
            try:
                return 200, {"Content-Type": "text/html; charset=utf-8"}, self._landing()
            except Exception:
                log.warning("the status page failed", exc_info=True)
                return 500, {"Content-Type": PLAIN}, b"500 status page failed; see the log\n"
        ok, status = safe_check(self._ready)
        page = (
            '<!doctype html>\n<html><head><meta charset="utf-8"><title>llm-spend-monitor</title></head>\n'
            "<body><h1>llm-spend-monitor</h1>\n"
            f"<p>{'Ready' if ok else 'Not ready'}: {html.escape(status)}</p>\n"
            '<ul><li><a href="metrics">metrics</a></li><li><a href="healthz">healthz</a></li>'
            '<li><a href="readyz">readyz</a></li></ul>\n</body></html>\n'
        )
        return 200, {"Content-Type": "text/html; charset=utf-8"}, page.encode()


def safe_check(check: Check) -> tuple[bool, str]:
    """`check()`, or (False, "check failed; see the log") when it raises."""
    try:
        return check()
    except Exception:
        log.warning("a health or readiness check raised", exc_info=True)
        return False, "check failed; see the log"


def _check(check: Check, what: str) -> Response:
    ok, reason = safe_check(check)
    text = reason.replace("\n", " ").strip() or ("ok" if ok else f"{what} check failed")
    return (200 if ok else 503), {"Content-Type": PLAIN}, (text + "\n").encode()


class _HTTPServer(ThreadingHTTPServer):
    """A thread per connection; TLS handshakes happen in that thread, not in the accept loop."""

    daemon_threads = True
    request_queue_size = 1024  # listen backlog (the kernel caps it at somaxconn); 5 made bursts wait 1 s

    def __init__(
        self,
        address: tuple[str, int],
        app: MetricsServer,
        family: socket.AddressFamily,
        ssl_context: ssl.SSLContext | None,
        timeout: float,
    ) -> None:
        self.address_family = family
        self.app = app
        self.ssl_context = ssl_context
        self.request_timeout = timeout
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)  # skips HTTPServer's getfqdn(): no DNS lookup
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.ssl_context is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(self.request_timeout)
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except OSError as exc:
            log.debug("TLS handshake with %s failed: %s", client_address[0], exc)
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            with contextlib.suppress(OSError):
                tls.shutdown(socket.SHUT_WR)
            tls.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s ended with an error", client_address[0], exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "spend-monitor"
    disable_nagle_algorithm = True
    server: _HTTPServer

    def setup(self) -> None:
        self.request.settimeout(self.server.request_timeout)
        super().setup()

    def version_string(self) -> str:
        """The Server header: the product only, not the Python version behind it."""
        return self.server_version

    def do_GET(self) -> None:
        self._serve(body=True)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def _refuse(self) -> None:
        payload = b"405 Method Not Allowed\n"
        self.close_connection = True  # any request body stays unread
        self.send_response(405)
        self.send_header("Allow", "GET, HEAD")
        self.send_header("Content-Type", PLAIN)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_POST = do_PUT = do_DELETE = do_PATCH = _refuse

    def _serve(self, *, body: bool) -> None:
        if self._has_body():
            # The body is never read, so it must not stay on the connection to be parsed as the
            # next request (request smuggling / desync): refuse, and close.
            status, payload = 400, b"400 GET and HEAD take no body\n"
            headers = {"Content-Type": PLAIN, "Connection": "close"}  # sets close_connection
        else:
            status, headers, payload = self.server.app.handle(urlsplit(self.path).path, self.headers)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if body:
            self.wfile.write(payload)

    def _has_body(self) -> bool:
        length = self.headers.get("Content-Length", "0").strip()
        return "Transfer-Encoding" in self.headers or length not in ("", "0")

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)
