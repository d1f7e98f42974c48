"""Builders shared by the store tests: usage rows, a small fixed price list, pages, and ledger dumps.

No tests here. The price list is deliberately simple (a rate per token type) so expected costs
can be worked out by hand in the tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from monitor.records import TOKEN_TYPES, PricedRow, UsagePage, UsageRow, tokens_of
from monitor.store import Ledger, WriteResult

HOUR = 3600
ACCOUNT = "acct"
ENDPOINT = "completions"

RATES = {"input": 2_000_000, "cached_input": 500_000, "output": 8_000_000}
"""Picodollars per token: $2, $0.50 and $8 per 1M tokens. Other kinds have no price."""

UNKNOWN_MODEL = "mystery-model"


def usage(
    bucket: int,
    project: str = "p1",
    model: str = "gpt-x",
    *,
    input: int = 0,
    cached: int = 0,
    output: int = 0,
    audio: int = 0,
    requests: int = 1,
    account: str = ACCOUNT,
    endpoint: str = ENDPOINT,
    provider: str = "openai",
    api_key: str = "",
    width: int = HOUR,
    units: tuple[tuple[str, int], ...] = (),
) -> UsageRow:
    return UsageRow(
        provider=provider,
        account=account,
        endpoint=endpoint,
        bucket_start=bucket,
        bucket_width=width,
        project=project,
        api_key=api_key,
        model=model,
        tokens=tokens_of(input=input, cached_input=cached, output=output, input_audio=audio),
        requests=requests,
        units=units,
    )


def price(row: UsageRow, *, scale: int = 1) -> PricedRow:
    """Cost = tokens x RATES (x scale); an unknown model or a kind without a rate is unpriced."""
    if row.model == UNKNOWN_MODEL:
        return PricedRow(row, (0,) * len(TOKEN_TYPES), 0, None, unpriced_tokens=sum(row.tokens))
    costs = tuple(n * RATES.get(kind, 0) * scale for kind, n in zip(TOKEN_TYPES, row.tokens, strict=True))
    unpriced = sum(n for kind, n in zip(TOKEN_TYPES, row.tokens, strict=True) if kind not in RATES)
    return PricedRow(row, costs, 0, None if unpriced else "test@1", unpriced_tokens=unpriced)


def page_of(
    rows: Sequence[UsageRow],
    observed_at: int,
    buckets: Sequence[int] | None = None,
    *,
    closed_until: int | None = None,
    account: str = ACCOUNT,
    endpoint: str = ENDPOINT,
) -> UsagePage:
    covered = tuple(sorted(set(buckets) if buckets is not None else {r.bucket_start for r in rows}))
    return UsagePage(
        provider="openai",
        account=account,
        endpoint=endpoint,
        bucket_width=HOUR,
        buckets=covered,
        rows=tuple(rows),
        observed_at=observed_at,
        closed_until=closed_until if closed_until is not None else (max(covered) + HOUR if covered else 0),
    )


def write(
    ledger: Ledger,
    rows: Sequence[UsageRow],
    observed_at: int,
    buckets: Sequence[int] | None = None,
    **kwargs: Any,
) -> WriteResult:
    page = page_of(rows, observed_at, buckets, **kwargs)
    return ledger.write_page(page, [price(r) for r in rows])


def usage_dump(ledger: Ledger) -> list[tuple[Any, ...]]:
    """Every usage row, all columns, in key order: for comparing two ledgers."""
    order = (
        "bucket_start, account, endpoint, bucket_width, project, api_key, user, model, service_tier, batch"
    )
    return ledger.db.conn.execute(f"SELECT * FROM usage ORDER BY {order}, context_window").fetchall()


def recomputed_totals(ledger: Ledger) -> list[dict[str, Any]]:
    """The totals as a full scan of usage computes them in Python (independent of the totals table)."""
    keys = ("provider", "account", "project", "api_key", "model", "service_tier", "user")
    k = len(keys)
    tok = [f"tok_{t}" for t in TOKEN_TYPES]
    cost = [f"cost_{t}" for t in TOKEN_TYPES]
    cursor = ledger.db.conn.execute(
        f"SELECT {', '.join([*keys, *tok, *cost, 'requests', 'unit_cost', 'unpriced_tokens'])} FROM usage"
    )
    n = len(TOKEN_TYPES)
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for values in cursor:
        key = values[:k]
        tokens, costs = values[k : k + n], values[k + n : k + 2 * n]
        requests, unit_cost, unpriced = values[k + 2 * n :]
        acc = out.setdefault(
            key,
            {
                **dict(zip(keys, key, strict=True)),
                "rows": 0,
                "tokens": dict.fromkeys(TOKEN_TYPES, 0),
                "costs": dict.fromkeys(TOKEN_TYPES, 0),
                "requests": 0,
                "unit_cost": 0,
                "cost_total": 0,
                "unpriced_tokens": 0,
            },
        )
        acc["rows"] += 1
        for kind, t, c in zip(TOKEN_TYPES, tokens, costs, strict=True):
            acc["tokens"][kind] += t
            acc["costs"][kind] += c
        acc["requests"] += requests
        acc["unit_cost"] += unit_cost
        acc["cost_total"] += sum(costs) + unit_cost
        acc["unpriced_tokens"] += unpriced
    return [out[k] for k in sorted(out)]
