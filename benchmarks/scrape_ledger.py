"""Benchmark: the real daemon's /metrics scrape time and memory against the ledger's size (1M, 10M rows).

    .venv/bin/python benchmarks/scrape_ledger.py [--rows N ...] [--scrapes N] [--renders N] [--quick]

For each ledger size a ledger is generated with benchmarks/budgets.py's generator, widened to
12,000 label combinations over 200 projects so the daemon's snapshot holds about 50,000 series,
and cached under --out (keyed by rows, UTC day and schema; the rows run to the end of the current
UTC day, so the day and month gauges have the same shape whatever the hour). A copy of it is the
`storage.path` of a real `spend-monitor run` subprocess whose two accounts poll a small simulated
org on loopback (poll_interval 1h: they poll once at start). Once the daemon is ready and idle,
this process times --scrapes scrapes of /metrics over loopback with httpx, with Prometheus' Accept
header and gzip (as Prometheus scrapes) and without gzip; parses the exposition into metric
families and times `prometheus_client.generate_latest` over the same series (--renders runs); and
reads the daemon's VmRSS and VmHWM from /proc/<pid>/status after the first refresh (when the
server comes up), after the startup polls' refreshes, and after the scrapes.

Targets per ledger size: gzip scrape median <= 10 ms and >= 20x faster than generate_latest; the
daemon's VmRSS <= 100 MB (10^6 bytes); and the largest ledger's scrape median within noise of the
smallest's (<= 1.25x + 0.5 ms). Prints a table; returns 1 when a target is missed. --quick is a
smoke run of the machinery (small ledgers, few scrapes).
"""

from __future__ import annotations

import argparse
import http.client
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from prometheus_client import generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.budgets import build_ledger, schema_tag
from benchmarks.common import budgets_yaml, free_port, spawn_daemon, table
from benchmarks.scrape import httpx_scrape, timed
from monitor.simulator import Simulator

ROOT = Path(__file__).resolve().parent.parent
DAY = 86_400
WIDE_PROJECTS = [f"proj_{i:03d}" for i in range(200)]
COMBOS = 12_000
"""(provider, account, project, api_key, model, tier) combinations: ~8,100 usage label sets x 5
series (requests, tokens and cost of input and output) + ~4,500 month and ~4,300 day spend gauges."""
SERIES_LIMIT = 60_000
MB = 1_000_000
RSS_TARGET_MB = 100
SCRAPE_TARGET_MS = 10.0
SPEEDUP_TARGET = 20.0
GROWTH_FACTOR, GROWTH_SLACK_MS = 1.25, 0.5
OPENAI_KEY, ANTHROPIC_KEY = "sk-admin-bench-scrape", "sk-ant-admin-bench-scrape"


@dataclass
class Run:
    """One ledger size's figures. Memory in MB (10^6 bytes), times in seconds."""

    rows: int
    series: int = 0
    up_s: float = 0.0
    ready_s: float = 0.0
    gzip: list[float] = field(default_factory=list)
    plain: list[float] = field(default_factory=list)
    gzip_bytes: int = 0
    plain_bytes: int = 0
    render: list[float] = field(default_factory=list)
    render_series: int = 0
    memory: dict[str, tuple[float, float]] = field(default_factory=dict)
    """moment -> (VmRSS, VmHWM)."""

    @property
    def scrape_ms(self) -> float:
        return statistics.median(self.gzip) * 1000

    @property
    def speedup(self) -> float:
        return statistics.median(self.render) * 1000 / self.scrape_ms

    @property
    def rss_mb(self) -> float:
        return max(rss for rss, _ in self.memory.values())

    @property
    def hwm_mb(self) -> float:
        return max(hwm for _, hwm in self.memory.values())


# ---- the ledger ----------------------------------------------------------------------------------


def cached_ledger(out: Path, rows: int, now: datetime) -> Path:
    """The generated ledger of `rows` rows ending at the end of `now`'s UTC day, built when missing.

    Ledgers of the same size from earlier days (or schemas) are deleted when a new one is built.
    """
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"scrape-ledger-{rows}-{now:%Y%m%d}-{schema_tag(out)}.db"
    if not path.exists():
        for stale in out.glob(f"scrape-ledger-{rows}-*.db"):
            stale.unlink()
        end = int(now.timestamp()) // DAY * DAY + DAY
        print(f"building a {rows:,}-row ledger (cached for today): {path}", flush=True)
        build_ledger(path, rows, end, combos=COMBOS, projects=WIDE_PROJECTS)
    return path


