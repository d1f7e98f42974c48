"""Soak run (`make soak`): the daemon polls a large organisation while /metrics is scraped 100 times a second.

    .venv/bin/python benchmarks/soak.py [--seconds 300] [--rate 100] [--projects 200] [--keep DIR]
        [--python .venv-run/bin/python] [--tree DIR]

The simulator (200 projects, the ten `BENCHMARK_OPENAI_MODELS`, the three default Claude models,
real clock) runs in this process. The daemon is a real `spend-monitor run --config F` subprocess
polling both accounts every 15 s with the default 48 h revision window, so every poll re-fetches,
re-prices and re-writes two days of usage. It runs on what ships: `--python` (default
`.venv-run/bin/python`, the virtualenv `make soak` builds like the Docker image, with the runtime
dependencies only and no dev or plot extras, so no numpy) runs the code of `--tree` (default this
repository; give another checkout, e.g. a `git archive` of main, to measure before and after side
by side with the same harness). Once it is ready (first poll done), a second process
scrapes `/metrics` for --seconds at --rate, paced open-loop (scrape i is due at i / rate, sent on
one of 4 keep-alive connections, gzip, Prometheus' Accept header) and bounded (while more than 40
scrapes wait, new ones are skipped and counted instead of piling up). Meanwhile this process
reads the memory of the daemon and its child process (the web server) from /proc every few seconds
(benchmarks/memory.py: the resident pages of both, each counted once, where the kernel shows page
frame numbers, i.e. as root; and always their VmRSS summed, an upper bound that counts the ~10 MiB
they share twice) and its own `spend_monitor_poll_duration_seconds` histogram, whose sum/count
increments give each poll's duration.

Reports scrape latency percentiles, poll durations and memory over time. Fails (exit 1) when the
memory (resident pages where known, else summed VmRSS) grows after warm-up: the floor (minimum) of the last third of the samples above the floor of the
middle third by more than max(5%, 8 MiB); the first third is the warm-up. The floor, not the
median: each poll parses, prices and writes tens of thousands of rows and the daemon hands the
heap back after each refresh, so RSS swings by a hundred MiB with the poll cycle and a median
depends on where the samples fall in it, while retained memory (a leak) raises the floor. The
medians and peaks are reported too. Also fails when a scrape fails (an error or a
non-200; skipped ones are reported, not failed), when an account completed fewer than 2 polls
during the soak, when fewer than 90% of --rate scrapes a second were answered, or when SIGTERM
does not stop the daemon with exit 0 within 15 s.

Reports against the targets of issue 15 (not checks: they depend on the machine): the floor (the
minimum after warm-up) <= 100 MB, the peak <= 150 MB, and the scrape p99 <= 25 ms. The peak is the
largest of the samples and of a bound no sample can miss: the daemon's VmHWM (the kernel's
high-water mark) plus the most the child held beside it (with resident pages), or the processes'
VmHWM summed (without). MB are 10^6 bytes; the tables show MiB beside them.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import math
import queue
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, budgets_yaml, free_port, percentile, spawn_daemon, table
from benchmarks.memory import process_tree, sample_tree, tree_kib, vm_kib
from monitor.simulator import BENCHMARK_OPENAI_MODELS, Simulator

PROMETHEUS_ACCEPT = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
SCRAPERS = 4
"""Keep-alive connections the scraper sends on (Prometheus scrapes each target on one; several
Prometheus servers or a federation tier are several)."""
RUN_VENV_PYTHON = ROOT / ".venv-run" / "bin" / "python"
"""The interpreter `make soak` builds like the image: runtime dependencies only (Makefile)."""
TARGET_FLOOR_MB, TARGET_PEAK_MB, TARGET_P99_MS = 100, 150, 25
MB_PER_KIB = 1024 / 1e6
RSS_TOLERANCE = 0.05
RSS_SLACK_KIB = 8 * 1024
OPENAI_KEY, ANTHROPIC_KEY = "sk-admin-soak-openai", "sk-ant-admin-soak-anthropic"
_DURATION = re.compile(
    r'^spend_monitor_poll_duration_seconds_(sum|count)\{[^}]*account="([^"]+)"[^}]*\} (\S+)', re.MULTILINE
)


# ---- the scraper (a separate process) ----------------------------------------------------------


def scraper_main(port: int, rate: float, seconds: float, out: Path) -> int:
    """Scrape http://127.0.0.1:PORT/metrics `rate` times a second for `seconds`; write figures to `out`.

    Open loop: scrape i is due at start + i / rate whatever the earlier ones took (so a slow
    response cannot hide the ones that would have queued behind it), sent by one of SCRAPERS
    keep-alive connections. `latency` is send -> last byte; `late` is due -> last byte.
    """
    jobs: queue.Queue[float | None] = queue.Queue()
    latencies: list[float] = []
    late: list[float] = []
    errors: list[str] = []
    sizes: list[int] = []
    skipped = 0
    headers = {"Accept": PROMETHEUS_ACCEPT, "Accept-Encoding": "gzip"}

    def scrape_loop() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while (due := jobs.get()) is not None:
            sent = time.monotonic()
            try:
                conn.request("GET", "/metrics", headers=headers)
                response = conn.getresponse()
                body = response.read()
                if response.status != 200:
                    errors.append(f"HTTP {response.status}")
                sizes.append(len(body))
            except (OSError, http.client.HTTPException) as exc:
                errors.append(type(exc).__name__)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            done = time.monotonic()
            latencies.append(done - sent)
            late.append(done - due)
        conn.close()

    threads = [threading.Thread(target=scrape_loop) for _ in range(SCRAPERS)]
    for thread in threads:
        thread.start()
    started = time.monotonic()
    total = int(rate * seconds)
    for i in range(total):
        due = started + i / rate
        time.sleep(max(0.0, due - time.monotonic()))
        if jobs.qsize() > SCRAPERS * 10:  # bounded: while the daemon stalls, shed load, do not pile up
            skipped += 1
            continue
        jobs.put(due)
    for _ in threads:
        jobs.put(None)
    for thread in threads:
        thread.join()
    figures = {
        "latencies": latencies,
        "late": late,
        "errors": errors,
        "skipped": skipped,
        "elapsed": time.monotonic() - started,
        "bytes": statistics.median(sizes) if sizes else 0,
    }
    out.write_text(json.dumps(figures), encoding="utf-8")
    return 0


# ---- the soak ----------------------------------------------------------------------------------


@dataclass
class SoakResult:
    ready_after: float = 0.0
    scrape: dict[str, float] = field(default_factory=dict)
    scrape_errors: list[str] = field(default_factory=list)
    scrape_skipped: int = 0
    scrape_rate: float = 0.0
    scrape_bytes: int = 0
    polls: dict[str, list[float]] = field(default_factory=dict)
    summed: list[tuple[float, int]] = field(default_factory=list)
    """(seconds into the soak, KiB): the VmRSS of the daemon and its children, summed."""
    resident: list[tuple[float, int]] = field(default_factory=list)
    """(seconds into the soak, KiB): their resident pages, each counted once (empty as non-root)."""
    children_only_kib: int = 0
    """The most the children held in pages the daemon does not map (with resident pages)."""
    hwm_kib: int = 0
    """The sum of the VmHWM (peak RSS) of the daemon and its children at the end of the soak."""
    daemon_hwm_kib: int = 0
    processes: int = 1
    exit_code: int | None = None
    checks: list[tuple[str, bool, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(ok for _, ok, _ in self.checks)

    @property
    def counted_once(self) -> bool:
        """True when every sample has the resident pages counted once."""
        return bool(self.resident) and len(self.resident) == len(self.summed)

    @property
    def memory(self) -> list[tuple[float, int]]:
        """The samples the targets and the growth check use: resident pages, else summed VmRSS."""
        return self.resident if self.counted_once else self.summed

    @property
    def peak_bound_kib(self) -> int:
        """A peak no sample can miss: the daemon's VmHWM plus the most its children held beside it,
        or (without resident pages) the processes' VmHWM summed."""
        return self.daemon_hwm_kib + self.children_only_kib if self.counted_once else self.hwm_kib


