"""Anthropic's Admin usage report (messages) and cost report, as UsagePage and BilledCost records.

The legacy `usage_report/messages` and `cost_report` endpoints (provider-apis.md §3): RFC 3339 bucket
times, cache writes only in the nested `cache_creation` object, no request count, and cost `amount` as a
decimal string in CENTS (Decimal(amount) / 100 dollars; a 100x error here is the classic bug).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal, DecimalException
from functools import partial
from typing import TYPE_CHECKING, Any

import httpx

from monitor.claude_code import ClaudeCodeUsage
from monitor.directory import DirectoryPart
from monitor.providers.anthropic_claude_code import read_day
from monitor.providers.anthropic_directory import read_directory
from monitor.providers.base import (
    BUCKET_LIMITS,
    ProviderDefaults,
    align_down,
    align_up,
    bucket_seconds,
    build_page,
    check_endpoint,
    read_buckets,
    select_endpoints,
)
from monitor.providers.http import MAX_PAGES, ApiClient, ApiStats
from monitor.providers.payload import Fields, read_instant
from monitor.providers.schema import Build, Option, ProviderType, common_settings
from monitor.records import BilledCost, UsagePage, UsageRow, tokens_of

if TYPE_CHECKING:
    from monitor.config.model import ProviderConfig

DEFAULT_BASE_URL = "https://api.anthropic.com"
DEFAULT_VERSION = "2023-06-01"
USAGE_PATHS: dict[str, str] = {"messages": "/v1/organizations/usage_report/messages"}
USAGE_GROUP_BY = (
    "model",
    "workspace_id",
    "api_key_id",
    "service_tier",
    "context_window",
    "inference_geo",
    "speed",
)
FAST_MODE_BETA = "fast-mode-2026-02-01"
"""Grouping the usage report by `speed` needs this `anthropic-beta` header (provider-apis.md §3.1)."""
COST_PATH = "/v1/organizations/cost_report"
COST_GROUP_BY = ("workspace_id", "description")
COST_LIMIT = 31
DAY = 86400

COST_TOKEN_TYPES: dict[str, str] = {
    "uncached_input_tokens": "input",
    "cache_read_input_tokens": "cached_input",
    "cache_creation.ephemeral_5m_input_tokens": "cache_write",
    "cache_creation.ephemeral_1h_input_tokens": "cache_write_1h",
    "output_tokens": "output",
}
"""The cost report's `token_type` in TOKEN_TYPES words; an unknown value is kept as reported."""
WEB_SEARCH_UNIT = "web_search_requests"
"""The `token_type` given to the cost report's web search lines (`cost_type` "web_search"): the usage
report's unit of the same name."""


