"""Child-process entry point: genai-prices' data as the table's model entries, on stdout as JSON.

    python -m monitor.genai_prices_export [--fetch [--url URL]] [--raw]

Importing genai-prices builds its whole pydantic object graph (about 30 MB of RSS), more than the
daemon may keep resident, so the daemon and the CLI run this in a child process and read back only the
converted entries of the providers they price (community_prices.py). Without --url it exports the
data bundled with the installed package; with --fetch it downloads the current data (from --url,
else genai-prices' own URL) with genai-prices' own updater, which validates it. --raw prints genai-prices' data as its JSON shape instead (to make test
snapshots). A failure is one line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import sys
from collections.abc import Sequence
from decimal import Decimal
from importlib.metadata import version
from typing import Any

from monitor.pricing.community import PROVIDERS, convert


def raw_data(value: Any) -> Any:
    """genai-prices' objects as the JSON shape its updater downloads (and `_providers_from_raw` reads)."""
    from genai_prices.types import ModelPrice  # noqa: PLC0415  (only in the child process)

    if isinstance(value, ModelPrice):
        return {k: raw_data(v) for k, v in vars(value).items() if not k.startswith("_") and v is not None}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = (f for f in dataclasses.fields(value) if f.init and not f.name.startswith("_"))
        # ClauseOr/ClauseAnd keep `or_`/`and_` in Python and `or`/`and` in the data.
        return {
            f.name.rstrip("_"): raw_data(getattr(value, f.name))
            for f in fields
            if getattr(value, f.name) is not None
        }
    if isinstance(value, list | tuple):
        return [raw_data(v) for v in value]
    if isinstance(value, dict):
        return {k: raw_data(v) for k, v in value.items()}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return value


def _providers(fetch: bool, url: str | None) -> list[Any]:
    if not fetch:
        from genai_prices.data import providers  # noqa: PLC0415

        return list(providers)
    from genai_prices import UpdatePrices  # noqa: PLC0415

    snapshot = (UpdatePrices(url=url) if url else UpdatePrices()).fetch()
    if snapshot is None:
        raise ValueError("the update gave no price data")
    return list(snapshot.providers)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m monitor.genai_prices_export")
    parser.add_argument("--fetch", action="store_true", help="download the data with genai-prices' updater")
    parser.add_argument("--url", help="with --fetch: from this URL instead of genai-prices' own")
    parser.add_argument("--raw", action="store_true", help="print genai-prices' data, not table entries")
    args = parser.parse_args(argv)
    package = f"genai-prices {version('genai-prices')}"
    try:
        raw = [p for p in raw_data(_providers(args.fetch, args.url)) if p.get("id") in PROVIDERS]
        if args.raw:
            json.dump(raw, sys.stdout)
            return 0
        when = datetime.datetime.now(datetime.UTC).date().isoformat()
        label = f"genai-prices data fetched {when}" if args.fetch else package
        converted = convert(raw, label)
    except Exception as exc:  # one line for the parent, whatever went wrong (network, validation, data)
        text = " ".join(str(exc).split()).split(" For more information check:")[0]
        print(f"{type(exc).__name__}: {text[:500]}", file=sys.stderr)
        return 1
    out = {"label": label, "package": package, "models": converted.entries, "problems": converted.problems}
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