def poll_histogram(port: int) -> dict[str, tuple[float, int]]:
    """account -> (sum, count) of the daemon's spend_monitor_poll_duration_seconds."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/metrics", headers={"Accept-Encoding": "gzip"})
        response = conn.getresponse()
        body = response.read()
        if response.getheader("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
    finally:
        conn.close()
    found: dict[str, dict[str, float]] = {}
    for kind, account, value in _DURATION.findall(body.decode()):
        found.setdefault(account, {})[kind] = float(value)
    return {a: (v.get("sum", 0.0), int(v.get("count", 0))) for a, v in found.items()}


def wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the daemon exited with {proc.returncode} before it was ready")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.5)
    raise RuntimeError(f"the daemon was not ready within {timeout:.0f} s")


def write_config(path: Path, sim: Simulator, port: int, db: Path, interval: str, lookback: str) -> None:
    providers = "".join(
        f"""
  - name: {name}
    type: {kind}
    api_key: ${{{env}}}
    base_url: "{url}"
    poll_interval: {interval}
    initial_lookback: {lookback}"""
        for name, kind, env, url in (
            ("openai-soak", "openai", "SOAK_OPENAI_KEY", sim.openai_base_url),
            ("anthropic-soak", "anthropic", "SOAK_ANTHROPIC_KEY", sim.anthropic_base_url),
        )
    )
    path.write_text(
        f"""listen: "127.0.0.1:{port}"