def rfc3339(t: int) -> str:
    """Unix seconds as the `2025-08-01T00:00:00Z` form the API documents."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class AnthropicProvider(ProviderDefaults):
    """The Anthropic Admin API usage and cost reports of one organization (`x-api-key` admin key)."""

    provider = "anthropic"

    def __init__(
        self,
        *,
        account: str,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        bucket_width: str = "1h",
        timeout: float = 30.0,
        max_attempts: int = 5,
        max_pages: int = MAX_PAGES,
        endpoints: Iterable[str] | None = None,
        anthropic_version: str = DEFAULT_VERSION,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        transport: httpx.BaseTransport | None = None,
        key_hint: str = "the api_key of this provider",
    ) -> None:
        self.account = account
        self.width_name = bucket_width
        self.bucket_width = bucket_seconds(bucket_width)
        self.endpoints = select_endpoints(endpoints, tuple(USAGE_PATHS), account)
        self._client = ApiClient(
            account=account,
            base_url=base_url,
            headers={
                "x-api-key": api_key,
                "anthropic-version": anthropic_version,
                "anthropic-beta": FAST_MODE_BETA,
            },
            secrets=(api_key,),
            key_hint=key_hint,
            timeout=timeout,
            max_attempts=max_attempts,
            max_pages=max_pages,
            sleep=sleep,
            rng=rng,
            transport=transport,
        )
        self.stats: ApiStats = self._client.stats

    def close(self) -> None:
        self._client.close()

    def fetch_usage(
        self, endpoint: str, start: int, end: int, *, observed_at: int, now: int
    ) -> Iterator[UsagePage]:
        """Pages of the messages usage report from `start` (aligned down) to `end` (aligned up)."""
        check_endpoint(endpoint, self.endpoints, self.account)
        width = self.bucket_width
        start = align_down(start, width)
        end = max(align_up(end, width), start + width)
        params = [
            ("starting_at", rfc3339(start)),
            ("ending_at", rfc3339(end)),
            ("bucket_width", self.width_name),
            ("limit", str(BUCKET_LIMITS[self.width_name])),
            *(("group_by[]", g) for g in USAGE_GROUP_BY),
        ]
        path = USAGE_PATHS[endpoint]
        row = partial(self._row, endpoint=endpoint)
        for spans, rows in read_buckets(
            self._client, path, params, endpoint=endpoint, width=width, span=_span, item=row
        ):
            yield build_page(
                provider=self.provider,
                account=self.account,
                endpoint=endpoint,
                bucket_width=width,
                spans=spans,
                rows=rows,
                observed_at=observed_at,
                now=now,
                start=start,
            )

    def fetch_costs(self, start: int, end: int, *, now: int) -> Iterator[list[BilledCost]]:
        """Daily billed costs by workspace and description, one list per page; cents -> picodollars."""
        start = align_down(start, DAY)
        end = max(align_up(min(end, now), DAY), start + DAY)
        params = [
            ("starting_at", rfc3339(start)),
            ("ending_at", rfc3339(end)),
            ("bucket_width", "1d"),
            ("limit", str(COST_LIMIT)),
            *(("group_by[]", g) for g in COST_GROUP_BY),
        ]
        for _, costs in read_buckets(
            self._client, COST_PATH, params, endpoint="cost_report", width=DAY, span=_span, item=self._cost
        ):
            yield costs

    def fetch_directory(self) -> list[DirectoryPart]:
        """Names of the organization's workspaces, API keys and users (see anthropic_directory)."""
        return read_directory(self._client, self.provider, self.account)

    def fetch_claude_code(self, day_start: int) -> list[ClaudeCodeUsage]:
        """The Claude Code usage report of one UTC day (see anthropic_claude_code)."""
        return read_day(self._client, self.provider, self.account, day_start)

    def _row(self, f: Fields, bucket_start: int, item: Any, where: str, *, endpoint: str) -> UsageRow:
        r = f.obj(item, where)
        cache = _nested(f, r, "cache_creation", where)
        tools = _nested(f, r, "server_tool_use", where)
        searches = f.count(tools, "web_search_requests", f"{where}.server_tool_use")
        tier = fast_mode_tier(f.text(r, "service_tier", where), f.text(r, "speed", where))
        tokens = tokens_of(
            input=f.count(r, "uncached_input_tokens", where, required=True),
            cache_write=f.count(cache, "ephemeral_5m_input_tokens", f"{where}.cache_creation"),
            cache_write_1h=f.count(cache, "ephemeral_1h_input_tokens", f"{where}.cache_creation"),
            cached_input=f.count(r, "cache_read_input_tokens", where, required=True),
            output=f.count(r, "output_tokens", where, required=True),
        )
        return UsageRow(
            provider=self.provider,
            account=self.account,
            endpoint=endpoint,
            bucket_start=bucket_start,
            bucket_width=self.bucket_width,
            project=f.text(r, "workspace_id", where),
            api_key=f.text(r, "api_key_id", where),
            model=f.text(r, "model", where),
            service_tier=tier,
            batch=tier == "batch",
            context_window=f.text(r, "context_window", where),
            inference_geo=f.text(r, "inference_geo", where),
            tokens=tokens,
            requests=0,  # the legacy usage report has no request count
            units=(("web_search_requests", searches),) if searches else (),
        )

    def _cost(self, f: Fields, day_start: int, item: Any, where: str) -> BilledCost:
        r = f.obj(item, where)
        currency = f.text(r, "currency", where).upper()  # another currency is kept apart, never added to USD
        if not currency:
            raise f.error(f"{where}.currency", "expected a currency code such as 'USD', got none")
        cents = r.get("amount")
        if not isinstance(cents, str):
            raise f.error(f"{where}.amount", f"expected a decimal string in cents, got {cents!r:.40}")
        try:
            dollars = Decimal(cents.strip()) / 100
        except DecimalException:  # not a number, or so large that dividing it overflows (1e9999999)
            raise f.error(
                f"{where}.amount", f"{cents!r:.40} is not a usable decimal number of cents"
            ) from None
        token_type = f.text(r, "token_type", where)
        if not token_type and f.text(r, "cost_type", where) == "web_search":
            token_type = WEB_SEARCH_UNIT  # priced per search: its rate is per `web_search_requests` unit
        return BilledCost(
            provider=self.provider,
            account=self.account,
            day_start=day_start,
            project=f.text(r, "workspace_id", where),
            line_item=f.text(r, "description", where),
            amount_pico=f.pico(dollars, f"{where}.amount"),
            model=f.text(r, "model", where),
            token_type=COST_TOKEN_TYPES.get(token_type, token_type),
            service_tier=f.text(r, "service_tier", where),
            context_window=f.text(r, "context_window", where),
            currency=currency,
        )


def fast_mode_tier(service_tier: str, speed: str) -> str:
    """The row's tier word with fast mode folded in: speed "fast" on the standard tier is the `fast` tier.

    Fast mode on another tier ("priority", "batch") becomes e.g. "priority+fast", a word no price
    matches, so such usage is reported unpriced instead of being priced as either part alone.
    """
    if speed != "fast":
        return service_tier
    return "fast" if service_tier in ("", "standard") else f"{service_tier}+fast"


def _nested(f: Fields, r: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    """An optional nested object (`cache_creation`, `server_tool_use`); missing or null reads as empty."""
    value = r.get(key)
    return {} if value is None else f.obj(value, f"{where}.{key}")


def _span(f: Fields, bucket: dict[str, Any], where: str) -> tuple[int, int]:
    """A bucket's start and end, RFC 3339 -> unix seconds."""
    return read_instant(f, bucket, "starting_at", where), read_instant(f, bucket, "ending_at", where)


def _build(cfg: ProviderConfig, build: Build) -> AnthropicProvider:
    return AnthropicProvider(
        api_key=TYPE.secret(cfg, "api_key"),
        base_url=cfg.base_url or DEFAULT_BASE_URL,
        bucket_width=cfg.bucket_width,
        endpoints=cfg.endpoints,
        anthropic_version=TYPE.option(cfg, "anthropic_version"),
        key_hint=build.hint("api_key"),
        **common_settings(cfg, build),
    )


TYPE = ProviderType(
    name="anthropic",
    summary="an Anthropic organization (Admin API key)",
    build=_build,
    endpoints=tuple(USAGE_PATHS),
    options={
        "api_key": Option("secret", "${ENV_VAR} or ${file:/path} holding an admin API key", required=True),
        "base_url": Option("url", "the API base URL", default=DEFAULT_BASE_URL),
        "anthropic_version": Option("version_date", "the anthropic-version header", default=DEFAULT_VERSION),
        "claude_code": Option("bool", "true or false: poll the Claude Code usage report", default="true"),
    },
)
"""The config `type: anthropic` (see monitor.providers.registry)."""
