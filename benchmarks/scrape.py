"""Benchmark: scraping a 50,000-series snapshot from the metrics server vs prometheus_client rendering it.

    .venv/bin/python benchmarks/scrape.py [--series N] [--scrapes N] [--renders N]

Builds a ledger view of about --series series, publishes it once (the daemon does this after each
poll), starts the server on loopback and times --scrapes scrapes of /metrics with a keep-alive
HTTP client sending Prometheus' Accept header, with gzip (as Prometheus scrapes) and without,
using httpx and the standard library's http.client (less client overhead). In the same run it times
`prometheus_client.generate_latest` over the same series (--renders runs): the per-scrape cost of
an exporter that renders on demand. Targets, for the gzip scrape with httpx: median <= 10 ms and
>= 20x faster than generate_latest. Prints a table and returns 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import httpx
from prometheus_client import generate_latest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.metrics import (
    AccountRef,
    BudgetRow,
    BuildInfo,
    Exposition,
    LedgerView,
    MetricsOptions,
    MetricsServer,
    PollStats,
    PriceRow,
    Snapshot,
    SnapshotCollector,
    SpendRow,
    TotalRow,
)
from monitor.records import PICO_PER_USD, tokens_of

PROMETHEUS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)
NOW = 1_750_000_000.0
SERIES_PER_ROW = 13  # 5 token types x (tokens + cost) + requests + day and month spend


def make_snapshot(series: int) -> Snapshot:
    """A realistic large organisation: accounts x projects x models, five token types in use."""
    rows = max(1, series // SERIES_PER_ROW)
    accounts = [("openai", "openai-prod"), ("anthropic", "anthropic-prod")]
    models = [f"model-{m:02d}" for m in range(25)]
    totals, spend = [], []
    for i in range(rows):
        provider, account = accounts[i % 2]
        project, model = f"proj_{i // 50:04d}", models[i % 25]
        tokens = tokens_of(
            input=1000 + i, cached_input=400, output=250, cache_write=90, input_audio=i % 7 + 1
        )
        costs = tuple(t * 2_000_000 for t in tokens)
        totals.append(TotalRow(provider, account, project, model, "standard", "", tokens, costs, 10 + i))
        for period in ("day", "month"):
            spend.append(SpendRow(provider, account, project, model, period, sum(costs)))
    prices = [PriceRow("openai", m, "standard", "input", Decimal("2.5")) for m in models]
    budgets = [
        BudgetRow(f"budget-{b}", 500 * PICO_PER_USD, 120 * PICO_PER_USD, 400 * PICO_PER_USD, 1_751_328_000)
        for b in range(20)
    ]
    stats = PollStats(
        [AccountRef(p, a, ("completions", "costs")) for p, a in accounts], channels=["alertmanager"]
    )
    ledger = LedgerView(totals=totals, spend=spend, prices=prices, budgets=budgets, ledger_rows=rows * 40)
    return Snapshot(
        ledger, stats.view(), BuildInfo("bench", "bench"), NOW, MetricsOptions(series_limit=10 * series)
    )


def timed(run: Callable[[], object], times: int) -> list[float]:
    out = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        out.append(time.perf_counter() - started)
    return out


def httpx_scrape(client: httpx.Client, encoding: str, decode: bool) -> Callable[[], int]:
    """One scrape with httpx, returning the body size (raw bytes unless `decode`)."""
    headers = {"Accept": PROMETHEUS_ACCEPT, "Accept-Encoding": encoding}

    def run() -> int:
        with client.stream("GET", "/metrics", headers=headers) as response:
            raw = b"".join(response.iter_raw())
        return len(gzip.decompress(raw) if decode else raw)

    return run


def stdlib_scrape(connection: http.client.HTTPConnection, encoding: str) -> Callable[[], int]:
    """One scrape with the standard library's client: the least client-side overhead in Python."""
    headers = {"Accept": PROMETHEUS_ACCEPT, "Accept-Encoding": encoding}

    def run() -> int:
        connection.request("GET", "/metrics", headers=headers)
        return len(connection.getresponse().read())

    return run


def rss_mib() -> tuple[float, float]:
    """(current, peak) resident set size of this process in MiB, from /proc/self/status."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return fields.get("VmRSS", 0.0), fields.get("VmHWM", 0.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=50_000, help="series in the snapshot (default 50,000)")
    parser.add_argument("--scrapes", type=int, default=200, help="scrapes timed per variant (default 200)")
    parser.add_argument("--renders", type=int, default=20, help="generate_latest runs timed (default 20)")
    args = parser.parse_args(argv)

    snapshot = make_snapshot(args.series)
    exposition = Exposition()
    publish = timed(lambda: exposition.publish(snapshot), 3)
    server = MetricsServer(
        "127.0.0.1:0", exposition, health=lambda: (True, "ok"), ready=lambda: (True, "ready")
    )
    server.start()
    results: list[tuple[str, list[float], int]] = []
    try:
        with httpx.Client(base_url=server.url, trust_env=False, timeout=30) as client:
            for label, encoding, decode in (
                ("httpx, gzip (as Prometheus scrapes)", "gzip", False),
                ("httpx, gzip + client gunzip", "gzip", True),
                ("httpx, no gzip", "identity", False),
            ):
                run = httpx_scrape(client, encoding, decode)
                results.append((label, timed(run, args.scrapes), run()))
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        for label, encoding in (("http.client, gzip", "gzip"), ("http.client, no gzip", "identity")):
            run = stdlib_scrape(connection, encoding)
            results.append((label, timed(run, args.scrapes), run()))
        connection.close()
    finally:
        server.stop()
    serving_rss, _ = rss_mib()  # the exposition and snapshot as the daemon holds them, before the comparison
    collector = SnapshotCollector(snapshot)
    size = len(generate_latest(collector))
    results.append(
        ("prometheus_client generate_latest", timed(lambda: generate_latest(collector), args.renders), size)
    )
    naive = timed(lambda: generate_latest(SnapshotCollector(snapshot)), max(3, args.renders // 4))
    results.append(("collect + generate_latest (render per scrape)", naive, size))
    _, peak = rss_mib()

    print(
        f"series in snapshot: {exposition.series:,}   publish (render once per poll): {statistics.median(publish) * 1000:.0f} ms"
    )
    print(f"{'what':<48} {'runs':>5} {'median ms':>10} {'p90 ms':>8} {'bytes':>11}")
    for label, times, nbytes in results:
        p90 = statistics.quantiles(times, n=10)[-1] if len(times) > 1 else times[0]
        print(
            f"{label:<48} {len(times):>5} {statistics.median(times) * 1000:>10.2f} {p90 * 1000:>8.2f} {nbytes:>11,}"
        )
    print(
        f"RSS: {serving_rss:.0f} MiB while serving, {peak:.0f} MiB peak (including the generate_latest runs)"
    )

    scrape_ms = statistics.median(results[0][1]) * 1000
    speedup = statistics.median(results[5][1]) * 1000 / scrape_ms
    ok = scrape_ms <= 10 and speedup >= 20
    print(
        f"scrape median {scrape_ms:.2f} ms as Prometheus scrapes (gzip; target <= 10 ms); "
        f"{speedup:.0f}x faster than generate_latest (target >= 20x)"
    )
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
