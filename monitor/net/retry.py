"""One retry policy for every outbound call: which answers are worth another try, and how long to wait.

Providers retry within one poll (a few attempts, seconds apart); the alert outbox retries across
drains and restarts (delays of minutes, stored in SQLite). Both classify HTTP answers with
`transient_status` and space their attempts with a `RetryPolicy`; what differs is only each
caller's settings (`PROVIDERS` in monitor.providers.http, `ALERTS` in monitor.alerts.outbox).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

TRANSIENT_STATUSES = frozenset({408, 425, 429})
"""Client-side statuses that say "not now" rather than "never"; every 5xx is transient too."""


def transient_status(status: int, also: frozenset[int] = frozenset()) -> bool:
    """Whether an HTTP status is worth another attempt: 408, 425, 429, any 5xx, and `also` (per caller)."""
    return 500 <= status <= 599 or status in TRANSIENT_STATUSES or status in also


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """A Retry-After header (integer seconds or an HTTP date) as seconds from `now`; None if absent/bad."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: attempt n waits min(cap, base * 2**(n-1)) scaled by a uniform
    factor in `jitter`, never over `cap`; a server's Retry-After wins, capped at `retry_after_cap`.

    `jitter=(0, 1)` is "full jitter" (spreads many clients hitting one rate limit); `(0.8, 1.2)` keeps
    the delay near its nominal value. `max_attempts` is None where the caller retries until done.
    """

    base: float
    cap: float
    jitter: tuple[float, float] = (0.0, 1.0)
    retry_after_cap: float | None = None
    max_attempts: int | None = None

    def __post_init__(self) -> None:
        low, high = self.jitter
        if not (0 <= low <= high and self.base > 0 and self.cap >= self.base):
            raise ValueError(f"bad retry policy {self}")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def delay(self, attempt: int, rng: random.Random, retry_after: float | None = None) -> float:
        """Seconds to wait after the `attempt`-th failure (1-based)."""
        if retry_after is not None:
            return min(retry_after, self.retry_after_cap if self.retry_after_cap is not None else self.cap)
        nominal = min(self.cap, self.base * 2.0 ** max(0, attempt - 1))
        low, high = self.jitter
        return min(self.cap, nominal * rng.uniform(low, high))

    def gives_up_after(self, attempt: int) -> bool:
        """Whether `attempt` (1-based) was the last one this policy allows."""
        return self.max_attempts is not None and attempt >= self.max_attempts