log_level: WARNING
storage:
  path: "{db}"
providers:{providers}
{budgets_yaml()}
""",
        encoding="utf-8",
    )


def soak(args: argparse.Namespace, work: Path) -> SoakResult:
    result = SoakResult()
    port = free_port()
    with Simulator(
        seed=args.seed,
        projects=args.projects,
        openai_models=BENCHMARK_OPENAI_MODELS,
        openai_key=OPENAI_KEY,
        anthropic_key=ANTHROPIC_KEY,
    ) as sim:
        config = work / "config.yaml"
        write_config(config, sim, port, work / "spend.db", args.poll_interval, args.lookback)
        keys = {"SOAK_OPENAI_KEY": OPENAI_KEY, "SOAK_ANTHROPIC_KEY": ANTHROPIC_KEY}
        daemon = spawn_daemon(config, keys, work / "daemon.log", python=args.python, tree=args.tree)
        try:
            started = time.monotonic()
            wait_ready(port, daemon, timeout=300)
            result.ready_after = time.monotonic() - started
            print(
                f"soak: daemon ready after {result.ready_after:.1f} s; scraping for {args.seconds} s",
                flush=True,
            )
            _measure(args, work, port, daemon.pid, result)
        finally:
            if daemon.poll() is None:
                daemon.send_signal(signal.SIGTERM)
                try:
                    result.exit_code = daemon.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    daemon.kill()
                    daemon.wait()
    _check(args, result)
    return result


def _measure(args: argparse.Namespace, work: Path, port: int, pid: int, result: SoakResult) -> None:
    out = work / "scrapes.json"
    scraper = subprocess.Popen(
        [sys.executable, __file__, "--scraper", str(port), str(args.rate), str(args.seconds), str(out)]
    )
    started = time.monotonic()
    last = poll_histogram(port)
    result.polls = {account: [] for account in last}
    while scraper.poll() is None:
        now = time.monotonic() - started
        sample = sample_tree(pid)
        result.summed.append((now, sample.summed))
        if sample.resident is not None and sample.children_only is not None:
            result.resident.append((now, sample.resident))
            result.children_only_kib = max(result.children_only_kib, sample.children_only)
        current = poll_histogram(port)
        for account, (total, count) in current.items():
            before_total, before_count = last.get(account, (0.0, 0))
            if count > before_count:  # one or more polls finished since the last look
                mean = (total - before_total) / (count - before_count)
                result.polls.setdefault(account, []).extend([mean] * (count - before_count))
        last = current
        if len(result.summed) % 10 == 0:
            counted = f"  counted once {sample.resident / 1024:.1f} MiB" if sample.resident else ""
            print(
                f"soak: {now:5.0f} s  RSS summed {sample.summed / 1024:.1f} MiB{counted}  "
                f"polls {sum(map(len, result.polls.values()))}",
                flush=True,
            )
        time.sleep(args.rss_every)
    result.hwm_kib = tree_kib(pid, "VmHWM")
    result.daemon_hwm_kib = vm_kib(pid, "VmHWM")
    result.processes = len(process_tree(pid))
    figures = json.loads(out.read_text(encoding="utf-8"))
    latencies = figures["latencies"]
    result.scrape = {q: percentile(latencies, float(q[1:])) for q in ("p50", "p90", "p99")}
    result.scrape["max"] = max(latencies, default=float("nan"))
    result.scrape["late_p99"] = percentile(figures["late"], 99)
    result.scrape["count"] = len(latencies)
    result.scrape_errors = figures["errors"]
    result.scrape_skipped = figures["skipped"]
    result.scrape_rate = len(latencies) / figures["elapsed"] if figures["elapsed"] else 0.0
    result.scrape_bytes = figures["bytes"]


def thirds(samples: list[int]) -> tuple[list[int], list[int]]:
    """The middle and the last third of the RSS samples (the first third is the warm-up)."""
    third = len(samples) // 3
    return samples[third : 2 * third], samples[2 * third :]


def _check(args: argparse.Namespace, result: SoakResult) -> None:
    samples = [kib for _, kib in result.memory]
    if len(samples) >= 6:
        middle, last = thirds(samples)
        allowed = max(RSS_TOLERANCE * min(middle), RSS_SLACK_KIB)
        mib = [f"{f(third) / 1024:.1f}" for f in (min, statistics.median, max) for third in (middle, last)]
        result.checks.append(
            (
                "memory floor does not grow after warm-up",
                min(last) - min(middle) <= allowed,
                f"floor middle/last third {mib[0]} / {mib[1]} MiB (allowed +{allowed / 1024:.1f}); "
                f"median {mib[2]} / {mib[3]}, peak {mib[4]} / {mib[5]}",
            )
        )
    else:
        result.checks.append(
            ("memory floor does not grow after warm-up", False, f"only {len(samples)} samples")
        )
    result.checks.append(
        ("no scrape failed", not result.scrape_errors, f"{len(result.scrape_errors)} errors")
    )
    rate_ok = result.scrape_rate >= 0.9 * args.rate
    result.checks.append(("scrape rate held", rate_ok, f"{result.scrape_rate:.1f}/s of {args.rate}/s"))
    for account, durations in sorted(result.polls.items()):
        result.checks.append((f"{account} kept polling", len(durations) >= 2, f"{len(durations)} polls"))
    result.checks.append(("SIGTERM: exit 0 within 15 s", result.exit_code == 0, f"exit {result.exit_code}"))


def report(args: argparse.Namespace, result: SoakResult) -> str:
    ms = {k: f"{v * 1000:.1f} ms" for k, v in result.scrape.items() if k != "count"}
    rows: list[tuple[str, object]] = [
        (
            "organisation",
            f"{args.projects} projects, {len(BENCHMARK_OPENAI_MODELS)} OpenAI + 3 Claude models",
        ),
        ("poll interval / initial lookback", f"{args.poll_interval} / {args.lookback}"),
        ("ready after (first poll of both accounts)", f"{result.ready_after:.1f} s"),
        ("scrapes / achieved rate", f"{int(result.scrape.get('count', 0))} / {result.scrape_rate:.1f} per s"),
        ("scrape size (gzip)", f"{result.scrape_bytes / 1024:.0f} KiB"),
        (
            "scrape latency p50 / p90 / p99 / max",
            " / ".join(ms.get(k, "-") for k in ("p50", "p90", "p99", "max")),
        ),
        ("scrape p99 from its due time (incl. queueing)", ms.get("late_p99", "-")),
        (
            "scrape errors / skipped (backlog over 40)",
            f"{len(result.scrape_errors)} / {result.scrape_skipped}",
        ),
    ]
    for account, durations in sorted(result.polls.items()):
        if durations:
            rows.append(
                (
                    f"{account} polls: n / median / max",
                    f"{len(durations)} / {statistics.median(durations):.2f} s / {max(durations):.2f} s",
                )
            )
    for name, series in (("VmRSS summed", result.summed), ("resident, counted once", result.resident)):
        if not series:
            continue
        kib = [k for _, k in series]
        rows.append(
            (
                f"{name}: first / min / max / last",
                " / ".join(f"{v / 1024:.1f}" for v in (kib[0], min(kib), max(kib), kib[-1])) + " MiB",
            )
        )
        step = max(1, len(series) // 10)
        rows.append(
            (f"{name} over time (s: MiB)", ", ".join(f"{t:.0f}: {k / 1024:.0f}" for t, k in series[::step]))
        )
    if result.counted_once:
        rows.append(("the web child beside the daemon, most", f"{result.children_only_kib / 1024:.1f} MiB"))
    rows.insert(
        0, ("daemon: interpreter / code / processes", f"{args.python} / {args.tree} / {result.processes}")
    )
    checks = [("PASS" if ok else "FAIL", name, detail) for name, ok, detail in result.checks]
    return "\n\n".join(
        (
            table(("measure", "value"), rows),
            table(("target (issue 15)", "result", "limit", "met?"), targets(result)),
            table(("check", "what", "detail"), checks),
        )
    )


def memory_figures(samples: list[int]) -> dict[str, float]:
    """KiB: the floor (minimum after warm-up, i.e. of the middle and last thirds), the median after
    warm-up and the largest sample."""
    middle, last = thirds(samples)
    settled = middle + last or samples
    return {
        "floor": min(settled, default=math.nan),
        "median": statistics.median(settled) if settled else math.nan,
        "peak": max(samples, default=math.nan),
    }


def _mb(kib: float) -> str:
    return f"{kib * MB_PER_KIB:.1f} MB ({kib / 1024:.1f} MiB)"


def targets(result: SoakResult) -> list[tuple[str, str, str, str]]:
    """The issue 15 targets with this run's figures (reported, not checked)."""
    p99 = result.scrape.get("p99", math.nan) * 1000
    memory = memory_figures([kib for _, kib in result.memory])
    bound = float(result.peak_bound_kib or math.nan)
    peak = max(memory["peak"], bound) if not math.isnan(bound) else memory["peak"]
    what = "resident, shared pages once" if result.counted_once else "VmRSS summed"
    rows = [
        (
            f"memory floor after warm-up ({what})",
            _mb(memory["floor"]),
            f"<= {TARGET_FLOOR_MB} MB",
            memory["floor"] * MB_PER_KIB <= TARGET_FLOOR_MB,
        ),
        (
            f"memory peak: largest sample / VmHWM bound ({what})",
            f"{_mb(memory['peak'])} / {_mb(bound)}",
            f"<= {TARGET_PEAK_MB} MB",
            peak * MB_PER_KIB <= TARGET_PEAK_MB,
        ),
        ("scrape p99 during polls", f"{p99:.1f} ms", f"<= {TARGET_P99_MS} ms", p99 <= TARGET_P99_MS),
    ]
    found = [(name, value, limit, "yes" if ok else "NO") for name, value, limit, ok in rows]
    if result.counted_once:  # the upper bound beside it, as the soak reported it before
        summed = memory_figures([kib for _, kib in result.summed])
        found.append(
            (
                "(for comparison) VmRSS summed: floor / peak / VmHWM summed",
                f"{_mb(summed['floor'])} / {_mb(summed['peak'])} / {_mb(result.hwm_kib)}",
                "-",
                "-",
            )
        )
    return found


