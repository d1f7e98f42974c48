"""Benchmark: ingesting priced usage rows through Ledger.write_page vs a bare sqlite3 executemany INSERT.

    .venv/bin/python benchmarks/ingest.py [--rows N] [--repeat N] [--page-rows N] [--out DIR]

Synthetic but realistic rows: hourly buckets over 30 days, 200 projects, 15 models of two providers
(OpenAI completions with cached input, cache writes on today's models, 10% batch and 5% fast;
Anthropic messages with cache reads and writes, fast mode and US inference on Claude 5.5, and one
model only the community source prices), priced before timing with the real `Pricer` over the full
price-source chain (bundled table, files, and genai-prices data exported from the installed package). Each page (whole
buckets of one account and endpoint, about --page-rows rows) is written to a fresh ledger FILE
through `Ledger.write_page` (replace semantics, totals, observations and cursor, one
transaction) and, in the same run, to another fresh file through a bare `executemany` INSERT of
the same columns into a plain table (no key, no index), one transaction per page. Both use the
ledger's PRAGMAs (WAL, synchronous=NORMAL); the timed part of both starts from the PricedRows.

Targets: ledger >= 150,000 rows/s and within 3x of the bare insert (medians of --repeat runs).
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.price_updates import community_prices, export
from monitor.pricing import Pricer, PriceTable
from monitor.records import PricedRow, UsagePage, UsageRow, tokens_of
from monitor.store import Ledger

HOUR = 3600
DAYS = 30
START = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp())
PROJECTS = [f"proj_{i:03d}" for i in range(200)]
# (provider, account, endpoint, model as the API reports it)
STREAMS = {
    ("openai", "openai-prod", "completions"): [
        "gpt-6.1-sol",
        "gpt-6-luna",
        "gpt-4.1-2025-04-14",
        "gpt-4.1-mini-2025-04-14",
        "gpt-4o-2024-08-06",
        "gpt-4o-mini",
        "o4-mini-2025-04-16",
        "gpt-5-mini",
    ],
    ("anthropic", "anthropic", "messages"): [
        "claude-sonnet-5-5",
        "claude-opus-5-5",
        "claude-fable-5-2",  # only the community source prices it
        "claude-sonnet-4-5-20250929",
        "claude-haiku-4-5-20251001",
        "claude-opus-4-1-20250805",
        "claude-3-5-haiku-20241022",
    ],
}
TARGET_ROWS_PER_S = 150_000
TARGET_RATIO = 3.0


def _row(
    rng: random.Random, provider: str, account: str, endpoint: str, bucket: int, project: str, model: str
) -> UsageRow:
    uncached = rng.randint(1_000, 3_000_000)
    cached = rng.randint(0, uncached // 2) if rng.random() < 0.6 else 0
    output = rng.randint(100, 200_000)
    geo = ""
    if provider == "anthropic":
        write = rng.randint(0, uncached // 4) if rng.random() < 0.4 else 0
        tokens = tokens_of(input=uncached, cached_input=cached, cache_write=write, output=output)
        draw = rng.random()
        batch, tier = (
            False,
            "batch" if draw < 0.1 else "fast" if draw < 0.15 and "opus-5" in model else "standard",
        )
        key, context = f"apikey_{project}", "0-200k"
        geo = "us" if "-5-5" in model and rng.random() < 0.15 else "global"
    else:
        write = rng.randint(0, uncached // 20) if model.startswith("gpt-6") else 0
        tokens = tokens_of(input=uncached, cached_input=cached, cache_write=write, output=output)
        draw = rng.random()
        batch, tier = draw < 0.1, "fast" if 0.1 <= draw < 0.15 else "default"
        key, context = f"key_{project}", ""
    return UsageRow(
        provider=provider,
        account=account,
        endpoint=endpoint,
        bucket_start=bucket,
        bucket_width=HOUR,
        project=project,
        api_key=key,
        model=model,
        service_tier=tier,
        batch=batch,
        context_window=context,
        tokens=tokens,
        requests=rng.randint(1, 500),
        inference_geo=geo,
    )


def pages(total_rows: int, page_rows: int, seed: int = 1) -> Iterator[UsagePage]:
    """Pages of whole hourly buckets per (account, endpoint), `total_rows` rows in all."""
    rng = random.Random(seed)
    buckets = DAYS * 24
    per_bucket = -(-total_rows // buckets)  # ceil
    combos = {stream: [(p, m) for p in PROJECTS for m in models] for stream, models in STREAMS.items()}
    n_combos = sum(len(c) for c in combos.values())
    pending: dict[tuple[str, str, str], tuple[list[int], list[UsageRow]]] = {s: ([], []) for s in STREAMS}
    left = total_rows
    for b in range(buckets):
        bucket = START + b * HOUR
        for stream, stream_combos in combos.items():
            want = min(len(stream_combos), round(per_bucket * len(stream_combos) / n_combos), left)
            left -= want
            chosen = sorted(rng.sample(stream_combos, want))
            starts, rows = pending[stream]
            if rows and len(rows) + want > page_rows:
                yield _page(stream, starts, rows)
                starts, rows = pending[stream] = ([], [])
            starts.append(bucket)
            rows.extend(_row(rng, *stream, bucket, p, m) for p, m in chosen)
    for stream, (starts, rows) in pending.items():
        if rows:
            yield _page(stream, starts, rows)


def _page(stream: tuple[str, str, str], starts: list[int], rows: list[UsageRow]) -> UsagePage:
    provider, account, endpoint = stream
    return UsagePage(
        provider, account, endpoint, HOUR, tuple(starts), tuple(rows), 1_770_000_000_000, starts[-1] + HOUR
    )


_COLUMNS = 42  # provider, 12 key columns, 11 token counts, requests, units, 11 costs, 5 more


def bare_params(priced: Sequence[PricedRow], observed_at: int) -> list[tuple[object, ...]]:
    """The same 42 values per row the ledger stores, built the plain way."""
    out = []
    for p in priced:
        u = p.usage
        out.append(
            (u.provider, u.account, u.endpoint, u.bucket_start, u.bucket_width, u.project, u.api_key, u.user,
             u.model, u.service_tier, u.batch, u.context_window, u.inference_geo, *u.tokens, u.requests,
             json.dumps(dict(u.units)) if u.units else None, *p.costs, p.unit_cost, p.price_id,
             p.price_source or None, p.unpriced_tokens, observed_at)
        )  # fmt: skip
    return out


@dataclass
class Run:
    rows: int
    ledger_s: float
    bare_s: float
    ledger_cpu_s: float
    bare_cpu_s: float
    price_s: float

    @property
    def ratio(self) -> float:
        return self.ledger_s / self.bare_s


def run_once(total_rows: int, page_rows: int, out: Path, pricer: Pricer) -> Run:
    for name in ("ingest-ledger.db", "ingest-bare.db"):
        for suffix in ("", "-wal", "-shm"):
            Path(str(out / name) + suffix).unlink(missing_ok=True)
    bare = sqlite3.connect(out / "ingest-bare.db", isolation_level=None)
    bare.execute("PRAGMA journal_mode=WAL")
    bare.execute("PRAGMA synchronous=NORMAL")
    bare.execute(f"CREATE TABLE plain ({', '.join(f'c{i}' for i in range(_COLUMNS))})")
    insert = f"INSERT INTO plain VALUES ({', '.join('?' * _COLUMNS)})"
    run = Run(0, 0.0, 0.0, 0.0, 0.0, 0.0)
    with Ledger.open(out / "ingest-ledger.db") as ledger:
        for i, page in enumerate(pages(total_rows, page_rows)):
            t = time.perf_counter()
            priced = pricer.price_rows(page.rows)
            run.price_s += time.perf_counter() - t
            run.rows += len(priced)
            for target in ("ledger", "bare") if i % 2 == 0 else ("bare", "ledger"):
                t, c = time.perf_counter(), time.process_time()
                if target == "ledger":
                    ledger.write_page(page, priced)
                else:
                    bare.execute("BEGIN")
                    bare.executemany(insert, bare_params(priced, page.observed_at))
                    bare.execute("COMMIT")
                wall, cpu = time.perf_counter() - t, time.process_time() - c
                if target == "ledger":
                    run.ledger_s += wall
                    run.ledger_cpu_s += cpu
                else:
                    run.bare_s += wall
                    run.bare_cpu_s += cpu
        stored = ledger.db.conn.execute("SELECT COUNT(*) FROM usage").fetchone()[0]
        if stored != run.rows or sum(t["cost_total"] for t in ledger.totals()) != ledger.spend(0, 2**40):
            raise SystemExit(f"ledger check failed: {stored} rows stored of {run.rows}, or totals != spend")
        if ledger.unpriced():
            raise SystemExit(f"ledger check failed: unpriced tokens {ledger.unpriced()}")
    bare.close()
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per run (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs; medians are reported (default 3)")
    parser.add_argument(
        "--page-rows", type=int, default=5000, help="rows per page, whole buckets (default 5,000)"
    )
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "spend-monitor-bench")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    community = community_prices(export())  # the installed genai-prices data, in a child process
    pricer = Pricer(PriceTable.load(sources=["bundled", "files", "genai-prices"], community=community))
    runs = []
    for n in range(args.repeat):
        run = run_once(args.rows, args.page_rows, args.out, pricer)
        runs.append(run)
        print(
            f"run {n + 1}/{args.repeat}: {run.rows:,} rows  ledger {run.rows / run.ledger_s:,.0f} rows/s  "
            f"bare {run.rows / run.bare_s:,.0f} rows/s  ratio {run.ratio:.2f}  "
            f"(cpu: ledger {run.rows / run.ledger_cpu_s:,.0f}, bare {run.rows / run.bare_cpu_s:,.0f} rows/s; "
            f"pricing {run.rows / run.price_s:,.0f} rows/s, not timed)",
            flush=True,
        )
    ledger_rate = statistics.median(r.rows / r.ledger_s for r in runs)
    bare_rate = statistics.median(r.rows / r.bare_s for r in runs)
    ratio = statistics.median(r.ratio for r in runs)
    result = {
        "rows": runs[0].rows,
        "repeat": args.repeat,
        "ledger_rows_per_s_median": round(ledger_rate),
        "bare_rows_per_s_median": round(bare_rate),
        "ratio_median": round(ratio, 2),
        "ledger_cpu_rows_per_s_median": round(statistics.median(r.rows / r.ledger_cpu_s for r in runs)),
        "bare_cpu_rows_per_s_median": round(statistics.median(r.rows / r.bare_cpu_s for r in runs)),
    }
    print(json.dumps(result, indent=2))
    ok = ledger_rate >= TARGET_ROWS_PER_S and ratio <= TARGET_RATIO
    print(
        "targets met"
        if ok
        else f"TARGET MISSED: ledger >= {TARGET_ROWS_PER_S:,} rows/s and ratio <= {TARGET_RATIO}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
