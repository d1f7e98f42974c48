"""The metrics HTTP server: `/metrics`, `/healthz`, `/readyz` and a landing page on a background thread.

`/metrics` returns the exposition's cached bytes (gzip when accepted). One thread per connection
with a socket timeout, and the TLS handshake done in that thread, so a slow or broken client never
holds up another scrape. Optional TLS (1.2+) and bcrypt basic auth follow Prometheus'
exporter-toolkit web config; `/healthz` and `/readyz` stay open so probes need no credentials.
"""

from __future__ import annotations

import contextlib
import html
import logging
import os
import socket
import socketserver
import ssl
import threading
from collections.abc import Callable, Mapping
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from monitor.config.values import Invalid
from monitor.config.values import parse_listen as parse_listen_text
from monitor.errors import ConfigError, SpendMonitorError
from monitor.metrics.auth import REALM, BasicAuth
from monitor.metrics.exposition import Exposition

log = logging.getLogger(__name__)

Check = Callable[[], tuple[bool, str]]
Response = tuple[int, dict[str, str], bytes]
StrPath = str | os.PathLike[str]

OPEN_PATHS = frozenset({"/healthz", "/readyz"})
PLAIN = "text/plain; charset=utf-8"
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 (detected to warn, not used to bind)


def parse_listen(listen: str) -> tuple[str, int]:
    """Split "HOST:PORT" or "[V6]:PORT" into (host, port) with the config's parser; port 0 picks a free port."""
    try:
        return parse_listen_text(listen)
    except Invalid:
        raise ConfigError(
            [f"listen: {listen!r} is not HOST:PORT; write e.g. 127.0.0.1:9877 or [::1]:9877"]
        ) from None


def tls_context(
    cert_file: StrPath | None, key_file: StrPath | None, key_path: str = "web"
) -> ssl.SSLContext | None:
    """A server SSLContext (TLS >= 1.2) from PEM files, or None when neither file is set."""
    if cert_file is None and key_file is None:
        return None
    if cert_file is None or key_file is None:
        raise ConfigError(
            [f"{key_path}.tls_cert_file and {key_path}.tls_key_file: set both, or neither for plain HTTP"]
        )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:  # an empty password: an encrypted key fails here instead of prompting on the terminal
        context.load_cert_chain(cert_file, key_file, password=lambda: b"")
    except (OSError, ssl.SSLError) as exc:
        why = getattr(exc, "reason", None) or exc.strerror or type(exc).__name__
        raise ConfigError(
            [
                f"{key_path}.tls_cert_file / {key_path}.tls_key_file: cannot load {os.fspath(cert_file)} "
                f"with {os.fspath(key_file)} ({why}); give a PEM certificate and its unencrypted PEM key"
            ]
        ) from None
    return context


class MetricsServer:
    """Serves one `Exposition` plus health, readiness and a landing page until `stop()`."""

    def __init__(
        self,
        listen: str,
        exposition: Exposition,
        *,
        health: Check,
        ready: Check,
        landing: Callable[[], bytes] | None = None,
        tls_cert_file: StrPath | None = None,
        tls_key_file: StrPath | None = None,
        basic_auth_users: Mapping[str, str] | None = None,
        request_timeout: float = 10.0,
    ) -> None:
        self.listen = listen
        self._host, self._port = parse_listen(listen)
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
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:9877 (no trailing slash)."""
        host = self._host or "0.0.0.0"  # noqa: S104
        host = f"[{host}]" if ":" in host else host
        return f"{'https' if self._ssl else 'http'}://{host}:{self.port}"

    def start(self) -> None:
        """Bind and serve on a daemon thread; raises SpendMonitorError if the address is unusable."""
        if self._httpd is not None:
            return
        if self._host in WILDCARD_HOSTS:
            log.warning(
                "metrics server listens on all interfaces (%s); anyone who can reach it can read it",
                self.listen,
            )
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
        ok, status = _safe(self._ready)
        page = (
            '<!doctype html>\n<html><head><meta charset="utf-8"><title>llm-spend-monitor</title></head>\n'
            "<body><h1>llm-spend-monitor</h1>\n"
            f"<p>{'Ready' if ok else 'Not ready'}: {html.escape(status)}</p>\n"
            '<ul><li><a href="metrics">metrics</a></li><li><a href="healthz">healthz</a></li>'
            '<li><a href="readyz">readyz</a></li></ul>\n</body></html>\n'
        )
        return 200, {"Content-Type": "text/html; charset=utf-8"}, page.encode()


def _safe(check: Check) -> tuple[bool, str]:
    try:
        return check()
    except Exception:
        log.warning("a health or readiness check raised", exc_info=True)
        return False, "check failed; see the log"


def _check(check: Check, what: str) -> Response:
    ok, reason = _safe(check)
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
