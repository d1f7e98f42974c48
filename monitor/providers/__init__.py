"""Provider adapters: the `Provider` seam the poller fetches through, `make_provider` for a config
entry, and the bucket and page rules both adapters share (alignment, closed_until, row merging).

Adapters return records (`UsagePage`, `BilledCost`); they never price or store.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import httpx

from monitor.providers.http import ApiClient, ApiStats
from monitor.providers.payload import Fields
from monitor.records import BilledCost, UsagePage, UsageRow

if TYPE_CHECKING:
    from monitor.config.model import ProviderConfig

__all__ = [
    "BUCKET_LIMITS",
    "BUCKET_SECONDS",
    "ApiStats",
    "Provider",
    "align_down",
    "align_up",
    "build_page",
    "make_provider",
    "merge_rows",
    "read_buckets",
]

T = TypeVar("T")

BUCKET_SECONDS: dict[str, int] = {"1m": 60, "1h": 3600, "1d": 86400}
BUCKET_LIMITS: dict[str, int] = {"1m": 1440, "1h": 168, "1d": 31}
"""The largest `limit` (buckets per page) both providers accept for each width."""


class Provider(Protocol):
    """One provider account's usage and cost APIs, as records.

    `fetch_usage` aligns `start` down to the bucket width, follows `next_page` until `has_more` is false
    and yields one UsagePage per page: `buckets` lists every bucket start in the page (empty ones too),
    `observed_at` (unix ms) is the caller's, shared by all pages of the fetch, and `closed_until` is the
    end of the newest bucket that ended at or before `now` (else the page's first bucket start).
    `fetch_costs` yields the provider's daily billed costs, one list per page. `stats` counts requests,
    retries and errors by reason for the daemon's self-metrics.
    """

    provider: str
    account: str
    endpoints: tuple[str, ...]
    bucket_width: int
    stats: ApiStats

    def fetch_usage(
        self, endpoint: str, start: int, end: int, *, observed_at: int, now: int
    ) -> Iterator[UsagePage]: ...

    def fetch_costs(self, start: int, end: int, *, now: int) -> Iterator[list[BilledCost]]: ...

    def close(self) -> None: ...


def make_provider(
    cfg: ProviderConfig,
    *,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
    transport: httpx.BaseTransport | None = None,
    key_hint: str = "",
) -> Provider:
    """The adapter for one configured account. `key_hint` names where the key is configured (for the
    401/403 message, e.g. "providers[0].api_key"); by default the entry is named by its `name`."""
    from monitor.providers.anthropic import AnthropicProvider  # noqa: PLC0415 (they import this module)
    from monitor.providers.openai import OpenAIProvider  # noqa: PLC0415

    hint = key_hint or f"the api_key of the providers entry named {cfg.name!r}"
    if cfg.type == "openai":
        return OpenAIProvider(
            account=cfg.name,
            api_key=cfg.api_key.reveal(),
            base_url=cfg.base_url,
            bucket_width=cfg.bucket_width,
            timeout=cfg.timeout,
            max_attempts=cfg.max_attempts,
            endpoints=cfg.endpoints,
            sleep=sleep,
            rng=rng,
            transport=transport,
            key_hint=hint,
        )
    if cfg.type == "anthropic":
        return AnthropicProvider(
            account=cfg.name,
            api_key=cfg.api_key.reveal(),
            base_url=cfg.base_url,
            bucket_width=cfg.bucket_width,
            timeout=cfg.timeout,
            max_attempts=cfg.max_attempts,
            endpoints=cfg.endpoints,
            anthropic_version=cfg.anthropic_version,
            sleep=sleep,
            rng=rng,
            transport=transport,
            key_hint=hint,
        )
    raise ValueError(
        f"providers entry {cfg.name!r}: unknown type {cfg.type!r} (expected openai or anthropic)"
    )


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


def align_down(t: int, width: int) -> int:
    return t - t % width


def align_up(t: int, width: int) -> int:
    return -(-t // width) * width


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
            for j, result in enumerate(f.items(bucket, "results", where)):
                items.append(item(f, start, result, f"{where}.results[{j}]"))
        yield spans, items
