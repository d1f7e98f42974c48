"""The HTTP side of the simulator: routing, scripted faults, the request log and the loopback server.

Faults are queued with `inject` and consumed by the next matching requests (fnmatch on the path).
Every request is logged with its credentials redacted; the keys never reach a log line or a record.
"""

from __future__ import annotations

import fnmatch
import logging
import socket
import struct
import sys
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from monitor.simulator import anthropic_api, openai_api
from monitor.simulator.channel import ChannelApi, ChannelRequest
from monitor.simulator.usage import SimulatedUsage
from monitor.simulator.wire import DRIFTS, ApiRequest, Reply, drift, encode

logger = logging.getLogger(__name__)

OPENAI_PREFIX = "/openai/v1"
ANTHROPIC_PREFIX = "/anthropic"
_STATUS_FAULTS = ("429", "429-no-retry-after", "500", "502", "503", "401", "403")
CHANNEL_FAULTS = ("success-false", "html", "token-expired", "aadsts")
"""Faults only the channels answer (a relay's HTTP 200 `success: false`, its web page instead of
JSON; Azure's expired token and an AADSTS error); elsewhere they pass through unchanged."""
FAULTS: tuple[str, ...] = (*_STATUS_FAULTS, "timeout", "reset", "truncated", *DRIFTS, *CHANNEL_FAULTS)
_SECRET_HEADERS = ("authorization", "x-api-key", "proxy-authorization", "cookie")
REDACTED = "[redacted]"
LOG_LIMIT = 100_000
"""The request log keeps the newest requests only, so a long-running demo does not grow without bound."""


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request as the simulator saw it. `status` is None when no response was sent (timeout, reset)."""

    method: str
    path: str
    query: Mapping[str, tuple[str, ...]]
    headers: Mapping[str, str]
    status: int | None
    fault: str | None
    at: float


@dataclass
class _Fault:
    name: str
    pattern: str
    remaining: int
    retry_after: int | None


@dataclass
class Outcome:
    """What the handler does: send `body`, hold the connection open, or reset it."""

    status: int | None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    action: str = "send"
    hold: float = 0.0


def _fault_reply(provider: str, name: str, retry_after: int | None) -> Reply:
    openai = provider == "openai"
    if name == "502":
        html = b"<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>"
        return Reply(502, html, content_type="text/html")
    status = int(name[:3])
    kinds = {
        429: ("rate_limit_exceeded", "rate_limit_error", "Rate limit reached for requests."),
        500: ("server_error", "api_error", "The server had an error while processing your request."),
        503: ("server_error", "overloaded_error", "The server is overloaded or not ready yet."),
        401: ("invalid_request_error", "authentication_error", "Incorrect API key provided."),
        403: (
            "invalid_request_error",
            "permission_error",
            "This key does not have permission to read usage.",
        ),
    }
    openai_kind, anthropic_kind, message = kinds[status]
    if openai:
        reply = openai_api.error(status, message, kind=openai_kind)
    else:
        reply = anthropic_api.error(status, anthropic_kind, message)
    if name == "429":
        reply.headers["Retry-After"] = str(retry_after or 1)
    return reply


class Gateway:
    """Turns one raw request into an Outcome: faults first, then auth and the provider's API."""

    def __init__(
        self,
        usage: SimulatedUsage,
        clock: Callable[[], float],
        keys: Mapping[str, str],
        hold_seconds: Callable[[], float],
    ) -> None:
        self.usage, self.clock, self._keys, self._hold_seconds = usage, clock, dict(keys), hold_seconds
        self.channels: dict[str, ChannelApi] = {}
        self._faults: list[_Fault] = []
        self._log: deque[RequestRecord] = deque(maxlen=LOG_LIMIT)
        self._lock = threading.Lock()

    def inject(self, fault: str, pattern: str, count: int, retry_after: int | None) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; one of: {', '.join(FAULTS)}")
        if count < 1:
            raise ValueError(f"fault count must be >= 1, got {count}")
        with self._lock:
            self._faults.append(_Fault(fault, pattern, count, retry_after))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take(self, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fnmatch.fnmatchcase(path, fault.pattern):
                    fault.remaining -= 1
                    if not fault.remaining:
                        self._faults.remove(fault)
                    return fault
        return None

    def log(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._log)

    def reset_log(self) -> None:
        with self._lock:
            self._log.clear()

    def mount(self, api: ChannelApi) -> None:
        """Serve a channel's API under its path prefix."""
        self.channels[api.prefix] = api

    def _scrub(self, text: str) -> str:
        secrets = [*self._keys.values(), *(s for api in self.channels.values() for s in api.secrets)]
        for key in sorted(secrets, key=len, reverse=True):
            if key:
                text = text.replace(key, REDACTED)
        return text

    def respond(self, method: str, target: str, raw_headers: Mapping[str, str], body: bytes = b"") -> Outcome:
        parts = urlsplit(target)
        path, query = parts.path, parse_qs(parts.query, keep_blank_values=True)
        headers = {k.lower(): v for k, v in raw_headers.items()}
        fault = self._take(path)
        name = fault.name if fault else None
        api = next((a for prefix, a in self.channels.items() if path.startswith(prefix + "/")), None)
        if api is not None:
            request = ChannelRequest(
                method, path.removeprefix(api.prefix), query, headers, body, int(self.clock())
            )
            outcome = self._channel_outcome(api, request, fault)
        else:
            outcome = self._outcome(method, path, query, headers, fault)
        record = RequestRecord(
            method=method,
            path=path,
            query=MappingProxyType({self._scrub(k): tuple(map(self._scrub, v)) for k, v in query.items()}),
            headers=MappingProxyType(
                {k: REDACTED if k in _SECRET_HEADERS else self._scrub(v) for k, v in headers.items()}
            ),
            status=outcome.status,
            fault=name,
            at=self.clock(),
        )
        with self._lock:
            self._log.append(record)
        logger.debug("simulator %s %s -> %s (fault %s)", method, path, outcome.status, name)
        return outcome

    def _outcome(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        fault: _Fault | None,
    ) -> Outcome:
        name = fault.name if fault else None
        if name == "timeout":
            return Outcome(None, action="hold", hold=self._hold_seconds())
        if name == "reset":
            return Outcome(None, action="reset")
        provider = "openai" if path.startswith(OPENAI_PREFIX + "/") else "anthropic"
        if not path.startswith((OPENAI_PREFIX + "/", ANTHROPIC_PREFIX + "/")):
            reply = Reply(404, {"error": {"message": f"no simulated API at {path}"}})
        elif name in _STATUS_FAULTS:
            reply = _fault_reply(provider, name or "", fault.retry_after if fault else None)
        elif method != "GET":
            reply = Reply(
                405, {"error": {"message": f"{method} is not allowed; these endpoints are GET only"}}
            )
        else:
            reply = self._api(provider, path, query, headers, fast=name not in DRIFTS)
            if reply.status == 200 and name in DRIFTS:
                reply.payload = drift(reply.payload, name or "")
        body = reply.payload if isinstance(reply.payload, bytes) else encode(reply.payload)
        if name == "truncated" and reply.status == 200:
            body = body[: max(1, len(body) // 2)]
        return Outcome(reply.status, body, {"Content-Type": reply.content_type, **reply.headers})

    def _channel_outcome(self, api: ChannelApi, request: ChannelRequest, fault: _Fault | None) -> Outcome:
        name = fault.name if fault else None
        if name == "timeout":
            return Outcome(None, action="hold", hold=self._hold_seconds())
        if name == "reset":
            return Outcome(None, action="reset")
        reply = api.fault(name, fault.retry_after if fault else None) if name else None
        if reply is None and name in _STATUS_FAULTS:
            reply = Reply(int(name[:3]), {"error": {"message": f"simulated {name}"}})
        if reply is None:
            reply = api.handle(request)
        body = reply.payload if isinstance(reply.payload, bytes) else encode(reply.payload)
        if name == "truncated" and reply.status == 200:
            body = body[: max(1, len(body) // 2)]
        return Outcome(reply.status, body, {"Content-Type": reply.content_type, **reply.headers})

    def _api(
        self, provider: str, path: str, query: dict[str, list[str]], headers: dict[str, str], fast: bool
    ) -> Reply:
        now = int(self.clock())
        if provider == "openai":
            request = ApiRequest(path.removeprefix(OPENAI_PREFIX), query, headers, now, fast)
            return openai_api.handle(self.usage, request, self._keys["openai"])
        request = ApiRequest(path.removeprefix(ANTHROPIC_PREFIX), query, headers, now, fast)
        return anthropic_api.handle(self.usage, request, self._keys["anthropic"])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes: no 40 ms delayed-ACK stall
    server: SimulatorServer

    def _serve(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if 0 < length <= 1 << 20 else b""
            outcome = self.server.gateway.respond(self.command, self.path, dict(self.headers.items()), body)
        except Exception:
            logger.exception("simulator failed to answer %s %s", self.command, urlsplit(self.path).path)
            outcome = Outcome(500, b'{"error":{"message":"simulator internal error"}}')
        if outcome.action == "hold":
            self.server.stopping.wait(outcome.hold)
            self.close_connection = True
            return
        if outcome.action == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        self.send_response(outcome.status or 500)
        for name, value in outcome.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(outcome.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(outcome.body)

    do_GET = do_POST = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the stdlib's stderr access log; the gateway logs (without query strings) instead."""


class SimulatorServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer whose handler threads never block shutdown."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], gateway: Gateway) -> None:
        self.gateway = gateway
        self.stopping = threading.Event()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up mid-response (a timed-out poller, a SIGKILLed daemon) is routine here:
        no traceback on stderr. Anything else is a simulator bug and still printed."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)
