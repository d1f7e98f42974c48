"""Frames on the pipes between the daemon and its web child: a kind and a few byte fields.

    frame = kind (1 byte) | field count (1 byte) | per field: length (4 bytes, big-endian) | bytes

Small fields are JSON, large ones (a gzipped exposition, the status page) raw bytes, so a body is
never copied into a bigger message. The pipes are private to the two processes (the child's stdin
and stdout), so nothing here is parsed from a stranger; lengths are still bounded.
"""

from __future__ import annotations

import json
import struct
from typing import IO, Any

HEADER = struct.Struct("!BB")
LENGTH = struct.Struct("!I")
MAX_FIELD = 1 << 30
"""No field is larger (a gzipped exposition is about 0.5 MB at the series limit)."""

# daemon -> child
CONFIG = 1  # json: listen, address, tls files, users, timeout, log level
METRICS = 2  # json {"generation": n, "variants": [[format, escaping], ...]}, then one gzipped body each
PAGE = 3  # the status page
PROBES = 4  # json {"health": [ok, text], "ready": [ok, text]}
ANSWER = 5  # json {"id": n, ...}, then the bytes asked for, if any
# child -> daemon
STARTED = 10  # json {"port": n}
FAILED = 11  # json {"problems": [...]} (a config error) or {"error": "..."}
ASK = 12  # json {"id": n, "what": "negotiate" | "variant", ...}


class FrameError(Exception):
    """A frame that does not follow the format (a bug, never the network's input)."""


def write_frame(out: IO[bytes], kind: int, *fields: bytes) -> None:
    """Write one frame and flush it. The caller serialises writers."""
    out.write(HEADER.pack(kind, len(fields)))
    for field in fields:
        out.write(LENGTH.pack(len(field)))
        out.write(field)
    out.flush()


def read_frame(inp: IO[bytes]) -> tuple[int, list[bytes]] | None:
    """The next frame, or None at the end of the stream (the other process closed it or exited)."""
    header = _exactly(inp, HEADER.size)
    if header is None:
        return None
    kind, count = HEADER.unpack(header)
    fields = []
    for _ in range(count):
        raw = _exactly(inp, LENGTH.size)
        if raw is None:
            return None
        (length,) = LENGTH.unpack(raw)
        if length > MAX_FIELD:
            raise FrameError(f"a field of {length} bytes in a frame of kind {kind}")
        field = _exactly(inp, length)
        if field is None:
            return None
        fields.append(field)
    return kind, fields


def dump(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def load(field: bytes) -> Any:
    return json.loads(field)


def _exactly(inp: IO[bytes], size: int) -> bytes | None:
    """`size` bytes, or None when the stream ends first."""
    if size == 0:
        return b""
    data = inp.read(size)
    if not data or len(data) < size:
        return None
    return data
