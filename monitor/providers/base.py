"""What every provider adapter shares: the `Provider` seam the poller fetches through, and the bucket,
window and page rules (alignment, `closed_until`, row merging, reading a page of buckets). Offset and
link paging are in `paging.py`, an adapter's HTTP settings in `http_options.py`.

Adapters import this module, never each other nor their package's `__init__`. They return records
(`UsagePage`, `BilledCost`, `Balance`); they never price or store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from monitor.providers.http import ApiClient, ApiStats
from monitor.providers.payload import Fields
from monitor.records import Balance, BilledCost, UsagePage, UsageRow

T = TypeVar("T")

DAY = 86_400
BUCKET_SECONDS: dict[str, int] = {"1m": 60, "1h": 3600, "1d": 86400}
BUCKET_LIMITS: dict[str, int] = {"1m": 1440, "1h": 168, "1d": 31}
"""The largest `limit` (buckets per page) OpenAI and Anthropic accept for each width."""


class Provider(Protocol):
    """One provider account's usage, cost and balance APIs, as records.

    `fetch_usage` aligns `start` down to the bucket width, follows the provider's paging and yields
    one UsagePage per page: `buckets` lists every bucket start in the page (empty ones too),
    `observed_at` (unix ms) is the caller's, shared by all pages of the fetch, and `closed_until` is the
    end of the newest bucket that ended at or before `now` (else the page's first bucket start).
    `fetch_costs` yields the provider's daily billed costs, one list per page; `replaced_days` then
    says which of the days the fetch covered hold a bill that replaces the stored one (a day the
    provider has not published yet is left as stored). `fetch_balances` reads prepaid balances
    (empty where a provider has none; `has_balances` says which). `list_price_shares` is the share of
    list price the channel charges per project (a relay's group ratio), empty for list price.
    `history_days` is how far back the provider keeps usage (None: no known limit). `stats` counts
    requests, retries and errors by reason for the daemon's self-metrics.
    """

    provider: str
    account: str
    endpoints: tuple[str, ...]
    bucket_width: int
    stats: ApiStats
    has_balances: bool
    history_days: int | None

    def fetch_usage(
        self, endpoint: str, start: int, end: int, *, observed_at: int, now: int
    ) -> Iterator[UsagePage]: ...

    def fetch_costs(self, start: int, end: int, *, now: int) -> Iterator[list[BilledCost]]: ...

    def replaced_days(self, days: Sequence[int]) -> list[int]: ...

    def fetch_balances(self, *, now: int) -> list[Balance]: ...

    def list_price_shares(self) -> Mapping[str, Decimal]: ...

    def close(self) -> None: ...


class ProviderDefaults:
    """The optional parts of `Provider` for adapters that lack them: no balances, list price, every
    fetched day's bill replaces the stored one, no known history limit."""

    has_balances: bool = False
    history_days: int | None = None

    def replaced_days(self, days: Sequence[int]) -> list[int]:
        """All of the days a cost fetch covered: their fetched lines replace what is stored."""
        return list(days)

    def fetch_balances(self, *, now: int) -> list[Balance]:
        return []

    def list_price_shares(self) -> Mapping[str, Decimal]:
        return {}


def bucket_seconds(width: str) -> int:
    """Seconds of a bucket width name ("1m", "1h", "1d")."""
    try:
        return BUCKET_SECONDS[width]
    except KeyError:
        raise ValueError(f"bucket_width must be one of 1m, 1h, 1d, not {width!r}") from None


def select_endpoints(requested: Iterable[str] | None, known: Sequence[str], account: str) -> tuple[str, ...]:
    """The configured endpoints in the provider's order; None means all of them."""
    if requested is None:
        return tuple(known)
    chosen = set(requested)
    unknown = sorted(chosen - set(known))
    if unknown:
        raise ValueError(f"{account}: unknown endpoint(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return tuple(name for name in known if name in chosen)


def check_endpoint(endpoint: str, polled: tuple[str, ...], account: str) -> None:
    """Refuse a fetch of an endpoint the account does not poll (a caller's bug, not a provider's)."""
    if endpoint not in polled:
        raise ValueError(f"{account}: endpoint {endpoint!r} is not polled (polled: {polled})")


def align_down(t: int, width: int) -> int:
    return t - t % width


def align_up(t: int, width: int) -> int:
    return -(-t // width) * width


def aligned_window(start: int, end: int, width: int) -> tuple[int, int]:
    """`start` aligned down and `end` aligned up to `width`, at least one bucket long."""
    start = align_down(start, width)
    return start, max(align_up(end, width), start + width)


def windows(start: int, end: int, size: int) -> Iterator[tuple[int, int]]:
    """Consecutive [a, b) pieces of [start, end), each at most `size` long, edges on multiples of
    `size` (so a fetch split this way asks for the same pieces whatever window it was given)."""
    a = start
    while a < end:
        b = min(align_down(a, size) + size, end)
        yield a, b
        a = b


def merge_rows(rows: Iterable[UsageRow]) -> tuple[UsageRow, ...]:
    """Sum rows that share a natural key (the provider split them by a dimension UsageRow has no field
    for, e.g. image size), so the ledger never sees two rows with one key in one observation."""
    merged: dict[tuple[object, ...], UsageRow] = {}
    for row in rows:
        seen = merged.get(row.key)
        if seen is None:
            merged[row.key] = row
            continue
        units = dict(seen.units)
        for name, count in row.units:
            units[name] = units.get(name, 0) + count
        merged[row.key] = replace(
            seen,
            tokens=tuple(a + b for a, b in zip(seen.tokens, row.tokens, strict=True)),
            requests=seen.requests + row.requests,
            units=tuple(sorted(units.items())),
        )
    return tuple(merged.values())


def build_page(
    *,
    provider: str,
    account: str,
    endpoint: str,
    bucket_width: int,
    spans: Sequence[tuple[int, int]],
    rows: Iterable[UsageRow],
    observed_at: int,
    now: int,
    start: int,
) -> UsagePage:
    """A UsagePage from a page's bucket (start, end) spans; `start` is the closed_until of an empty page."""
    closed = [end for _, end in spans if end <= now]
    first = min((s for s, _ in spans), default=start)
    return UsagePage(
        provider=provider,
        account=account,
        endpoint=endpoint,
        bucket_width=bucket_width,
        buckets=tuple(s for s, _ in spans),
        rows=merge_rows(rows),
        observed_at=observed_at,
        closed_until=max(closed, default=first),
    )


def read_buckets(
    client: ApiClient,
    path: str,
    params: Sequence[tuple[str, str]],
    *,
    endpoint: str,
    width: int,
    span: Callable[[Fields, dict[str, Any], str], tuple[int, int]],
    item: Callable[[Fields, int, Any, str], T],
) -> Iterator[tuple[list[tuple[int, int]], list[T]]]:
    """Each page of `path` (or part of whole buckets of a large page, see ApiClient.parts) as its
    buckets' (start, end) spans and its parsed results, whole or not at all.

    `span` reads a bucket's start and end in unix seconds (each provider spells them differently);
    a bucket must start on a multiple of `width` and end after it starts. `item(fields, bucket_start,
    result, where)` turns one result into a record.
    """
    f = client.fields(endpoint)
    for part in client.parts(path, params, endpoint=endpoint):  # whole pages, or parts of a large one
        spans: list[tuple[int, int]] = []
        items: list[T] = []
        for where, raw in part:
            bucket = f.obj(raw, where)
            start, end = span(f, bucket, where)
            if start % width:
                raise f.error(where, f"the bucket start {start} is not aligned to the {width} s bucket width")
            if end <= start:
                raise f.error(where, f"the bucket ends ({end}) before it starts ({start})")
            spans.append((start, end))
            results = f.items(bucket, "results", where)
            for j, result in enumerate(results):
                items.append(item(f, start, result, f"{where}.results[{j}]"))
            # Read: the parsed results go now, not when the generators that handed the bucket on
            # let go of it (a day of costs is tens of thousands of results, tens of MB parsed).
            results.clear()
        yield spans, items
