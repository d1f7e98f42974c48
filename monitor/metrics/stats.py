"""The daemon's in-memory self-metrics: poll outcomes, alert deliveries and scheduler events.

Not in the ledger, so not cumulative across restarts. `PollStats` is thread-safe and owned by the
daemon (one `record_poll` call per poll of an account); `view()` is the frozen copy a metrics
snapshot is rendered from. No I/O here.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

POLL_ERROR_REASONS: tuple[str, ...] = (
    "rate_limited",
    "server_error",
    "timeout",
    "connection",
    "auth",
    "bad_response",
    "client_error",
    "internal",
    "store",
)
"""Reasons of `spend_monitor_poll_errors_total` pre-created at 0 for every account and endpoint."""

ALERT_OUTCOMES: tuple[str, ...] = ("sent", "failed", "retried")
"""Outcomes of `spend_monitor_alerts_sent_total` pre-created at 0 for every channel."""

POLL_DURATION_BUCKETS: tuple[float, ...] = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
"""Upper bounds (seconds) of `spend_monitor_poll_duration_seconds`; +Inf is implied."""


@dataclass(frozen=True, slots=True)
class AccountRef:
    """A configured provider account and the endpoints it polls."""

    provider: str
    account: str
    endpoints: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Histogram:
    """Non-cumulative counts per POLL_DURATION_BUCKETS bound (plus one for +Inf), sum and count."""

    counts: tuple[int, ...] = (0,) * (len(POLL_DURATION_BUCKETS) + 1)
    total: float = 0.0

    @property
    def count(self) -> int:
        return sum(self.counts)


Account = tuple[str, str]
Endpoint = tuple[str, str, str]


@dataclass(frozen=True)
class PollView:
    """A frozen copy of PollStats (keys: (provider, account) or (provider, account, endpoint))."""

    accounts: tuple[AccountRef, ...] = ()
    last_success: Mapping[Endpoint, float] = field(default_factory=dict)
    errors: Mapping[tuple[str, str, str, str], int] = field(default_factory=dict)
    requests: Mapping[Endpoint, int] = field(default_factory=dict)
    durations: Mapping[Account, Histogram] = field(default_factory=dict)
    data_lag: Mapping[Account, float] = field(default_factory=dict)
    healthy: Mapping[Account, bool] = field(default_factory=dict)
    polls: Mapping[Account, int] = field(default_factory=dict)
    alerts: Mapping[tuple[str, str], int] = field(default_factory=dict)
    job_errors: Mapping[str, int] = field(default_factory=dict)
    job_missed: Mapping[str, int] = field(default_factory=dict)


class PollStats:
    """Thread-safe self-metrics owned by the daemon, one `record_poll` call per poll of an account.

    Every configured account, endpoint, error reason, channel and job exists at zero from the start,
    so `rate()` and absence alerts have a series before the first failure. Accounts start healthy
    with a last-success time of 0 (never) and a data lag of 0 (unknown).
    """

    def __init__(
        self, accounts: Sequence[AccountRef], channels: Sequence[str] = (), jobs: Sequence[str] = ()
    ) -> None:
        self._lock = threading.Lock()
        self._accounts: dict[Account, AccountRef] = {}
        self._last_success: dict[Endpoint, float] = {}
        self._errors: dict[tuple[str, str, str, str], int] = {}
        self._requests: dict[Endpoint, int] = {}
        self._durations: dict[Account, Histogram] = {}
        self._data_lag: dict[Account, float] = {}
        self._healthy: dict[Account, bool] = {}
        self._polls: dict[Account, int] = {}
        self._alerts: dict[tuple[str, str], int] = {}
        self._job_errors: dict[str, int] = dict.fromkeys(jobs, 0)
        self._job_missed: dict[str, int] = dict.fromkeys(jobs, 0)
        for ref in accounts:
            self._add_account(ref.provider, ref.account, ref.endpoints)
        for channel in channels:
            for outcome in ALERT_OUTCOMES:
                self._alerts[(channel, outcome)] = 0

    def _add_account(self, provider: str, account: str, endpoints: Sequence[str]) -> None:
        key = (provider, account)
        ref = self._accounts.get(key, AccountRef(provider, account, ()))
        new = tuple(e for e in endpoints if e not in ref.endpoints)
        self._accounts[key] = AccountRef(provider, account, ref.endpoints + new)
        self._durations.setdefault(key, Histogram())
        self._data_lag.setdefault(key, 0.0)
        self._healthy.setdefault(key, True)
        self._polls.setdefault(key, 0)
        for endpoint in new:
            self._last_success.setdefault((provider, account, endpoint), 0.0)
            self._requests.setdefault((provider, account, endpoint), 0)
            for reason in POLL_ERROR_REASONS:
                self._errors.setdefault((provider, account, endpoint, reason), 0)

    def record_poll(
        self,
        provider: str,
        account: str,
        *,
        duration: float,
        ok: bool,
        finished_at: float,
        endpoint_errors: Mapping[str, Mapping[str, int]] | None = None,
        endpoints_ok: Sequence[str] | None = None,
        requests: Mapping[str, int] | None = None,
        data_lag: float | None = None,
        healthy: bool = True,
    ) -> None:
        """Record one finished poll (successful or not) of one account.

        `endpoints_ok` lists the endpoints fetched completely, whose last-success time becomes
        `finished_at`; None means every configured endpoint when `ok`, none otherwise.
        `endpoint_errors` adds {endpoint: {reason: count}} to the error counters, `requests`
        adds HTTP requests made per endpoint, `data_lag` (seconds) replaces the lag when known.
        Unknown accounts and endpoints are added rather than refused.
        """
        errors = endpoint_errors or {}
        made = requests or {}
        with self._lock:
            self._add_account(provider, account, [*errors, *made, *(endpoints_ok or ())])
            key = (provider, account)
            if endpoints_ok is None:
                endpoints_ok = self._accounts[key].endpoints if ok else ()
            for endpoint in endpoints_ok:
                self._last_success[(provider, account, endpoint)] = finished_at
            for endpoint, reasons in errors.items():
                for reason, count in reasons.items():
                    slot = (provider, account, endpoint, reason)
                    self._errors[slot] = self._errors.get(slot, 0) + count
            for endpoint, count in made.items():
                self._requests[(provider, account, endpoint)] += count
            old = self._durations[key]
            counts = list(old.counts)
            counts[bisect.bisect_left(POLL_DURATION_BUCKETS, duration)] += 1
            self._durations[key] = Histogram(tuple(counts), old.total + duration)
            if data_lag is not None:
                self._data_lag[key] = data_lag
            self._healthy[key] = healthy
            self._polls[key] += 1

    def record_alert(self, channel: str, outcome: str) -> None:
        """Count one delivery attempt's outcome ("sent", "failed" or "retried") on a channel."""
        with self._lock:
            self._alerts[(channel, outcome)] = self._alerts.get((channel, outcome), 0) + 1

    def record_job_error(self, job: str) -> None:
        """Count a scheduler job that raised (APScheduler EVENT_JOB_ERROR)."""
        with self._lock:
            self._job_errors[job] = self._job_errors.get(job, 0) + 1

    def record_job_missed(self, job: str) -> None:
        """Count a scheduler run that was skipped (APScheduler EVENT_JOB_MISSED)."""
        with self._lock:
            self._job_missed[job] = self._job_missed.get(job, 0) + 1

    def view(self) -> PollView:
        """A consistent frozen copy of everything recorded so far."""
        with self._lock:
            return PollView(
                accounts=tuple(self._accounts.values()),
                last_success=dict(self._last_success),
                errors=dict(self._errors),
                requests=dict(self._requests),
                durations=dict(self._durations),
                data_lag=dict(self._data_lag),
                healthy=dict(self._healthy),
                polls=dict(self._polls),
                alerts=dict(self._alerts),
                job_errors=dict(self._job_errors),
                job_missed=dict(self._job_missed),
            )