def cli(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--scraper"]:
        return scraper_main(int(args[1]), float(args[2]), float(args[3]), Path(args[4]))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=300.0, help="scraping time after warm-up (max 540)")
    parser.add_argument("--rate", type=float, default=100.0, help="scrapes per second")
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--poll-interval", default="15s")
    parser.add_argument("--lookback", default="2d", help="the daemon's initial_lookback")
    parser.add_argument("--rss-every", type=float, default=3.0, help="seconds between RSS samples")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it")
    parser.add_argument(
        "--python",
        type=Path,
        default=RUN_VENV_PYTHON if RUN_VENV_PYTHON.exists() else Path(sys.executable),
        help="the interpreter that runs the daemon (default: .venv-run/bin/python, built by `make soak` "
        "with the runtime dependencies only, as the image has them)",
    )
    parser.add_argument("--tree", type=Path, default=ROOT, help="the source tree whose daemon runs")
    parsed = parser.parse_args(args)
    # absolute, not resolved: the daemon runs in --tree, and a virtualenv's python is a symlink
    # whose target would lose the virtualenv
    parsed.python, parsed.tree = parsed.python.absolute(), parsed.tree.absolute()
    if parsed.python == Path(sys.executable) and parsed.python != RUN_VENV_PYTHON:
        print(
            f"soak: {RUN_VENV_PYTHON} is missing; the daemon runs in this interpreter, with any dev "
            "extras it has (numpy): build it with `make soak` for the figures of what ships",
            flush=True,
        )
    if not 0 < parsed.seconds <= 540 or parsed.rate <= 0:
        parser.error("--seconds must be in (0, 540] (the run stays under 10 minutes) and --rate > 0")
    started = time.monotonic()
    if parsed.keep:
        parsed.keep.mkdir(parents=True, exist_ok=True)
        result = soak(parsed, parsed.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="spend-monitor-soak-") as tmp:
            result = soak(parsed, Path(tmp))
    print()
    print(report(parsed, result))
    print(
        f"\nsoak: {time.monotonic() - started:.0f} s wall; "
        + ("all checks passed" if result.ok else "CHECKS FAILED")
    )
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(cli())
