"""OpenAI's organization Usage API (ten endpoints) and Costs API, as UsagePage and BilledCost records.

Completions rows come in two shapes (provider-apis.md §0.1, §1.5): the current one, recognised by
`input_uncached_tokens` / `input_cache_write_tokens`, splits input by modality and cache state; the
legacy one (before 2026-07-15) counts cached text inside `input_tokens`. Both map onto TOKEN_TYPES
without double counting. Costs `amount.value` is parsed as a Decimal (never a float) in dollars.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
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
from monitor.providers.line_items import read_openai_line_item
from monitor.providers.openai_directory import read_directory
from monitor.providers.payload import Fields
from monitor.providers.schema import Build, Option, ProviderType, common_settings
from monitor.records import TOKEN_INDEX, BilledCost, UsagePage, UsageRow, tokens_of

if TYPE_CHECKING:
    from monitor.config.model import ProviderConfig

DEFAULT_BASE_URL = "https://api.openai.com/v1"
USAGE_PREFIX = "/organization/usage"
COSTS_PATH = "/organization/costs"
COSTS_LIMIT = 180
COSTS_GROUP_BY = ("project_id", "line_item", "api_key_id")
_QUANTITY_DIGITS = 18
DAY = 86400

CURRENT_ONLY_FIELDS = (
    "input_uncached_tokens",
    "input_cache_write_tokens",
    "input_text_tokens",
    "output_text_tokens",
    "input_cached_text_tokens",
    "input_cached_audio_tokens",
    "input_image_tokens",
    "input_cached_image_tokens",
    "output_image_tokens",
)
"""Completions fields added on 2026-07-15: any of them (non-null) marks a row as the current shape."""

_Measured = tuple[tuple[int, ...], int, tuple[tuple[str, int], ...]]
"""What a result row measured: (tokens in TOKEN_TYPES order, model requests, units)."""


def _completions(f: Fields, r: dict[str, Any], where: str) -> _Measured:
    """Token kinds of a completions row, from the current shape or the legacy one."""
    total_in = f.count(r, "input_tokens", where, required=True)
    total_out = f.count(r, "output_tokens", where, required=True)
    requests = f.count(r, "num_model_requests", where, required=True)
    if any(f.maybe_count(r, key, where) is not None for key in CURRENT_ONLY_FIELDS):
        return _current_tokens(f, r, where, total_in, total_out), requests, ()
    # Legacy: input_tokens is text incl. cached; input_audio_tokens includes cached audio (no split).
    cached = f.count(r, "input_cached_tokens", where)
    return (
        tokens_of(
            input=f.derived(total_in - cached, where, "input_tokens - input_cached_tokens"),
            cached_input=cached,
            input_audio=f.count(r, "input_audio_tokens", where),
            output=total_out,
            output_audio=f.count(r, "output_audio_tokens", where),
        ),
        requests,
        (),
    )


def _current_tokens(
    f: Fields, r: dict[str, Any], where: str, total_in: int, total_out: int
) -> tuple[int, ...]:
    """The 2026-07 shape: per-modality fields where given, else derived from the totals (never negative)."""

    def count(key: str) -> int:
        return f.count(r, key, where)

    def given_or(key: str, formula: str, derive: Callable[[], int]) -> int:
        value = f.maybe_count(r, key, where)
        return value if value is not None else f.derived(derive(), where, formula)

    audio_in, image_in = count("input_audio_tokens"), count("input_image_tokens")
    cached_audio, cached_image = count("input_cached_audio_tokens"), count("input_cached_image_tokens")
    audio_out, image_out = count("output_audio_tokens"), count("output_image_tokens")
    cache_write = count("input_cache_write_tokens")

    def uncached() -> int:
        formula = "input_tokens - input_cached_tokens - input_cache_write_tokens"
        return given_or(
            "input_uncached_tokens", formula, lambda: total_in - count("input_cached_tokens") - cache_write
        )

    return tokens_of(
        input=given_or(
            "input_text_tokens",
            "input_uncached_tokens - input_audio_tokens - input_image_tokens",
            lambda: uncached() - audio_in - image_in,
        ),
        cached_input=given_or(
            "input_cached_text_tokens",
            "input_cached_tokens - input_cached_audio_tokens - input_cached_image_tokens",
            lambda: count("input_cached_tokens") - cached_audio - cached_image,
        ),
        cache_write=cache_write,
        output=given_or(
            "output_text_tokens",
            "output_tokens - output_audio_tokens - output_image_tokens",
            lambda: total_out - audio_out - image_out,
        ),
        input_audio=audio_in,
        cached_input_audio=cached_audio,
        output_audio=audio_out,
        input_image=image_in,
        cached_input_image=cached_image,
        output_image=image_out,
    )


def _input_tokens(f: Fields, r: dict[str, Any], where: str) -> _Measured:
    """Embeddings and moderations: input tokens only."""
    tokens = tokens_of(input=f.count(r, "input_tokens", where, required=True))
    return tokens, f.count(r, "num_model_requests", where, required=True), ()


def _units(field: str, unit: str, model_requests: bool) -> Callable[[Fields, dict[str, Any], str], _Measured]:
    """A parser for endpoints that bill a non-token quantity: `field` becomes the unit `unit`;
    `model_requests` says whether the result also has a (required) `num_model_requests`."""

    def parse(f: Fields, r: dict[str, Any], where: str) -> _Measured:
        amount = f.count(r, field, where, required=True)
        requests = f.count(r, "num_model_requests", where, required=True) if model_requests else 0
        return tokens_of(), requests, ((unit, amount),) if amount else ()

    return parse


@dataclass(frozen=True)
class _Endpoint:
    result: str  # the result object is "organization.usage.<result>.result"
    group_by: tuple[str, ...]
    parse: Callable[[Fields, dict[str, Any], str], _Measured]


_KEYS = ("project_id", "user_id", "api_key_id")
_MODEL_KEYS = ("model", *_KEYS)
ENDPOINTS: dict[str, _Endpoint] = {
    "completions": _Endpoint("completions", (*_MODEL_KEYS, "batch", "service_tier"), _completions),
    "embeddings": _Endpoint("embeddings", _MODEL_KEYS, _input_tokens),
    "moderations": _Endpoint("moderations", _MODEL_KEYS, _input_tokens),
    "images": _Endpoint("images", (*_MODEL_KEYS, "size", "source"), _units("images", "images", True)),
    "audio_speeches": _Endpoint("audio_speeches", _MODEL_KEYS, _units("characters", "characters", True)),
    "audio_transcriptions": _Endpoint(
        "audio_transcriptions", _MODEL_KEYS, _units("seconds", "seconds", True)
    ),
    "vector_stores": _Endpoint("vector_stores", ("project_id",), _units("usage_bytes", "bytes", False)),
    "code_interpreter_sessions": _Endpoint(
        "code_interpreter_sessions", ("project_id",), _units("num_sessions", "sessions", False)
    ),
    "file_search_calls": _Endpoint(
        "file_searches", _KEYS, _units("num_requests", "file_search_requests", False)
    ),
    "web_search_calls": _Endpoint(
        "web_searches", (*_MODEL_KEYS, "context_level"), _units("num_requests", "web_search_requests", True)
    ),
}
"""Every usage endpoint with the `group_by` values that identify a price (see docs/providers.md)."""


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
        for _, costs in read_buckets(
            self._client, COSTS_PATH, params, endpoint="costs", width=DAY, span=_span, item=self._cost
        ):
            yield costs

    def fetch_directory(self) -> list[DirectoryPart]:
        """Names of the organization's projects, API keys and users (see openai_directory)."""
        return read_directory(self._client, self.provider, self.account)

    def _row(
        self, f: Fields, bucket_start: int, item: Any, where: str, *, spec: _Endpoint, endpoint: str
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

    def _cost(self, f: Fields, day_start: int, item: Any, where: str) -> BilledCost:
        """One cost line; what its `line_item` says (model, token kind, tier) goes in the line's fields
        and its `quantity` is kept. A line in another currency than USD is kept as such (the store
        reports it and never adds it to dollars) instead of failing the page."""
        r = f.obj(item, where)
        amount = f.obj(r.get("amount"), f"{where}.amount")
        currency = f.text(amount, "currency", f"{where}.amount").upper()
        if not currency:
            raise f.error(f"{where}.amount.currency", "expected a currency code such as 'usd', got none")
        value = amount.get("value")
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise f.error(f"{where}.amount.value", f"expected a number of dollars, got {value!r:.40}")
        line_item = f.text(r, "line_item", where)
        read = read_openai_line_item(line_item)
        return BilledCost(
            provider=self.provider,
            account=self.account,
            day_start=day_start,
            project=f.text(r, "project_id", where),
            line_item=line_item,
            amount_pico=f.pico(Decimal(value), f"{where}.amount.value"),
            model=read.model,
            token_type=read.kind if read.kind in TOKEN_INDEX else "",
            service_tier=read.tier if read.model else "",
            api_key=f.text(r, "api_key_id", where),
            quantity=_quantity(f, r, where),
            quantity_unit=f.text(r, "quantity_unit", where),
            currency=currency,
        )


def _quantity(f: Fields, r: dict[str, Any], where: str) -> Decimal | None:
    """A line's `quantity` (grouped by line_item, since 2026-08-21): a number >= 0, or None."""
    value = r.get("quantity")
    if value is None:
        return None
    number = Decimal(value) if isinstance(value, int | Decimal) and not isinstance(value, bool) else None
    if number is None or not number.is_finite() or number < 0 or number.adjusted() > _QUANTITY_DIGITS:
        raise f.error(f"{where}.quantity", f"expected a number from 0 to 10^18, got {value!r:.40}")
    return number


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
