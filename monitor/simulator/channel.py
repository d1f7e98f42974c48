"""What the simulated channels (a new-api relay, OpenRouter, Azure OpenAI) share: the request they get,
the seam the gateway routes to, and deterministic per-hour randomness.

Each channel is mounted under its own path prefix of the simulator's one loopback server and keeps
its own books (its ground truth), independent of the OpenAI and Anthropic organizations.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from monitor.simulator.generate import DAY, HOUR, intensity
from monitor.simulator.wire import Query, Reply


@dataclass(frozen=True, slots=True)
class ChannelRequest:
    """One request to a channel: `path` relative to the channel's prefix, header names lower-case."""

    method: str
    path: str
    query: Query
    headers: Mapping[str, str]
    body: bytes
    now: int


class ChannelApi(Protocol):
    """A simulated channel API. `secrets` are scrubbed from the request log; `fault` may shape a
    scripted fault the channel's own way (None: the gateway's default reply)."""

    prefix: str

    @property
    def secrets(self) -> tuple[str, ...]: ...

    def handle(self, request: ChannelRequest) -> Reply: ...

    def fault(self, name: str, retry_after: int | None) -> Reply | None: ...


def hour_rng(seed: int, channel: str, hour: int) -> random.Random:
    """The random numbers of one hour of one channel: the same in every run and request order."""
    digest = hashlib.sha256(f"{seed}|{channel}|{hour}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def hour_volume(rng: random.Random, hour: int, peak: float) -> int:
    """Requests in an hour: `peak` at the busiest hour of a weekday, following the daily curve."""
    expected = peak * intensity(hour)
    return max(0, int(rng.gauss(expected, expected**0.5 + 0.5) + 0.5))


def first_hour(start: int) -> int:
    return -(-start // HOUR) * HOUR


def day_of(t: int) -> int:
    return t - t % DAY


def reply_json(status: int, payload: object, **headers: str) -> Reply:
    return Reply(status, payload, dict(headers))
