"""OpenAI's organization Usage API (ten endpoints) and Costs API, as UsagePage and BilledCost records.

What each usage endpoint's rows measure (the completions shapes of before and after 2026-07-15) is
`openai_usage.py`; a Costs line read exactly in picodollars is `openai_costs.py`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

import httpx

from monitor.directory import DirectoryPart
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
from monitor.providers.openai_costs import read_cost
from monitor.providers.openai_directory import read_directory
from monitor.providers.openai_usage import ENDPOINTS, Endpoint
from monitor.providers.payload import Fields
from monitor.providers.schema import Build, Option, ProviderType, common_settings
from monitor.records import BilledCost, UsagePage, UsageRow

if TYPE_CHECKING:
    from monitor.config.model import ProviderConfig

DEFAULT_BASE_URL = "https://api.openai.com/v1"
USAGE_PREFIX = "/organization/usage"
COSTS_PATH = "/organization/costs"
COSTS_LIMIT = 180
COSTS_GROUP_BY = ("project_id", "line_item", "api_key_id")
DAY = 86400


class OpenAIProvider(ProviderDefaults):
    """The OpenAI organization usage and costs APIs of one account (admin key, `Authorization: Bearer`)."""

    provider = "openai"

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
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        transport: httpx.BaseTransport | None = None,
        key_hint: str = "the api_key of this provider",
    ) -> None:
        self.account = account
        self.width_name = bucket_width
        self.bucket_width = bucket_seconds(bucket_width)
        self.endpoints = select_endpoints(endpoints, tuple(ENDPOINTS), account)
        self._client = ApiClient(
            account=account,
            base_url=base_url,
            headers={"Authorization": f"Bearer {api_key}"},
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
        """Pages of `endpoint` for the buckets from `start` (aligned down) to `end` (aligned up)."""
        check_endpoint(endpoint, self.endpoints, self.account)
        spec = ENDPOINTS[endpoint]
        width = self.bucket_width
        start = align_down(start, width)
        end = max(align_up(end, width), start + width)
        params = [
            ("start_time", str(start)),
            ("end_time", str(end)),
            ("bucket_width", self.width_name),
            ("limit", str(BUCKET_LIMITS[self.width_name])),
            *(("group_by[]", g) for g in spec.group_by),
        ]
        row = partial(self._row, spec=spec, endpoint=endpoint)
        for spans, rows in read_buckets(
            self._client,
            f"{USAGE_PREFIX}/{endpoint}",
            params,
            endpoint=endpoint,
            width=width,
            span=_span,
            item=row,
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
        """Daily billed costs by project, line item and API key, one list per page; amounts exact in picodollars."""
        start = align_down(start, DAY)
        end = max(align_up(min(end, now), DAY), start + DAY)
        params = [
            ("start_time", str(start)),
            ("end_time", str(end)),
            ("bucket_width", "1d"),
            ("limit", str(COSTS_LIMIT)),
            *(("group_by[]", g) for g in COSTS_GROUP_BY),
        ]
        cost = partial(read_cost, provider=self.provider, account=self.account)
        for _, costs in read_buckets(
            self._client, COSTS_PATH, params, endpoint="costs", width=DAY, span=_span, item=cost
        ):
            yield costs

    def fetch_directory(self) -> list[DirectoryPart]:
        """Names of the organization's projects, API keys and users (see openai_directory)."""
        return read_directory(self._client, self.provider, self.account)

    def _row(
        self, f: Fields, bucket_start: int, item: Any, where: str, *, spec: Endpoint, endpoint: str
    ) -> UsageRow:
        r = f.obj(item, where)
        kind = r.get("object")
        expected = f"organization.usage.{spec.result}.result"
        if kind is not None and kind != expected:
            raise f.error(f"{where}.object", f"expected {expected!r}, got {kind!r:.60}")
        tokens, requests, units = spec.parse(f, r, where)
        return UsageRow(
            provider=self.provider,
            account=self.account,
            endpoint=endpoint,
            bucket_start=bucket_start,
            bucket_width=self.bucket_width,
            project=f.text(r, "project_id", where),
            api_key=f.text(r, "api_key_id", where),
            user=f.text(r, "user_id", where),
            model=f.text(r, "model", where),
            service_tier=f.text(r, "service_tier", where),
            batch=f.flag(r, "batch", where),
            tokens=tokens,
            requests=requests,
            units=units,
        )


def _span(f: Fields, bucket: dict[str, Any], where: str) -> tuple[int, int]:
    """A bucket's start and end, unix seconds."""
    return f.timestamp(bucket, "start_time", where), f.timestamp(bucket, "end_time", where)


def _build(cfg: ProviderConfig, build: Build) -> OpenAIProvider:
    return OpenAIProvider(
        api_key=TYPE.secret(cfg, "api_key"),
        base_url=cfg.base_url or DEFAULT_BASE_URL,
        bucket_width=cfg.bucket_width,
        endpoints=cfg.endpoints,
        key_hint=build.hint("api_key"),
        **common_settings(cfg, build),
    )


TYPE = ProviderType(
    name="openai",
    summary="an OpenAI organization (admin key)",
    build=_build,
    endpoints=tuple(ENDPOINTS),
    options={
        "api_key": Option("secret", "${ENV_VAR} or ${file:/path} holding an admin API key", required=True),
        "base_url": Option("url", "the API base URL", default=DEFAULT_BASE_URL),
    },
)
"""The config `type: openai` (see monitor.providers.registry)."""
