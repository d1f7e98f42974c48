"""Chaos run (`make chaos`): SIGKILL the daemon at random moments under every provider fault; prove nothing is lost.

    .venv/bin/python benchmarks/chaos.py [--seed N] [--cycles N] [--kills N] [--keep DIR]

The simulator (late and revised buckets on) and a webhook receiver run in this process on a
simulated clock that moves 20-60 minutes per cycle. The daemon runs in a child process (this file
with `--worker`): a real `Daemon` built from a real config file, whose clock reads the simulated
time from a file, polling each account with `Daemon.poll_account` (fetch, price, write page by
page, budgets, snapshot, outbox drain) when the driver says so. Each cycle the driver injects
random faults (every fault the simulator has), sets the receiver up, failing (500) or down
(connection refused), and sometimes SIGKILLs the child: at a random delay, right after a page was
handed to the writer (mid-page write), or right after the receiver accepted an alert (before the
daemon could mark it delivered). A killed daemon is restarted and polls again, as a supervisor
would restart it.

At the end, after one clean poll and draining the outbox, it checks: the ledger equals the
simulator's ground truth to the token and the picodollar for both providers, the billed costs equal
the simulator's bill, the thresholds in ALARM are exactly those the true spend crossed, every
outbox entry was delivered and none is pending, the receiver accepted every outbox idempotency key
(and no other), and each alert's events alternate (never queued twice). Duplicates on the wire
(a kill between "accepted" and "marked") are counted and reported, not failed: delivery is
at-least-once on the wire with a stable Idempotency-Key (docs/alerts.md). Exit 1 if a check fails.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import queue
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (
    DAY,
    HOUR,
    PROVIDERS,
    RECEIVER_MODES,
    Comparison,
    FileClock,
    SteppedClock,
    WebhookReceiver,
    compare_with_truth,
    ledger_rows,
    table,
    usd,
)
from monitor.config import ProviderConfig, load_config
from monitor.daemon import Daemon
from monitor.periods import period_bounds, to_unix
from monitor.providers import Provider, make_provider
from monitor.records import BilledCost, UsagePage, usd_to_pico
from monitor.simulator import FAULTS, Simulator
from monitor.store import Ledger
from monitor.store.alerts import ALARM, FIRING, RESOLVED, AlertStore
from monitor.store.billed import BilledStore

# 2026-12-01 03:10 UTC, a Tuesday: month-to-date spend starts near zero and grows through the run.
T0 = 1796094600
HISTORY = 2 * DAY
FAULT_PATHS = (
    "*/usage/completions",
    "*/usage/embeddings",
    "*/organization/costs",
    "*/usage_report/messages",
    "*/cost_report",
)
MAX_ATTEMPTS = 4
SECRET = "chaos-webhook-secret"  # a test secret, on loopback only
OPENAI_KEY, ANTHROPIC_KEY = "sk-admin-chaos-openai", "sk-ant-admin-chaos-anthropic"


@dataclass
class ChaosOptions:
    seed: int = 20261201
    cycles: int = 120
    kills: int = 40
    min_step: int = 20 * 60
    max_step: int = 60 * 60
    workdir: Path | None = None


@dataclass(frozen=True)
class Budget:
    """A budget of the chaos config: `provider` "" means both providers."""

    name: str
    period: str
    provider: str
    amount: Decimal
    thresholds: tuple[int, ...]


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class ChaosReport:
    cycles: int = 0
    kills: int = 0
    kill_phases: Counter[str] = field(default_factory=Counter)
    faults_injected: Counter[str] = field(default_factory=Counter)
    faults_applied: Counter[str] = field(default_factory=Counter)
    receiver_modes: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    rows: int = 0
    comparisons: list[Comparison] = field(default_factory=list)
    alerts_queued: int = 0
    keys_delivered: int = 0
    wire_accepted: int = 0
    wire_refused: int = 0
    wire_duplicates: int = 0
    pending: int = 0
    wall: float = 0.0
    simulated_hours: float = 0.0
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def check(self, name: str, ok: bool, detail: str = "") -> None:
        self.checks.append(Check(name, ok, detail))


# ---- the run ---------------------------------------------------------------------------------------


def run_chaos(options: ChaosOptions, log: Callable[[str], None] = print) -> ChaosReport:
    """One whole chaos run in `options.workdir` (a temporary directory if None)."""
    if options.workdir is None:
        with tempfile.TemporaryDirectory(prefix="spend-monitor-chaos-") as tmp:
            return _run(options, Path(tmp), log)
    options.workdir.mkdir(parents=True, exist_ok=True)
    return _run(options, options.workdir, log)


def _run(options: ChaosOptions, work: Path, log: Callable[[str], None]) -> ChaosReport:
    started = time.monotonic()
    rng = random.Random(options.seed)
    report = ChaosReport()
    planned = options.cycles + options.kills  # kills that do not land are owed in extra cycles
    steps = [0] + [rng.randint(options.min_step, options.max_step) for _ in range(planned - 1)]
    final_step = 30 * 60
    clock_file = work / "clock"
    clock = SteppedClock(T0, clock_file)
    with Simulator(
        seed=options.seed,
        clock=clock,
        start=T0 - HISTORY,
        openai_key=OPENAI_KEY,
        anthropic_key=ANTHROPIC_KEY,
        late_buckets=True,
        revisions=True,
    ) as sim:
        sim.timeout_hold = 1.5
        receiver = WebhookReceiver(SECRET)
        budgets = _budgets(sim, clock, T0 + sum(steps[: options.cycles]) + final_step)
        config = _write_config(work, sim, receiver, budgets)
        env = {"CHAOS_OPENAI_KEY": OPENAI_KEY, "CHAOS_ANTHROPIC_KEY": ANTHROPIC_KEY, "CHAOS_SECRET": SECRET}
        worker = Worker(Path(__file__).resolve(), config, clock_file, env, work / "daemon.log")
        receiver.on_accept = lambda _delivery: worker.fire("alert")
        try:
            worker.start()
            _cycles(options, rng, steps, clock, sim, receiver, worker, report, log)
            report.check(
                "the planned SIGKILLs landed",
                report.kills >= options.kills,
                f"{report.kills} of {options.kills}",
            )
            _finish(work, clock, sim, receiver, worker, report, budgets, final_step, log)
        finally:
            worker.stop()
            receiver.close()
    report.wall = time.monotonic() - started
    return report


def _cycles(
    options: ChaosOptions,
    rng: random.Random,
    steps: list[int],
    clock: SteppedClock,
    sim: Simulator,
    receiver: WebhookReceiver,
    worker: Worker,
    report: ChaosReport,
    log: Callable[[str], None],
) -> None:
    plan = _fault_plan(rng, options.cycles)
    modes = rng.choices(RECEIVER_MODES, weights=(5, 2, 2), k=len(steps))
    # faults, clock steps and outages are fixed by the seed; kill moments also depend on timing,
    # so they draw from their own generator and do not shift the rest
    rng = random.Random(options.seed + 1)
    poll_seconds: list[float] = [2.0]
    for cycle, (step, mode) in enumerate(zip(steps, modes, strict=True)):
        if cycle >= options.cycles and report.kills >= options.kills:
            break  # extra cycles only while kills that did not land are owed
        clock.advance(step)
        receiver.set_mode(mode)
        report.receiver_modes[mode] += 1
        faults = plan[cycle] if cycle < len(plan) else []
        for name, path, count, retry_after in faults:
            sim.inject(name, path=path, count=count, retry_after=retry_after)
            report.faults_injected[name] += 1
        owed = options.kills - report.kills
        trigger = None
        if owed > 0 and rng.random() < owed / max(1, options.cycles - cycle):
            # "alert" needs a receiver that accepts; the other triggers work in any cycle
            trigger = rng.choice(KILL_TRIGGERS if mode == "up" else KILL_TRIGGERS[:2])
        triggers = []
        while True:
            median = sorted(poll_seconds)[len(poll_seconds) // 2]
            outcome = worker.run(
                "poll", trigger=trigger, page=rng.randint(1, 3), delay=rng.uniform(0, 1.2 * median)
            )
            if not outcome.killed:
                break
            triggers.append(trigger or "")
            report.kills += 1
            report.kill_phases[outcome.phase] += 1
            worker.start()  # restarted as a supervisor would; it polls at once, and may crash again
            trigger = rng.choice(KILL_TRIGGERS[:2]) if rng.random() < RECRASH else None
        if not triggers:
            poll_seconds.append(outcome.seconds)
        log(
            f"cycle {cycle + 1:3d}  {_when(clock())}  receiver {mode:5s}  faults {len(faults)}  "
            f"killed {'+'.join(triggers) or '-':11s}  kills {report.kills}/{options.kills}"
        )
        report.cycles = cycle + 1


def _finish(
    work: Path,
    clock: SteppedClock,
    sim: Simulator,
    receiver: WebhookReceiver,
    worker: Worker,
    report: ChaosReport,
    budgets: list[Budget],
    final_step: int,
    log: Callable[[str], None],
) -> None:
    """The clean final poll, the checks on the ledger, then drain the outbox and check the alerts."""
    sim.clear_faults()
    receiver.set_mode("up")
    clock.advance(final_step)
    final = worker.run("poll")
    report.check("final clean poll succeeded", final.done and final.reply.endswith("ok"), final.reply)
    db = work / "spend.db"
    now = int(clock())
    end = (now // HOUR + 1) * HOUR
    report.comparisons = compare_with_truth(db, sim, sim.history_start, end)
    for c in report.comparisons:
        report.check(
            f"{c.provider}: ledger tokens, requests and picodollars equal ground truth",
            c.equal,
            f"ledger {usd(c.ledger_cost)} vs truth {usd(c.truth_cost)}",
        )
    with Ledger.open(db) as ledger:
        billed = {p: 0 for p in PROVIDERS}
        for line in BilledStore(ledger).lines(sim.history_start, end):
            billed[line.provider] += line.amount_pico
    for provider in PROVIDERS:
        want = sim.billed(provider, sim.history_start, end).total_pico
        report.check(
            f"{provider}: billed costs equal the simulator's bill",
            billed[provider] == want,
            f"{usd(billed[provider])} vs {usd(want)}",
        )
    check_alarms(db, sim, clock, budgets, report)
    for _ in range(12):  # retries back off up to 10 simulated minutes
        drained = worker.run("drain")
        if drained.reply == "pending 0":
            break
        clock.advance(11 * 60)
    report.requests = len(sim.requests_log)
    report.faults_applied = Counter(r.fault for r in sim.requests_log if r.fault)
    report.rows = ledger_rows(db)
    report.simulated_hours = (now - T0) / HOUR
    check_outbox(db, receiver, report)
    report.check(
        "every fault type was applied at least once",
        set(report.faults_applied) == set(FAULTS),
        "missing: " + (", ".join(sorted(set(FAULTS) - set(report.faults_applied))) or "none"),
    )
    check_secrets(work, report)
    log(f"final poll at {_when(now)}; outbox drained")


def check_alarms(
    db: Path, sim: Simulator, clock: SteppedClock, budgets: list[Budget], report: ChaosReport
) -> None:
    """Actual-spend thresholds in ALARM now == the thresholds the simulator's true spend crossed."""
    at = datetime.fromtimestamp(clock(), UTC)
    with Ledger.open(db) as ledger:
        states = AlertStore(ledger).states()
    for budget in budgets:
        start, end = (to_unix(t) for t in period_bounds(budget.period, at, ZoneInfo("UTC")))
        providers = [budget.provider] if budget.provider else list(PROVIDERS)
        spend = sum(sim.ground_truth(p, start, end).total.cost_pico for p in providers)
        limit = usd_to_pico(budget.amount)
        want = {t for t in budget.thresholds if spend * 100 >= limit * t}
        got = {
            int(Decimal(k.threshold))
            for k, s in states.items()
            if k.budget == budget.name and k.period_start == start and k.kind == "actual" and s.state == ALARM
        }
        report.check(
            f"budget {budget.name}: thresholds in ALARM are those the true spend crossed",
            got == want,
            f"spend {usd(spend)} of ${budget.amount}: {sorted(got)} in ALARM, expected {sorted(want)}",
        )