def write_config(path: Path, sim: Simulator, port: int, db: Path) -> None:
    """The daemon's config: the ledger copy, two small simulated accounts polled once, two budgets."""
    path.write_text(
        f"""listen: "127.0.0.1:{port}"
log_level: WARNING
storage:
  path: "{db}"
providers:
  - name: openai-sim
    type: openai
    api_key: ${{BENCH_OPENAI_KEY}}
    base_url: "{sim.openai_base_url}"
    poll_interval: 1h
    initial_lookback: 1d
    endpoints: [completions]
  - name: anthropic-sim
    type: anthropic
    api_key: ${{BENCH_ANTHROPIC_KEY}}
    base_url: "{sim.anthropic_base_url}"
    poll_interval: 1h
    initial_lookback: 1d
{budgets_yaml()}
metrics:
  series_limit: {SERIES_LIMIT}
""",
        encoding="utf-8",
    )


# ---- the daemon process --------------------------------------------------------------------------


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of process `pid` in MB, from /proc/<pid>/status."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) * 1024 / MB
    return fields["VmRSS"], fields["VmHWM"]


def cpu_ticks(pid: int) -> int:
    """User + system CPU time of `pid` in clock ticks (fields 14 and 15 of /proc/<pid>/stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    after_name = stat.rsplit(")", 1)[1].split()
    return int(after_name[11]) + int(after_name[12])


def get_status(port: int, path: str) -> int | None:
    """The HTTP status of GET `path`, or None while nothing answers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError:
        return None
    finally:
        conn.close()


def wait_for(proc: subprocess.Popen[bytes], check: Callable[[], bool], what: str, timeout: float) -> float:
    """Seconds until `check()` is true, polling every 0.1 s; RuntimeError if the daemon exits or time runs out."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"the daemon exited with {proc.returncode} while waiting for {what}")
        if check():
            return time.monotonic() - started
        time.sleep(0.1)
    raise RuntimeError(f"the daemon did not reach {what} within {timeout:.0f} s")


def wait_idle(proc: subprocess.Popen[bytes], timeout: float, quiet_ticks: int = 2) -> None:
    """Wait until the daemon used at most `quiet_ticks` CPU ticks in each of two consecutive seconds:
    its startup polls and the refreshes after them are done."""
    started, quiet = time.monotonic(), 0
    last = cpu_ticks(proc.pid)
    while quiet < 2:
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"the daemon did not go idle within {timeout:.0f} s")
        time.sleep(1.0)
        now = cpu_ticks(proc.pid)
        quiet = quiet + 1 if now - last <= quiet_ticks else 0
        last = now


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---- measuring -----------------------------------------------------------------------------------


class _Families(Collector):
    """Parsed metric families, handed to generate_latest as an on-demand exporter would build them."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> list[Metric]:
        return self.families


def snapshot_series(text: str) -> int:
    for line in text.splitlines():
        if line.startswith("spend_monitor_snapshot_series "):
            return int(float(line.split()[1]))
    raise RuntimeError("the exposition has no spend_monitor_snapshot_series gauge")


def measure(run: Run, port: int, pid: int, scrapes: int, renders: int) -> None:
    """Scrape timings, the generate_latest comparison and the daemon's memory after the scrapes."""
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False, timeout=60) as client:
        text = client.get("/metrics", headers={"Accept": "text/plain"}).text
        gzip_run = httpx_scrape(client, "gzip", decode=False)
        plain_run = httpx_scrape(client, "identity", decode=False)
        run.gzip_bytes, run.plain_bytes = gzip_run(), plain_run()
        run.gzip = timed(gzip_run, scrapes)
        run.plain = timed(plain_run, scrapes)
    run.memory["after scrapes"] = memory_mb(pid)
    run.series = snapshot_series(text)
    families = list(text_string_to_metric_families(text))
    run.render_series = sum(len(f.samples) for f in families)
    collector = _Families(families)
    generate_latest(collector)  # warm up
    run.render = timed(lambda: generate_latest(collector), renders)


def bench(rows: int, ledger: Path, scrapes: int, renders: int) -> Run:
    """Start the daemon on a copy of `ledger`, wait until it is ready and idle, and measure."""
    run = Run(rows)
    port = free_port()
    with (
        tempfile.TemporaryDirectory(prefix="spend-monitor-scrape-ledger-") as tmp,
        Simulator(
            seed=1,
            projects=1,
            api_keys_per_project=1,
            openai_key=OPENAI_KEY,
            anthropic_key=ANTHROPIC_KEY,
        ) as sim,
    ):
        work = Path(tmp)
        db = work / "spend.db"
        shutil.copyfile(ledger, db)
        config = work / "config.yaml"
        write_config(config, sim, port, db)
        keys = {"BENCH_OPENAI_KEY": OPENAI_KEY, "BENCH_ANTHROPIC_KEY": ANTHROPIC_KEY}
        proc = spawn_daemon(config, keys, work / "daemon.log")
        try:
            # The server starts right after the daemon's first refresh.
            run.up_s = wait_for(proc, lambda: get_status(port, "/healthz") is not None, "/healthz", 900)
            run.memory["after the first refresh"] = memory_mb(proc.pid)
            run.ready_s = run.up_s + wait_for(proc, lambda: get_status(port, "/readyz") == 200, "ready", 900)
            wait_idle(proc, 900)
            run.memory["after the startup polls"] = memory_mb(proc.pid)
            measure(run, port, proc.pid, scrapes, renders)
        except Exception:
            print(
                (work / "daemon.log").read_text(encoding="utf-8", errors="replace")[-3000:], file=sys.stderr
            )
            raise
        finally:
            stop(proc)
    return run


