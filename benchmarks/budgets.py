"""Benchmark: evaluating 1,000 budgets over a 10M-row ledger, and threshold write -> webhook latency.

    .venv/bin/python benchmarks/budgets.py [--rows N] [--budgets N] [--out DIR]

The ledger is generated once (rows inserted with executemany straight into the `usage` table of a
real Ledger) and cached under --out, keyed by the row count. Targets: evaluation <= 1 s per cycle
(median of 5), and <= 1 s from the write that crosses a threshold to the notification leaving the
outbox to a loopback webhook.
"""

from __future__ import annotations

import argparse
import hashlib
import http.server
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.alerts import OutboxWorker, WebhookNotifier
from monitor.budgets import BudgetEngine
from monitor.config import AnomalyConfig, BudgetConfig, BudgetScope
from monitor.records import PICO_PER_USD, PricedRow, UsagePage, UsageRow, tokens_of
from monitor.store import Ledger
from monitor.store.alerts import AlertStore
from monitor.store.money import SPLIT

NOW = datetime(2025, 6, 18, 14, 30, tzinfo=UTC)
HOUR = 3600
PROJECTS = [f"proj_{i:02d}" for i in range(20)]
MODELS = [
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-4.1-nano",
    "gpt-4o",
    "gpt-4o-mini",
    "o3",
    "o4-mini",
    "gpt-5",
    "gpt-5-mini",
    "text-embedding-3-small",
    "claude-sonnet-4-20250514",
    "claude-opus-4-1-20250805",
    "claude-3-5-haiku-20241022",
    "claude-sonnet-4-5",
    "claude-haiku-4-5",
]
ACCOUNTS = [("openai", "openai-prod"), ("openai", "openai-dev"), ("anthropic", "anthropic")]
API_KEYS = [f"key_{i:03d}" for i in range(120)]
USAGE_INSERT_COLUMNS = (
    "provider",
    "account",
    "endpoint",
    "bucket_start",
    "bucket_width",
    "project",
    "api_key",
    "user",
    "model",
    "service_tier",
    "batch",
    "context_window",
    "tok_input",
    "tok_output",
    "requests",
    "cost_input",
    "cost_output",
    "observed_at",
)


def _combos(
    rng: random.Random, count: int, projects: Sequence[str] = PROJECTS
) -> list[tuple[str, str, str, str, str, str]]:
    """`count` distinct (provider, account, project, api_key, model, tier) label combinations."""
    combos = set()
    while len(combos) < count:
        provider, account = rng.choice(ACCOUNTS)
        models = [m for m in MODELS if m.startswith("claude") == (provider == "anthropic")]
        combos.add(
            (
                provider,
                account,
                rng.choice(projects),
                rng.choice(API_KEYS),
                rng.choice(models),
                rng.choice(["standard", "batch", "flex"]),
            )
        )
    return sorted(combos)