def check_secrets(work: Path, report: ChaosReport) -> None:
    """The admin keys and the webhook secret appear in neither the daemon's log nor the ledger files."""
    stored = b""
    for path in sorted(work.glob("spend.db*")):
        with contextlib.suppress(FileNotFoundError):  # -wal/-shm go when the last connection closes
            stored += path.read_bytes()
    logged = (work / "daemon.log").read_bytes()
    leaked = [s for s in (OPENAI_KEY, ANTHROPIC_KEY, SECRET) if s.encode() in stored + logged]
    report.check(
        "no key or webhook secret in the daemon log or the ledger", not leaked, f"{len(leaked)} found"
    )


def check_outbox(db: Path, receiver: WebhookReceiver, report: ChaosReport) -> None:
    with Ledger.open(db) as ledger:
        store = AlertStore(ledger)
        entries = store.entries()
        report.pending = store.pending_count()
    deliveries = receiver.deliveries
    accepted = [d for d in deliveries if d.accepted]
    accepted_keys = Counter(d.key for d in accepted)
    outbox_keys = {e.idempotency_key for e in entries}
    report.alerts_queued = len(entries)
    report.keys_delivered = len(accepted_keys)
    report.wire_accepted = len(accepted)
    report.wire_refused = len(deliveries) - len(accepted)
    report.wire_duplicates = sum(n - 1 for n in accepted_keys.values())
    report.check("alerts were queued (thresholds crossed during the run)", bool(entries), f"{len(entries)}")
    report.check("no outbox entry pending", report.pending == 0, f"pending {report.pending}")
    failed = [e for e in entries if e.failed_at is not None or e.delivered_at is None]
    report.check("every outbox entry marked delivered", not failed, f"{len(failed)} not delivered")
    report.check(
        "distinct idempotency keys accepted == outbox entries",
        set(accepted_keys) == outbox_keys and len(outbox_keys) == len(entries),
        f"{len(accepted_keys)} keys accepted, {len(entries)} entries",
    )
    report.check("every delivery carried a valid HMAC signature", all(d.signature_ok for d in deliveries), "")
    by_alert: dict[tuple[str, int, str, str], list[str]] = {}
    for e in entries:
        key = (e.key.budget, e.key.period_start, e.key.threshold, e.key.kind)
        by_alert.setdefault(key, []).append(e.event)
    alternating = all(
        events == [(FIRING, RESOLVED)[i % 2] for i in range(len(events))] for events in by_alert.values()
    )
    report.check("each alert's events alternate firing/resolved (queued exactly once)", alternating, "")


