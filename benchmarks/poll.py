"""Benchmark: the initial and the steady-state poll of a large organisation, and the requests they take.

    .venv/bin/python benchmarks/poll.py [--projects 200] [--days 7]

The simulator holds --days of hourly usage for --projects projects, the ten
`BENCHMARK_OPENAI_MODELS` and the three default Claude models. A real `Daemon` (in this process,
on a settable clock shared with the simulator, default config: all ten OpenAI usage endpoints,
1h buckets, 48 h revision window, billed costs fetched) polls both accounts once with
`initial_lookback` = --days (the backfill), then the clock moves one hour and it polls once more:
the steady state. `Daemon.poll_account` is timed whole: fetch, price, write page by page, budgets,
metrics snapshot and status page.

The requests of the steady-state poll, counted at the simulator (`requests_log`), are compared
with the minimum a correct poll needs: per usage endpoint ceil(buckets / 168) pages for the buckets
from the cursor minus the revision window to the current (partial) hour, and per cost endpoint
ceil(days / limit) pages for the days that window touches (limits: OpenAI 180, Anthropic 31 days
per page, docs/simulator.md). Afterwards the ledger must equal the simulator's ground truth.
Exit 1 if the poll made more requests than the minimum, or the ledger is not exact.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import DAY, HOUR, SteppedClock, budgets_yaml, compare_with_truth, free_port, table, usd
from monitor.config import load_config
from monitor.daemon import Daemon
from monitor.providers import TYPES
from monitor.simulator import BENCHMARK_OPENAI_MODELS, Simulator

# 2026-11-25 10:30 UTC: a Wednesday morning, in the middle of an hour.
T0 = 1795602600
PAGE_BUCKETS = 168  # the largest `limit` for 1h buckets, both providers
COST_DAYS_PER_PAGE = {"openai": 180, "anthropic": 31}
REVISION_WINDOW = 48 * HOUR
OPENAI_KEY, ANTHROPIC_KEY = "sk-admin-bench-openai", "sk-ant-admin-bench-anthropic"


def minimum_requests(provider: str, endpoints: int, cursor: int, now: int) -> int:
    """Pages a correct poll needs: the revision window up to the open hour, and the days it touches."""
    start = cursor - REVISION_WINDOW
    end = math.ceil(now / HOUR) * HOUR
    usage = endpoints * math.ceil((end - start) // HOUR / PAGE_BUCKETS)
    days = math.ceil(now / DAY) - start // DAY
    return usage + math.ceil(days / COST_DAYS_PER_PAGE[provider])


def write_config(path: Path, sim: Simulator, db: Path, days: int) -> None:
    path.write_text(
        f"""listen: "127.0.0.1:{free_port()}"
storage: {{path: "{db}"}}
providers:
  - name: openai-bench
    type: openai
    api_key: ${{BENCH_OPENAI_KEY}}
    base_url: "{sim.openai_base_url}"
    initial_lookback: {days}d
  - name: anthropic-bench
    type: anthropic
    api_key: ${{BENCH_ANTHROPIC_KEY}}
    base_url: "{sim.anthropic_base_url}"
    initial_lookback: {days}d
{budgets_yaml(250_000)}
""",
        encoding="utf-8",
    )


def _poll(daemon: Daemon, sim: Simulator, account: str) -> tuple[float, int, int]:
    """(wall seconds, rows written, requests made) of one poll_account."""
    sim.reset_log()
    started = time.perf_counter()
    result = daemon.poll_account(account)
    seconds = time.perf_counter() - started
    if not result.ok:
        failed = "; ".join(f"{e.endpoint}: {e.error}" for e in result.endpoints if not e.ok)
        raise RuntimeError(f"{account}: the poll failed: {failed}")
    return seconds, result.rows, len(sim.requests_log)


def run(projects: int, days: int, work: Path) -> int:
    clock = SteppedClock(T0)
    with Simulator(
        seed=3,
        clock=clock,
        start=T0 - days * DAY,
        projects=projects,
        openai_models=BENCHMARK_OPENAI_MODELS,
        openai_key=OPENAI_KEY,
        anthropic_key=ANTHROPIC_KEY,
    ) as sim:
        config_path = work / "config.yaml"
        write_config(config_path, sim, work / "spend.db", days)
        environ = {**os.environ, "BENCH_OPENAI_KEY": OPENAI_KEY, "BENCH_ANTHROPIC_KEY": ANTHROPIC_KEY}
        daemon = Daemon(load_config(config_path, environ=environ), clock=clock)
        accounts = {"openai-bench": "openai", "anthropic-bench": "anthropic"}
        rows: list[list[object]] = []
        ok = True
        try:
            initial = {a: _poll(daemon, sim, a) for a in accounts}
            cursor = T0 // HOUR * HOUR
            clock.advance(HOUR)
            steady: dict[str, tuple[float, int, int]] = {}
            paths: Counter[str] = Counter()
            for account in accounts:
                steady[account] = _poll(daemon, sim, account)
                paths.update(r.path for r in sim.requests_log)
        finally:
            daemon.stop()
        for account, provider in accounts.items():
            want = minimum_requests(provider, len(TYPES[provider].endpoints), cursor, int(clock()))
            (t0, rows0, req0), (t1, rows1, req1) = initial[account], steady[account]
            ok &= req1 <= want
            rows.append([account, f"{t0:.1f} s", rows0, req0, f"{t1:.2f} s", rows1, req1, want, req1 - want])
        comparisons = compare_with_truth(work / "spend.db", sim, sim.history_start, T0 + 2 * HOUR)
    total = ["both", f"{sum(i[0] for i in initial.values()):.1f} s", sum(i[1] for i in initial.values())]
    total += [sum(i[2] for i in initial.values()), f"{sum(s[0] for s in steady.values()):.2f} s"]
    total += [sum(s[1] for s in steady.values()), sum(s[2] for s in steady.values()), "", ""]
    print(
        f"poll: {projects} projects, {len(BENCHMARK_OPENAI_MODELS)} OpenAI + 3 Claude models, {days} days hourly"
    )
    headers = ("account", "initial", "rows", "requests", "steady", "rows", "requests", "minimum", "extra")
    print(table(headers, [*rows, total]))
    print("steady-state requests by path: " + ", ".join(f"{p} {n}" for p, n in sorted(paths.items())))
    for c in comparisons:
        print(
            f"{c.provider}: ledger {usd(c.ledger_cost)}, truth {usd(c.truth_cost)}: {'exact' if c.equal else 'DIFFERENT'}"
        )
        ok &= c.equal
    print(
        "poll: " + ("steady state at the minimum number of requests, ledger exact" if ok else "TARGET MISSED")
    )
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--days", type=int, default=7)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory(prefix="spend-monitor-bench-poll-") as tmp:
        return run(args.projects, args.days, Path(tmp))


if __name__ == "__main__":
    sys.exit(main())