def _rows(
    total: int, end: int, rng: random.Random, combos_count: int = 3000, projects: Sequence[str] = PROJECTS
) -> Iterator[tuple[object, ...]]:
    """`total` hourly rows ending at `end`: 1,000 of `combos_count` combos per hour, going back as far as needed."""
    combos = _combos(rng, combos_count, projects)
    per_hour = 1000
    hours = -(-total // per_hour)
    emitted = 0
    for h in range(hours):
        bucket = end - (hours - h) * HOUR
        for combo in rng.sample(combos, per_hour):
            if emitted == total:
                return
            provider, account, project, key, model, tier = combo
            tin, tout = rng.randrange(1_000, 2_000_000), rng.randrange(100, 200_000)
            yield (
                provider,
                account,
                "completions" if provider == "openai" else "messages",
                bucket,
                HOUR,
                project,
                key,
                "",
                model,
                tier,
                0,
                "",
                tin,
                tout,
                rng.randrange(1, 500),
                tin * 2_000_000,
                tout * 8_000_000,
                bucket * 1000 + 1,
            )
            emitted += 1


def build_ledger(
    path: Path, rows: int, end: int, *, combos: int = 3000, projects: Sequence[str] = PROJECTS
) -> None:
    """Create the ledger at `path` with `rows` generated usage rows (skipped when it already exists).

    Rows go straight into `usage` with executemany; `totals` (which the store keeps exact on every
    write, and budgets use to see what changed) is filled from the same rows. `combos` and
    `projects` shape the label combinations (benchmarks/scrape_ledger.py widens them to ~50,000
    metric series); the defaults are this benchmark's ledger.
    """
    if path.exists():
        return
    tmp = path.with_suffix(".partial")
    for suffix in ("", "-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    started = time.perf_counter()
    totals: dict[tuple[object, ...], list[int]] = {}
    with Ledger.open(tmp) as ledger:
        conn = ledger.db.conn
        names = ", ".join(f'"{c}"' for c in USAGE_INSERT_COLUMNS)
        sql = f"INSERT INTO usage ({names}) VALUES ({', '.join('?' * len(USAGE_INSERT_COLUMNS))})"
        gen = _rows(rows, end, random.Random(7), combos, projects)
        while True:
            chunk = [r for _, r in zip(range(200_000), gen, strict=False)]
            if not chunk:
                break
            for r in chunk:  # (provider, account, ..., project, api_key, user, model, tier, ...)
                key = (r[0], r[1], r[5], r[6], r[8], r[9])
                acc = totals.setdefault(key, [0, 0, 0, 0, 0, 0])
                acc[0] += 1
                for i, value in enumerate(r[12:17], start=1):
                    acc[i] += value  # type: ignore[operator]
            with ledger.transaction():
                conn.executemany(sql, chunk)
        with ledger.transaction():  # money columns of totals are (whole microdollars, the rest) pairs
            conn.executemany(
                'INSERT INTO totals (provider, account, project, api_key, model, service_tier, "rows", '
                "tok_input, tok_output, requests, cost_input_hi, cost_input_lo, cost_output_hi, "
                "cost_output_lo, cost_total_hi, cost_total_lo) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (*k, *v[:4], *divmod(v[4], SPLIT), *divmod(v[5], SPLIT), *divmod(v[4] + v[5], SPLIT))
                    for k, v in totals.items()
                ],
            )
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for suffix in ("-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    tmp.rename(path)
    print(f"built {rows:,} rows in {time.perf_counter() - started:.1f}s: {path}")


def schema_tag(out: Path) -> str:
    """A short hash of the ledger schema, so a cached ledger is rebuilt when the schema changes."""
    probe = out / "schema-probe.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(probe) + suffix).unlink(missing_ok=True)
    with Ledger.open(probe) as ledger:
        sql = "".join(
            r[0] or "" for r in ledger.db.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
        )
    for suffix in ("", "-wal", "-shm"):
        Path(str(probe) + suffix).unlink(missing_ok=True)
    return hashlib.sha256(sql.encode()).hexdigest()[:8]


def make_budgets(count: int, rng: random.Random) -> list[BudgetConfig]:
    """A realistic mix: monthly, weekly and daily budgets scoped by account, project, model globs and keys."""
    budgets = []
    for i in range(count):
        period = rng.choices(["month", "week", "day", "quarter"], weights=[70, 15, 10, 5])[0]
        scope = rng.choice(
            [
                BudgetScope(),
                BudgetScope(account=(rng.choice(ACCOUNTS)[1],)),
                BudgetScope(project=(rng.choice(PROJECTS),)),
                BudgetScope(
                    project=(rng.choice(PROJECTS),),
                    model=(rng.choice(["gpt-4.1*", "claude-*", "o*", "gpt-5*"]),),
                ),
                BudgetScope(api_key=(rng.choice(API_KEYS),)),
                BudgetScope(provider=("openai",), model=(rng.choice(MODELS),)),
            ]
        )
        budgets.append(
            BudgetConfig(
                name=f"budget-{i:04d}",
                amount_usd=Decimal(rng.choice([100, 1000, 10000, 100000])),
                period=period,
                scope=scope,
            )
        )
    return budgets


def simulate_poll(ledger: Ledger, cycle: int, end: int, rng: random.Random) -> None:
    """What a poll writes between two evaluations: the current hour, and a revised bucket 47 h back."""
    combos = _combos(random.Random(7), 3000)
    newest = ledger.db.execute("SELECT MAX(observed_at) FROM observations").fetchone()[0]
    observed = max(newest or 0, int(NOW.timestamp()) * 1000) + cycle  # newer than any earlier run's poll
    for bucket in (end, end - 47 * HOUR):
        rows = []
        for provider, account, project, key, model, tier in rng.sample(combos, 300):
            if account != "openai-prod":
                continue
            usage = UsageRow(
                provider,
                account,
                "completions",
                bucket,
                HOUR,
                project=project,
                api_key=key,
                model=model,
                service_tier=tier,
                tokens=tokens_of(input=1000, output=100),
                requests=3,
            )
            rows.append(
                PricedRow(usage, tokens_of(input=rng.randrange(10**9, 10**10), output=10**9), 0, "bench")
            )
        page = UsagePage(
            "openai",
            "openai-prod",
            "completions",
            HOUR,
            (bucket,),
            tuple(r.usage for r in rows),
            observed,
            bucket + HOUR,
        )
        ledger.write_page(page, rows)


def bench_evaluate(
    path: Path, budgets: list[BudgetConfig], repeat: int = 5
) -> tuple[float, list[float], dict[str, int]]:
    """(cold first evaluation, warm evaluations each after a simulated poll, sync path counts)."""
    engine = BudgetEngine(budgets, ["hook"], ZoneInfo("Europe/Berlin"), anomalies=AnomalyConfig())
    end = int(NOW.timestamp()) // HOUR * HOUR
    rng = random.Random(3)
    times = []
    with Ledger.open(path) as ledger:
        store = AlertStore(ledger)
        started = time.perf_counter()
        engine.evaluate(ledger, store, NOW)
        cold = time.perf_counter() - started
        for cycle in range(1, repeat + 1):
            simulate_poll(ledger, cycle, end, rng)
            started = time.perf_counter()
            engine.evaluate(ledger, store, NOW + timedelta(seconds=cycle))
            times.append(time.perf_counter() - started)
    return cold, times, dict(engine.daily.stats)


class _Receiver(http.server.BaseHTTPRequestHandler):
    received: list[float]

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(time.perf_counter())
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def bench_latency(out: Path, repeat: int = 5) -> list[float]:
    """From the ledger write that crosses 50% of a budget to the webhook receiving the notification."""
    _Receiver.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    latencies = []
    try:
        for i in range(repeat):
            path = out / f"latency-{i}.db"
            path.unlink(missing_ok=True)
            budget = BudgetConfig(
                name="b",
                amount_usd=Decimal(10),
                period="month",
                thresholds=(Decimal(50),),
                forecast_thresholds=(),
            )
            engine = BudgetEngine([budget], ["hook"], ZoneInfo("UTC"))
            channel = WebhookNotifier("hook", url, secret="s3cret")
            with Ledger.open(path) as ledger:
                store = AlertStore(ledger)
                worker = OutboxWorker(store, {"hook": channel})
                row = UsageRow(
                    "openai",
                    "openai-prod",
                    "completions",
                    int(NOW.timestamp()) // HOUR * HOUR - HOUR,
                    HOUR,
                    model="gpt-4.1",
                    tokens=tokens_of(input=1),
                )
                priced = PricedRow(row, tokens_of(input=6 * PICO_PER_USD), 0, "bench")
                before = len(_Receiver.received)
                started = time.perf_counter()
                ledger.upsert_priced([priced], int(NOW.timestamp()) * 1000)
                engine.evaluate(ledger, store, NOW)
                worker.drain(NOW)
                assert len(_Receiver.received) == before + 1, "the webhook did not receive the alert"
                latencies.append(_Receiver.received[-1] - started)
                channel.close()
    finally:
        server.shutdown()
    return latencies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="ledger rows (default 10,000,000)")
    parser.add_argument("--budgets", type=int, default=1000, help="budgets evaluated (default 1,000)")
    parser.add_argument(
        "--out", type=Path, default=Path(tempfile.gettempdir()) / "spend-monitor-bench-budgets"
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"ledger-{args.rows}-{schema_tag(args.out)}.db"
    build_ledger(path, args.rows, int(NOW.timestamp()) // HOUR * HOUR)
    budgets = make_budgets(args.budgets, random.Random(11))
    cold, times, sync_paths = bench_evaluate(path, budgets)
    latencies = bench_latency(args.out)
    result = {
        "rows": args.rows,
        "budgets": args.budgets,
        "evaluate_cold_first_s": round(cold, 3),
        "evaluate_median_s": round(statistics.median(times), 3),
        "evaluate_runs_s": [round(t, 3) for t in times],
        "sync_paths": sync_paths,
        "write_to_webhook_median_s": round(statistics.median(latencies), 4),
        "write_to_webhook_max_s": round(max(latencies), 4),
    }
    print(json.dumps(result, indent=2))
    ok = result["evaluate_median_s"] <= 1.0 and result["write_to_webhook_median_s"] <= 1.0
    print("targets met" if ok else "TARGET MISSED: evaluate <= 1 s and write->webhook <= 1 s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