# ---- set-up ----------------------------------------------------------------------------------------


def _fault_plan(rng: random.Random, cycles: int) -> list[list[tuple[str, str, int, int | None]]]:
    """Faults per cycle: every fault type once within the first half of the cycles, on whatever
    request comes next (so it surely lands), plus random extras on chosen endpoints."""
    plan: list[list[tuple[str, str, int, int | None]]] = [[] for _ in range(cycles)]
    names = list(FAULTS)
    rng.shuffle(names)
    front = max(1, cycles // 2)
    for i, name in enumerate(names):
        plan[i % front].append((name, "*", 1, 2 if name == "429" else None))
    for _ in range(cycles + cycles // 2):
        name = rng.choice(FAULTS)
        count = 1 if name in ("401", "403") else rng.choice((1, 1, 2, 3, MAX_ATTEMPTS + 1))
        retry_after = rng.choice((None, 1, 2)) if name == "429" else None
        plan[rng.randrange(cycles)].append((name, rng.choice(FAULT_PATHS), count, retry_after))
    return plan


def _budgets(sim: Simulator, clock: SteppedClock, end: int) -> list[Budget]:
    """Budgets whose thresholds the spend crosses during the run, sized from the simulator's truth."""
    month = T0 - T0 % DAY  # T0 is on the 1st
    saved = clock()
    clock.now = end  # ground truth is a pure function of the clock: look ahead (the file is not touched)
    try:
        openai = sim.ground_truth("openai", month, end).total.cost_pico
        anthropic = sim.ground_truth("anthropic", month, end).total.cost_pico
    finally:
        clock.now = saved
    yesterday = sum(sim.ground_truth(p, month - DAY, month).total.cost_pico for p in PROVIDERS)

    def share(pico: int, fraction: str) -> Decimal:
        return (Decimal(pico) * Decimal(fraction) / 10**12).quantize(Decimal("0.01"))

    return [
        Budget("openai-month", "month", "openai", share(openai, "0.9"), tuple(range(10, 101, 10))),
        Budget("anthropic-month", "month", "anthropic", share(anthropic, "0.9"), (20, 40, 60, 80, 100)),
        Budget("all-day", "day", "", share(yesterday, "0.6"), (25, 50, 75, 100)),
    ]


def _write_config(work: Path, sim: Simulator, receiver: WebhookReceiver, budgets: list[Budget]) -> Path:
    lines = [
        'listen: "127.0.0.1:9"  # never bound: the worker polls without serving',
        f'storage: {{path: "{work / "spend.db"}"}}',
        "providers:",
    ]
    for name, kind, url, env in (
        ("openai-chaos", "openai", sim.openai_base_url, "CHAOS_OPENAI_KEY"),
        ("anthropic-chaos", "anthropic", sim.anthropic_base_url, "CHAOS_ANTHROPIC_KEY"),
    ):
        lines += [
            f"  - name: {name}",
            f"    type: {kind}",
            f"    api_key: ${{{env}}}",
            f'    base_url: "{url}"',
            "    initial_lookback: 3d",
            "    timeout: 1s",
            f"    max_attempts: {MAX_ATTEMPTS}",
        ]
        if kind == "openai":
            lines.append("    endpoints: [completions, embeddings]")
    lines.append("budgets:")
    for b in budgets:
        lines += [f"  - name: {b.name}", f"    amount_usd: {b.amount}", f"    period: {b.period}"]
        if b.provider:
            lines.append(f"    scope: {{provider: {b.provider}}}")
        lines += [f"    thresholds: {list(b.thresholds)}", "    forecast_thresholds: [100]"]
    lines += [
        "alerts:",
        "  - type: webhook",
        "    name: receiver",
        f'    url: "{receiver.url}"',
        "    secret: ${CHAOS_SECRET}",
        "    timeout: 2s",
    ]
    path = work / "config.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _when(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%a %H:%M")


# ---- the daemon in a child process ----------------------------------------------------------------

KILL_TRIGGERS = ("delay", "page", "alert")
RECRASH = 0.2
"""The chance that a restarted daemon is killed again during its first poll (a crash loop)."""
"""delay: a random moment of the poll; page: right after the k-th page was handed to the writer;
alert: right after the receiver accepted a notification (before the daemon marks it delivered)."""


class ChaosError(RuntimeError):
    """The worker misbehaved in a way no fault explains (died unasked, hung): the run fails."""


def _emit(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _short_sleep(seconds: float) -> None:
    """Backoff in simulated time: a retry waits at most 50 ms of wall time."""
    time.sleep(min(seconds, 0.05))


class MarkingProvider:
    """A provider that tells the driver where the poll is: "page" when a page is handed to the poller
    (which then prices and writes it), "wrote" when the poller asks for the next page (the previous
    one is committed), "costs" when the billed costs were fetched (then: billed write, budgets,
    snapshot, outbox)."""

    def __init__(self, inner: Provider) -> None:
        self.inner = inner
        self.provider, self.account = inner.provider, inner.account
        self.endpoints, self.bucket_width, self.stats = inner.endpoints, inner.bucket_width, inner.stats

    def fetch_usage(
        self, endpoint: str, start: int, end: int, *, observed_at: int, now: int
    ) -> Iterator[UsagePage]:
        for page in self.inner.fetch_usage(endpoint, start, end, observed_at=observed_at, now=now):
            _emit(f"page {self.account} {endpoint} {len(page.rows)}")
            yield page
            _emit("wrote")

    def fetch_costs(self, start: int, end: int, *, now: int) -> Iterator[list[BilledCost]]:
        yield from self.inner.fetch_costs(start, end, now=now)
        _emit(f"costs {self.account}")

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, name: str) -> Any:
        """Every other part of the Provider seam (balances, price shares, ...) is the inner adapter's."""
        return getattr(self.inner, name)


def worker_main(config_path: Path, clock_path: Path) -> int:
    """The child: a Daemon on the simulated clock, polling on "poll", draining on "drain" (stdin)."""
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    config = load_config(config_path)

    def factory(cfg: ProviderConfig, _sleep: Callable[[float], None]) -> Provider:
        return MarkingProvider(make_provider(cfg, sleep=_short_sleep))

    daemon = Daemon(config, clock=FileClock(clock_path), provider_factory=factory)
    _emit("ready")
    for line in sys.stdin:
        command = line.strip()
        if command == "poll":
            failed = [a for a in daemon.pollers if not daemon.poll_account(a).ok]
            _emit("done " + ("failed " + ",".join(failed) if failed else "ok"))
        elif command == "drain":
            daemon.deliver_alerts()
            with Ledger.open(config.storage.path) as ledger:
                _emit(f"done pending {AlertStore(ledger).pending_count()}")
        elif command == "quit":
            break
    daemon.stop()
    return 0


@dataclass(frozen=True)
class Outcome:
    """How a command ended: `reply` (after "done ") or a kill, with the phase the kill landed in."""

    killed: bool
    reply: str = ""
    phase: str = ""
    seconds: float = 0.0

    @property
    def done(self) -> bool:
        return not self.killed


class Worker:
    """The driver's handle on the daemon child: start, send a command, SIGKILL it on a trigger."""

    def __init__(self, script: Path, config: Path, clock: Path, env: dict[str, str], log: Path) -> None:
        self.argv = [sys.executable, str(script), "--worker", str(config), str(clock)]
        self.env = {**os.environ, **env}
        self.log = log
        self._proc: subprocess.Popen[str] | None = None
        self._events: queue.Queue[str | None] = queue.Queue()
        self._lock = threading.Lock()
        self._armed: str | None = None
        self._killed_by: str | None = None

    def start(self) -> None:
        self._release()
        with self.log.open("a", encoding="utf-8") as log:
            proc = subprocess.Popen(
                self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=self.env, text=True
            )
        self._proc, self._events, self._killed_by = proc, queue.Queue(), None
        threading.Thread(target=self._read, args=(proc, self._events), daemon=True).start()
        try:
            first = self._events.get(timeout=60)
        except queue.Empty:
            first = "no answer in 60 s"
        if first != "ready":
            raise ChaosError(f"the daemon worker did not start ({first!r}); see {self.log}")

    @staticmethod
    def _read(proc: subprocess.Popen[str], events: queue.Queue[str | None]) -> None:
        assert proc.stdout is not None
        with proc.stdout:
            for line in proc.stdout:
                events.put(line.rstrip("\n"))
        events.put(None)

    def fire(self, trigger: str) -> None:
        """SIGKILL the child if `trigger` is armed (called from the driver or the receiver's thread)."""
        with self._lock:
            if self._armed != trigger or self._proc is None or self._proc.poll() is not None:
                return
            self._proc.kill()
            self._armed, self._killed_by = None, trigger

    def run(
        self,
        command: str,
        *,
        trigger: str | None = None,
        page: int = 1,
        delay: float = 0.0,
        timeout: float = 180,
    ) -> Outcome:
        proc = self._proc
        if proc is None or proc.stdin is None:
            raise ChaosError("the daemon worker is not running")
        with self._lock:
            self._armed, self._killed_by = trigger, None
        started = time.monotonic()
        try:
            proc.stdin.write(command + "\n")
            proc.stdin.flush()
        except OSError:
            raise ChaosError(f"the daemon worker is gone (exit {proc.poll()}); see {self.log}") from None
        markers: list[str] = []
        while True:
            wait = timeout
            if self._armed == "delay":
                wait = max(0.0, started + delay - time.monotonic())
            try:
                line = self._events.get(timeout=wait)
            except queue.Empty:
                if self._armed == "delay":
                    self.fire("delay")
                    continue
                proc.kill()
                raise ChaosError(
                    f"the daemon worker hung on {command!r} for {timeout}s; see {self.log}"
                ) from None
            if line is None:
                proc.wait()
                if self._killed_by is None:
                    raise ChaosError(
                        f"the daemon worker died during {command!r} (exit {proc.returncode}); see {self.log}"
                    )
                return Outcome(
                    True, phase=_phase(self._killed_by, markers), seconds=time.monotonic() - started
                )
            markers.append(line)
            if (
                line.startswith("page")
                and self._armed == "page"
                and sum(m.startswith("page") for m in markers) >= page
            ):
                self.fire("page")
            elif line.startswith("done "):
                with self._lock:
                    killed, self._armed = self._killed_by, None
                if killed is None:
                    return Outcome(False, reply=line[5:], seconds=time.monotonic() - started)

    def stop(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None and proc.stdin is not None:
            try:
                proc.stdin.write("quit\n")
                proc.stdin.flush()
                proc.wait(timeout=15)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
        self._release()

    def _release(self) -> None:
        """Reap the previous child (killed or stopped) and close its stdin."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if proc.stdin is not None:
            with contextlib.suppress(OSError):  # the pipe's reader died with unflushed data
                proc.stdin.close()


def _phase(trigger: str, markers: list[str]) -> str:
    if trigger == "alert":
        return "alert accepted by the receiver, not yet marked"
    last = markers[-1] if markers else ""
    if last.startswith("page"):
        return "mid-page: fetched, write not committed"
    if last.startswith("costs"):
        return "after the fetch: budgets, snapshot, outbox"
    if last.startswith("done"):
        return "idle, after the poll"
    return "fetching: requests, retries, backoff"


# ---- the summary -----------------------------------------------------------------------------------


def summary(report: ChaosReport) -> str:
    rows: list[tuple[str, object]] = [
        ("cycles (simulated hours)", f"{report.cycles} ({report.simulated_hours:.1f} h)"),
        ("SIGKILLs", report.kills),
        *((f"  killed: {phase}", n) for phase, n in sorted(report.kill_phases.items())),
        ("fault injections / faulted requests", f"{sum(report.faults_injected.values())} / {sum(report.faults_applied.values())}"),
        *((f"  {name}", f"{report.faults_injected[name]} / {report.faults_applied[name]}") for name in FAULTS),
        ("receiver up / 500 / down (cycles)", "{up} / {error} / {down}".format(**{m: report.receiver_modes[m] for m in ("up", "error", "down")})),
        ("requests at the simulator", report.requests),
        ("ledger rows", report.rows),
        *((f"{c.provider}: ledger vs truth", f"{usd(c.ledger_cost)} vs {usd(c.truth_cost)}") for c in report.comparisons),
        ("alerts queued (outbox entries)", report.alerts_queued),
        ("distinct keys delivered", report.keys_delivered),
        ("accepted on the wire / refused (500)", f"{report.wire_accepted} / {report.wire_refused}"),
        ("duplicates on the wire (same key)", report.wire_duplicates),
        ("outbox pending", report.pending),
        ("wall time", f"{report.wall:.1f} s"),
    ]  # fmt: skip
    checks = [("PASS" if c.ok else "FAIL", c.name, c.detail) for c in report.checks]
    return table(("measure", "value"), rows) + "\n\n" + table(("check", "what", "detail"), checks)


def cli(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--worker"]:
        return worker_main(Path(args[1]), Path(args[2]))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    defaults = ChaosOptions()
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--cycles", type=int, default=defaults.cycles)
    parser.add_argument(
        "--kills", type=int, default=defaults.kills, help="SIGKILLs to land (>= 20 by default)"
    )
    parser.add_argument(
        "--keep", type=Path, help="work in this directory and keep it (ledger, config, daemon log)"
    )
    parsed = parser.parse_args(args)
    if parsed.cycles < 2 or parsed.kills > parsed.cycles:
        parser.error("--cycles must be >= 2 and --kills <= --cycles")
    logging.basicConfig(level=logging.WARNING)
    options = ChaosOptions(seed=parsed.seed, cycles=parsed.cycles, kills=parsed.kills, workdir=parsed.keep)
    print(f"chaos: seed {options.seed}, {options.cycles} cycles, {options.kills} kills", flush=True)
    report = run_chaos(options, log=lambda line: print(line, flush=True))
    print()
    print(summary(report))
    print("\nchaos: " + ("all checks passed" if report.ok else "CHECKS FAILED"))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(cli())
