"""A hostile provider on loopback for the tests of issue 16: one raw-socket server whose answer to
each request is chosen by a `behaviour(sock, n)` (n counts requests from 1), and the behaviours the
tests need: a gzip bomb, a huge page, a trickle, an endless chain of pages.

No tests here.
"""

from __future__ import annotations

import functools
import gzip
import json
import socket
import socketserver
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

Behaviour = Callable[[socket.socket, int], None]


def head(status: int = 200, **headers: str | int) -> bytes:
    lines = [f"HTTP/1.1 {status} X", "Content-Type: application/json", "Connection: close"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def answer(sock: socket.socket, body: bytes, **headers: str | int) -> None:
    sock.sendall(head(Content_Length=len(body), **headers) + body)


@functools.lru_cache(maxsize=4)
def gzip_bomb(inflated: int, *, inside: bool = True) -> bytes:
    """A gzip body of about inflated/1000 bytes: a page holding `inflated` spaces, inside its first
    bucket (one element to bound) or between the top-level tokens (only the whole body to bound).

    Built in a second: each MiB of spaces is deflated once after a full flush (so its bytes are the
    same every time) and repeated; the gzip trailer carries the real CRC and size of the whole.
    """
    start = b'{"object": "page", "data": [{"start_time": 0, "results": [' if inside else b'{"data": ['
    end = (b"]}], " if inside else b"], ") + b'"has_more": false, "next_page": null}'
    block = b" " * 2**20
    count = inflated // len(block)
    raw = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    head_bytes = raw.compress(start) + raw.flush(zlib.Z_FULL_FLUSH)
    block_bytes = raw.compress(block) + raw.flush(zlib.Z_FULL_FLUSH)
    tail_bytes = raw.compress(end) + raw.flush()
    crc = zlib.crc32(start)
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(end, crc)
    size = len(start) + count * len(block) + len(end)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = struct.pack("<II", crc, size % 2**32)
    return header + head_bytes + block_bytes * count + tail_bytes + trailer


def bomb(inflated: int, *, inside: bool = True) -> Behaviour:
    body = gzip_bomb(inflated, inside=inside)

    def behave(sock: socket.socket, _n: int) -> None:
        answer(sock, body, Content_Encoding="gzip")

    return behave


def page_of(buckets: int, results: int, *, has_more: bool = False, cursor: str | None = None) -> bytes:
    """An OpenAI completions page of `buckets` hourly buckets with `results` results each."""
    result = {
        "object": "organization.usage.completions.result",
        "input_tokens": 1000,
        "output_tokens": 100,
        "num_model_requests": 1,
        "model": "gpt-4o-2024-08-06",
        "project_id": "proj_0123456789abcdef",
        "api_key_id": "key_0123456789abcdef",
    }
    data = [
        {
            "object": "bucket",
            "start_time": 1_781_092_800 + 3600 * b,
            "end_time": 1_781_096_400 + 3600 * b,
            "results": [dict(result, user_id=f"user_{i}") for i in range(results)],
        }
        for b in range(buckets)
    ]
    page = {"object": "page", "data": data, "has_more": has_more, "next_page": cursor}
    return json.dumps(page).encode()


def big_page(megabytes: int) -> Behaviour:
    """One page of about `megabytes` MB of ordinary buckets, gzip-encoded as a real API would send it."""
    per_bucket = 2000
    size = len(page_of(1, per_bucket))
    body = gzip.compress(page_of(max(1, megabytes * 10**6 // size), per_bucket), 1)

    def behave(sock: socket.socket, _n: int) -> None:
        answer(sock, body, Content_Encoding="gzip")

    return behave


def trickle(every: float, *, in_headers: bool = False) -> Behaviour:
    """Answer one byte every `every` seconds, forever (in the headers, or in a body that never ends)."""

    def behave(sock: socket.socket, _n: int) -> None:
        if not in_headers:
            sock.sendall(head())  # no length: the body runs until the connection closes
        try:
            while True:
                sock.sendall(b"H" if in_headers else b" ")
                time.sleep(every)
        except OSError:
            return

    return behave


def endless_pages() -> Behaviour:
    """has_more with a fresh cursor on every page, forever."""

    def behave(sock: socket.socket, n: int) -> None:
        answer(sock, page_of(0, 0, has_more=True, cursor=f"cursor-{n}"))

    return behave


@contextmanager
def hostile(behaviour: Behaviour) -> Iterator[tuple[str, list[float]]]:
    """The server's base URL and the times (monotonic) at which each request arrived."""
    arrivals: list[float] = []
    lock = threading.Lock()

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = self.request.recv(65536)
                if not chunk:
                    return
                data += chunk
            with lock:
                arrivals.append(time.monotonic())
                n = len(arrivals)
            with suppress(OSError):
                behaviour(self.request, n)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", arrivals
    finally:
        server.shutdown()
        server.server_close()
