"""When things run: interval jobs on daemon threads, the refresh that follows a burst of polls, and a
shutdown with a deadline.

- Jobs run on daemon threads (one per job, kept between its runs; a job has at most one run at a
  time), never in a pool the interpreter joins at exit: a poll stuck in a network call can delay
  SIGTERM only up to the shutdown deadline, not for as long as the network pleases.
- `Coalescer` runs an action (the refresh) once after the polls that asked for it: when none is
  in flight any more, or `max_wait` after the first request, whichever comes first. Accounts
  with the same poll interval start together, so one refresh follows each cycle of them.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.base import BaseExecutor, run_job
from apscheduler.job import Job
from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger(__name__)

SWITCH_INTERVAL_S = 0.001
"""How long a thread may hold the GIL before another gets a turn (Python's default is 5 ms): the
HTTP server's threads answer scrapes between the steps of a poll that parses and prices rows."""


def set_switch_interval() -> None:
    """Shorten the GIL switch interval for the daemon's process (see SWITCH_INTERVAL_S)."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)


class DaemonThreadExecutor(BaseExecutor):  # type: ignore[misc]  # apscheduler ships no types
    """Runs each job's runs on a daemon thread of its own, kept for the job's next runs (a job has
    at most one run at a time), and knows which jobs are in a run."""

    def __init__(self) -> None:
        super().__init__()
        self._queues: dict[str, queue.SimpleQueue[tuple[Job, list[datetime]]]] = {}
        self._busy: set[str] = set()
        self._cond = threading.Condition()

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        with self._cond:
            runs = self._queues.get(job.id)
            if runs is None:
                runs = self._queues[job.id] = queue.SimpleQueue()
                threading.Thread(target=self._work, args=(runs,), name=f"job {job.id}", daemon=True).start()
            self._busy.add(job.id)
        runs.put((job, run_times))

    def _work(self, runs: queue.SimpleQueue[tuple[Job, list[datetime]]]) -> None:
        while True:
            job, run_times = runs.get()
            try:
                events = run_job(job, job._jobstore_alias, run_times, self._logger.name)
            except BaseException as exc:  # run_job reports job errors itself; this is apscheduler's own
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, events)
            finally:
                with self._cond:
                    self._busy.discard(job.id)
                    self._cond.notify_all()

    def busy(self) -> set[str]:
        """The ids of the jobs in a run now."""
        with self._cond:
            return set(self._busy)

    def wait_idle(self, deadline: float) -> set[str]:
        """Wait until no job is in a run, or `deadline` (time.monotonic()); the jobs still running."""
        with self._cond:
            while self._busy and (left := deadline - time.monotonic()) > 0:
                self._cond.wait(left)
            return set(self._busy)


class Scheduler:
    """Interval jobs, each on a daemon thread. `on_error(job_id)` and `on_missed(job_id)` are told
    of failed and skipped runs (the self-metrics)."""

    def __init__(self, *, on_error: Callable[[str], None], on_missed: Callable[[str], None]) -> None:
        self.executor = DaemonThreadExecutor()
        self._scheduler = BackgroundScheduler(timezone=UTC, executors={"default": self.executor})
        self._on_error = on_error
        self._on_missed = on_missed
        self._scheduler.add_listener(self._on_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED)

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def every(
        self, job_id: str, seconds: float, func: Callable[..., Any], *args: Any, first_run: datetime
    ) -> None:
        """Run `func(*args)` every `seconds` from `first_run`; a run still going when the next is due
        makes that one skip (counted as missed), never pile up."""
        self._scheduler.add_job(
            func,
            "interval",
            args=list(args),
            id=job_id,
            name=job_id,
            seconds=seconds,
            max_instances=1,
            coalesce=True,
            next_run_time=first_run,
            misfire_grace_time=max(1, int(seconds)),
        )

    def start(self) -> None:
        self._scheduler.start()

    def stop(self) -> None:
        """Start no more runs; the runs in flight go on (see `join`)."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def _on_event(self, event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            self._on_missed(event.job_id)
        else:
            log.error("job %s failed: %r", event.job_id, event.exception)
            self._on_error(event.job_id)


def join_until(threads: list[threading.Thread], deadline: float) -> list[str]:
    """Wait for the threads until `deadline` (time.monotonic()); the names of those still running."""
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return [t.name for t in threads if t.is_alive()]


class Coalescer:
    """Runs `action` on its own daemon thread once after a burst of requests.

    Jobs wrap their work in `busy()` and call `request()` when done. The action runs when a request
    is pending and no job is busy, or `max_wait` seconds after the first pending request while
    some job still runs (a hung poll never keeps the others' results from being published);
    `settle` seconds after the last job finished, so accounts that finish close together share one
    run. A failing action is logged and does not stop the thread.
    """

    def __init__(
        self, action: Callable[[], object], *, name: str, max_wait: float, settle: float = 0.5
    ) -> None:
        self._action = action
        self._max_wait = max_wait
        self._settle = settle
        self._cond = threading.Condition()
        self._busy = 0
        self._requested_at: float | None = None
        self._idle_since = time.monotonic()
        self._stopping = False
        self.thread = threading.Thread(target=self._loop, name=name, daemon=True)

    @contextlib.contextmanager
    def busy(self) -> Iterator[None]:
        with self._cond:
            self._busy += 1
        try:
            yield
        finally:
            with self._cond:
                self._busy -= 1
                if self._busy == 0:
                    self._idle_since = time.monotonic()
                self._cond.notify_all()

    def request(self) -> None:
        with self._cond:
            if self._requested_at is None:
                self._requested_at = time.monotonic()
            self._cond.notify_all()

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()

    def _due_in(self, now: float) -> float | None:
        """Seconds until the action is due (0: now), None when nothing is requested."""
        if self._requested_at is None:
            return None
        waited_enough = self._requested_at + self._max_wait - now
        if self._busy:
            return max(0.0, waited_enough)
        return max(0.0, min(waited_enough, self._idle_since + self._settle - now))

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._stopping:
                    due = self._due_in(time.monotonic())
                    if due == 0.0:
                        break
                    self._cond.wait(due)
                if self._stopping:
                    return
                self._requested_at = None
            try:
                self._action()
            except Exception:  # the action records its own failures; a bug must not end the thread
                log.exception("%s failed", self.thread.name)
