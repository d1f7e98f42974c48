"""Benchmark: the peak memory of one steady-state poll of a large organisation (fetch, parse, price, write).

    .venv/bin/python benchmarks/poll_memory.py [--projects 200] [--rounds 3] [--baseline REF]

The simulator (in this process, real clock) holds two days of hourly usage of --projects projects
and the ten `BENCHMARK_OPENAI_MODELS`, as `make soak` does. Each round starts a fresh worker
process that builds a real `Daemon` from a config (the OpenAI account, default 48 h revision
window, every usage endpoint), polls once to fill its ledger, hands its heap back (gc + malloc_trim),
resets its peak RSS (`/proc/self/clear_refs`), then polls again: the steady-state poll re-reads the
whole 48 h window (one page of every endpoint), prices and rewrites it. It reports VmRSS before that
poll and VmHWM after it; the growth is what the poll itself costs (the metrics refresh is not part
of it: `AccountPoller.poll` only).

With --baseline REF (e.g. `main`), the source tree of that git ref is exported to a temporary
directory and the same worker runs against it too, rounds interleaved (baseline, current, ...), and
the medians and their ratio are printed side by side.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OPENAI_KEY = "sk-admin-bench-memory"


def _status(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith(field + ":"))


def worker(base_url: str, db: Path) -> dict[str, float]:
    """One process: a first poll, then the measured steady-state poll; figures in MiB and seconds."""
    from monitor.config import load_config  # noqa: PLC0415 (from the tree under test: PYTHONPATH)
    from monitor.daemon import Daemon  # noqa: PLC0415
    from monitor.store import Ledger  # noqa: PLC0415

    config = db.parent / "config.yaml"
    config.write_text(
        f"""listen: "127.0.0.1:9"
storage: {{path: "{db}"}}
providers:
  - name: openai-bench
    type: openai
    api_key: ${{BENCH_OPENAI_KEY}}
    base_url: "{base_url}"
    initial_lookback: 2d
    fetch_costs: false
""",
        encoding="utf-8",
    )
    daemon = Daemon(load_config(config, environ={**os.environ, "BENCH_OPENAI_KEY": OPENAI_KEY}))
    poller = daemon.pollers["openai-bench"]
    with Ledger.open(db) as ledger:
        first = poller.poll(ledger, int(time.time()))
        assert first.ok, [e.error for e in first.endpoints if not e.ok]
        gc.collect()
        ctypes.CDLL(None).malloc_trim(0)
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")  # reset VmHWM to VmRSS
        before = _status("VmRSS")
        started = time.perf_counter()
        steady = poller.poll(ledger, int(time.time()))
        seconds = time.perf_counter() - started
        peak = _status("VmHWM")
    assert steady.ok, [e.error for e in steady.endpoints if not e.ok]
    mib = 2**20
    return {
        "rss_before_mib": before / mib,
        "peak_mib": peak / mib,
        "growth_mib": (peak - before) / mib,
        "rows": steady.rows,
        "seconds": seconds,
    }


def run_worker(code: Path, base_url: str, work: Path) -> dict[str, float]:
    db = Path(tempfile.mkdtemp(dir=work)) / "spend.db"
    env = {**os.environ, "PYTHONPATH": str(code)}
    done = subprocess.run(
        [sys.executable, __file__, "--worker", base_url, str(db)],
        env=env,
        cwd=code,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"worker on {code} failed:\n{done.stderr[-3000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def export(ref: str, into: Path) -> Path:
    """The source tree of git `ref` in `into` (read from the repository, which is not changed)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", metavar="REF", help="also measure this git ref, side by side")
    parser.add_argument("--worker", nargs=2, metavar=("BASE_URL", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.worker:
        print(json.dumps(worker(args.worker[0], Path(args.worker[1]))))
        return 0

    sys.path.insert(0, str(ROOT))
    from monitor.simulator import BENCHMARK_OPENAI_MODELS, Simulator  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="spend-monitor-bench-pollmem-") as tmp:
        work = Path(tmp)
        trees = {"current": ROOT}
        if args.baseline:
            (work / "baseline").mkdir()
            trees = {args.baseline: export(args.baseline, work / "baseline"), **trees}
        with Simulator(
            seed=3, projects=args.projects, openai_models=BENCHMARK_OPENAI_MODELS, openai_key=OPENAI_KEY
        ) as sim:
            results: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
            for _ in range(args.rounds):
                for name, code in trees.items():
                    results[name].append(run_worker(code, sim.openai_base_url, work))
        print(
            f"poll memory: {args.projects} projects x {len(BENCHMARK_OPENAI_MODELS)} models, 48 h window, "
            f"{args.rounds} rounds, medians"
        )
        print(f"{'code':<10} {'rows':>8} {'RSS before':>11} {'peak':>9} {'growth':>9} {'poll':>8}")
        medians: dict[str, float] = {}
        for name, runs in results.items():
            med = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
            medians[name] = med["growth_mib"]
            print(
                f"{name:<10} {med['rows']:>8.0f} {med['rss_before_mib']:>8.1f} MiB {med['peak_mib']:>5.1f} MiB "
                f"{med['growth_mib']:>5.1f} MiB {med['seconds']:>6.2f} s"
            )
        if args.baseline:
            ratio = medians["current"] / medians[args.baseline] if medians[args.baseline] else float("nan")
            print(f"growth, current / {args.baseline}: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