# ---- reporting -----------------------------------------------------------------------------------


def p90(times: list[float]) -> float:
    return statistics.quantiles(times, n=10)[-1] if len(times) > 1 else times[0]


def report(runs: list[Run]) -> bool:
    """Print the tables and the verdicts; True when every target is met."""
    rows = []
    for r in runs:
        rows.append(
            [
                f"{r.rows:,}",
                f"{r.series:,} / {r.render_series:,}",
                f"{r.ready_s:.1f}",
                f"{r.scrape_ms:.2f} / {p90(r.gzip) * 1000:.2f}",
                f"{statistics.median(r.plain) * 1000:.2f} / {p90(r.plain) * 1000:.2f}",
                f"{statistics.median(r.render) * 1000:.0f}",
                f"{r.speedup:.0f}x",
                f"{r.gzip_bytes:,} / {r.plain_bytes:,}",
            ]
        )
    print(
        table(
            [
                "ledger rows",
                "series: snapshot / samples rendered",
                "ready s",
                "gzip ms med/p90",
                "no gzip ms med/p90",
                "generate_latest ms",
                "speedup",
                "bytes gzip/plain",
            ],
            rows,
        )
    )
    print()
    moments = list(runs[0].memory)
    print(
        table(
            ["ledger rows", *(f"{m}: RSS / HWM MB" for m in moments)],
            [
                [f"{r.rows:,}", *(f"{r.memory[m][0]:.1f} / {r.memory[m][1]:.1f}" for m in moments)]
                for r in runs
            ],
        )
    )
    print()
    ok = True
    for r in runs:
        met = r.scrape_ms <= SCRAPE_TARGET_MS and r.speedup >= SPEEDUP_TARGET and r.rss_mb <= RSS_TARGET_MB
        ok &= met
        print(
            f"{r.rows:,} rows: scrape median {r.scrape_ms:.2f} ms (target <= {SCRAPE_TARGET_MS:.0f}), "
            f"{r.speedup:.0f}x generate_latest (target >= {SPEEDUP_TARGET:.0f}x), "
            f"RSS {r.rss_mb:.1f} MB, peak {r.hwm_mb:.1f} MB (target <= {RSS_TARGET_MB}): "
            + ("met" if met else "MISSED")
        )
    if len(runs) > 1:
        small, large = min(runs, key=lambda r: r.rows), max(runs, key=lambda r: r.rows)
        bound = small.scrape_ms * GROWTH_FACTOR + GROWTH_SLACK_MS
        flat = large.scrape_ms <= bound
        ok &= flat
        print(
            f"scrape median {large.rows:,} rows vs {small.rows:,}: {large.scrape_ms:.2f} vs "
            f"{small.scrape_ms:.2f} ms (x{large.scrape_ms / small.scrape_ms:.2f}; "
            f"within noise means <= {bound:.2f} ms): " + ("flat" if flat else "GREW")
        )
    print("targets met" if ok else "TARGET MISSED")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows",
        type=int,
        nargs="+",
        help="ledger sizes to run (default 1,000,000 and 10,000,000; --quick: 20,000 and 100,000)",
    )
    parser.add_argument("--scrapes", type=int, help="scrapes timed per variant (default 200; --quick 20)")
    parser.add_argument("--renders", type=int, help="generate_latest runs timed (default 20; --quick 3)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: small ledgers, few scrapes")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(tempfile.gettempdir()) / "spend-monitor-bench-scrape-ledger",
        help="where generated ledgers are cached",
    )
    args = parser.parse_args(argv)
    sizes = args.rows or ([20_000, 100_000] if args.quick else [1_000_000, 10_000_000])
    scrapes = args.scrapes or (20 if args.quick else 200)
    renders = args.renders or (3 if args.quick else 20)
    now = datetime.now(UTC)
    runs = []
    for rows in sizes:
        ledger = cached_ledger(args.out, rows, now)
        print(f"{rows:,} rows: starting the daemon on a copy of {ledger.name}", flush=True)
        runs.append(bench(rows, ledger, scrapes, renders))
    return 0 if report(runs) else 1


if __name__ == "__main__":
    sys.exit(main())
