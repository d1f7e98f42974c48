"""Benchmark: what the community price source (genai-prices) costs the daemon's resident memory.

    .venv/bin/python benchmarks/community_memory.py [--repeat N]

Each measurement runs in a fresh Python process that imports the daemon (`monitor.daemon`) and then
(a) builds the price table of the default sources, (b) loads the community source as the daemon does
(genai-prices' data converted in a child process, only the models no other source lists kept), or
(c) imports genai-prices itself, as a daemon that used the library directly would; it reports VmRSS
after a garbage collection. Target: (b) within 5 MB of (a), so the daemon's idle RSS target (<= 100 MB,
see "scrape_ledger") is not spent on price data.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MB = 5.0

_PROBE = """
import gc, json, sys
sys.path.insert(0, {root!r})
import monitor.daemon
from monitor.price_updates import community_prices, export
from monitor.pricing import PriceTable
case = {case!r}
if case == "table":
    table = PriceTable.load(sources=["bundled", "files"])
elif case == "community":
    table = PriceTable.load(sources=["bundled", "files", "genai-prices"], community=community_prices(export()))
else:
    import genai_prices.data
    table = PriceTable.load(sources=["bundled", "files"])
gc.collect()
rss = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmRSS:"))
print(json.dumps({{"rss_kb": rss, "models": len(table.models())}}))
"""


def measure(case: str) -> dict[str, int]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(root=str(ROOT), case=case)], capture_output=True, check=True
    ).stdout
    return dict(json.loads(out))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="processes per case; medians are reported")
    args = parser.parse_args(argv)
    results: dict[str, list[dict[str, int]]] = {"table": [], "community": [], "genai_prices_imported": []}
    for _ in range(args.repeat):  # interleaved, so load changes hit every case alike
        for case, runs in results.items():
            runs.append(measure(case))
    medians = {case: statistics.median(r["rss_kb"] for r in runs) / 1024 for case, runs in results.items()}
    models = {case: runs[0]["models"] for case, runs in results.items()}
    extra = medians["community"] - medians["table"]
    report = {
        "repeat": args.repeat,
        "rss_mb_median": {case: round(mb, 1) for case, mb in medians.items()},
        "models": models,
        "community_extra_mb": round(extra, 1),
        "genai_prices_import_extra_mb": round(medians["genai_prices_imported"] - medians["table"], 1),
    }
    print(json.dumps(report, indent=2))
    ok = extra <= TARGET_MB
    print("targets met" if ok else f"TARGET MISSED: the community source adds more than {TARGET_MB} MB")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
