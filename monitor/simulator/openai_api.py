"""The simulated OpenAI organization Usage and Costs API (provider-apis.md §1, §2), current field shape.

Paths are relative to `{url}/openai/v1`. Completions and embeddings carry generated usage; the other
usage endpoints validate their parameters and answer with empty buckets. Costs bill every token of
both at the simulator's sheet, `amount.value` being a JSON number in dollars written exactly.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from monitor.records import TOKEN_INDEX
from monitor.simulator import directory_api
from monitor.simulator.generate import DAY, Counts
from monitor.simulator.prices import REQUESTS_SLOT
from monitor.simulator.usage import Filter, SimulatedUsage
from monitor.simulator.wire import (
    LIMITS,
    WIDTHS,
    ApiRequest,
    BadRequest,
    Query,
    Raw,
    Reply,
    decimal_text,
    first,
    group_by,
    integer,
    limit_of,
    multi,
    page,
)

DIMS = ("project_id", "user_id", "api_key_id", "model", "batch", "service_tier")
_FILTERS = {"project_ids": 0, "user_ids": 1, "api_key_ids": 2, "models": 3}
_KEYS = ("project_id", "user_id", "api_key_id")


@dataclass(frozen=True)
class _Endpoint:
    result_object: str
    group_by: tuple[str, ...]
    source: str | None = None
    """SimulatedUsage endpoint with the data, or None for an endpoint that is always empty."""


ENDPOINTS: dict[str, _Endpoint] = {
    "completions": _Endpoint(
        "organization.usage.completions.result",
        (*_KEYS, "model", "batch", "service_tier"),
        "openai:completions",
    ),
    "embeddings": _Endpoint("organization.usage.embeddings.result", (*_KEYS, "model"), "openai:embeddings"),
    "moderations": _Endpoint("organization.usage.moderations.result", (*_KEYS, "model")),
    "images": _Endpoint("organization.usage.images.result", (*_KEYS, "model", "size", "source")),
    "audio_speeches": _Endpoint("organization.usage.audio_speeches.result", (*_KEYS, "model")),
    "audio_transcriptions": _Endpoint("organization.usage.audio_transcriptions.result", (*_KEYS, "model")),
    "vector_stores": _Endpoint("organization.usage.vector_stores.result", ("project_id",)),
    "code_interpreter_sessions": _Endpoint(
        "organization.usage.code_interpreter_sessions.result", ("project_id",)
    ),
    "file_search_calls": _Endpoint("organization.usage.file_searches.result", (*_KEYS, "vector_store_id")),
    "web_search_calls": _Endpoint(
        "organization.usage.web_searches.result", (*_KEYS, "model", "context_level")
    ),
}
COSTS_GROUP_BY = ("project_id", "line_item", "api_key_id")
COSTS_LIMIT = (7, 180)

_T = TOKEN_INDEX
_IN, _CACHED, _WRITE, _OUT = _T["input"], _T["cached_input"], _T["cache_write"], _T["output"]
_AUD, _CAUD, _OAUD = _T["input_audio"], _T["cached_input_audio"], _T["output_audio"]
_IMG, _CIMG, _OIMG = _T["input_image"], _T["cached_input_image"], _T["output_image"]


def error(
    status: int, message: str, *, kind: str = "invalid_request_error", param: str | None = None
) -> Reply:
    """An OpenAI-style error body: {"error": {"message", "type", "param", "code"}}."""
    codes = {
        401: "invalid_api_key",
        403: "insufficient_permissions",
        404: "unknown_url",
        429: "rate_limit_exceeded",
    }
    body = {"error": {"message": message, "type": kind, "param": param, "code": codes.get(status)}}
    return Reply(status, body)


def _completion(dims: tuple[Any, ...], c: Counts) -> dict[str, Any]:
    uncached, cached = c[_IN] + c[_AUD] + c[_IMG], c[_CACHED] + c[_CAUD] + c[_CIMG]
    return {
        "object": "organization.usage.completions.result",
        "input_tokens": uncached + cached + c[_WRITE],
        "input_cached_tokens": cached,
        "input_cache_write_tokens": c[_WRITE],
        "input_uncached_tokens": uncached,
        "output_tokens": c[_OUT] + c[_OAUD] + c[_OIMG],
        "input_text_tokens": c[_IN],
        "output_text_tokens": c[_OUT],
        "input_cached_text_tokens": c[_CACHED],
        "input_audio_tokens": c[_AUD],
        "input_cached_audio_tokens": c[_CAUD],
        "output_audio_tokens": c[_OAUD],
        "input_image_tokens": c[_IMG],
        "input_cached_image_tokens": c[_CIMG],
        "output_image_tokens": c[_OIMG],
        "num_model_requests": c[REQUESTS_SLOT],
        **dict(zip(DIMS, dims[: len(DIMS)], strict=True)),
    }


def _embedding(dims: tuple[Any, ...], c: Counts) -> dict[str, Any]:
    return {
        "object": "organization.usage.embeddings.result",
        "input_tokens": c[_IN],
        "num_model_requests": c[REQUESTS_SLOT],
        **dict(zip(DIMS[:4], dims[:4], strict=True)),
    }


def handle(usage: SimulatedUsage, request: ApiRequest, key: str) -> Reply:
    """Answer one request to a path under /openai/v1 (`Authorization: Bearer <key>` required)."""
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {key}".encode()):
        message = "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys."
        return error(401, message if given else "You didn't provide an API key.")
    path = request.path
    try:
        if path == "/organization/costs":
            return Reply(200, _costs(usage, request))
        name = path.removeprefix("/organization/usage/")
        if name in ENDPOINTS and path.startswith("/organization/usage/"):
            return Reply(200, _usage(usage, ENDPOINTS[name], request))
        listing = directory_api.openai(usage.directories["openai"], request)
        if listing is not None:
            return Reply(200, listing)
    except BadRequest as exc:
        return error(400, str(exc), param=exc.param)
    return error(404, f"Invalid URL (GET /v1{path})")


def _window(query: Query, width: int, now: int, limit: int) -> tuple[list[int], str | None]:
    start = integer(query, "start_time", required=True)
    end = integer(query, "end_time")
    assert start is not None
    if end is not None and end <= start:
        raise BadRequest("'end_time' must be greater than 'start_time'", "end_time")
    stop = now if end is None else min(end, now)
    return page(query, start - start % width, stop, width, limit)


def _usage(usage: SimulatedUsage, spec: _Endpoint, request: ApiRequest) -> dict[str, Any]:
    query, now = request.query, request.now
    width_name = first(query, "bucket_width") or "1d"
    if width_name not in WIDTHS:
        raise BadRequest(f"invalid 'bucket_width' {width_name!r}; allowed: 1m, 1h, 1d", "bucket_width")
    width = WIDTHS[width_name]
    limit = limit_of(query, *LIMITS[width_name])
    grouped = group_by(query, spec.group_by)
    where = _filters(query)
    starts, following = _window(query, width, now, limit)
    # The cells' last dim (a prompt above 272K tokens) is never reported: rows always sum over it.
    keep = (*(name in grouped for name in DIMS), False)
    render = _completion if spec.source == "openai:completions" else _embedding

    def results(start: int) -> Any:
        if spec.source is None:
            return []
        signature = None if where or not request.fast else usage.signature("openai", start, width, now)
        cache_key = (spec.source, start, width, keep, signature)
        if signature is not None and (cached := usage.rendered.get(cache_key)) is not None:
            return Raw(cached)
        rows = [
            render(dims, counts)
            for dims, counts in usage.grouped(spec.source, start, width, now, keep=keep, where=where)
        ]
        if signature is not None:
            return Raw(usage.rendered.put(cache_key, json.dumps(rows, separators=(",", ":"))))
        return rows

    data = [
        {"object": "bucket", "start_time": s, "end_time": s + width, "results": results(s)} for s in starts
    ]
    return {"object": "page", "data": data, "has_more": following is not None, "next_page": following}


def _filters(query: Query) -> Filter:
    where: list[tuple[int, frozenset[Any]]] = [
        (index, frozenset(multi(query, name))) for name, index in _FILTERS.items() if multi(query, name)
    ]
    batch = first(query, "batch")
    if batch is not None:
        if batch not in ("true", "false"):
            raise BadRequest(f"'batch' must be true or false, got {batch!r}", "batch")
        where.append((4, frozenset([batch == "true"])))
    return tuple(where)


def _costs(usage: SimulatedUsage, request: ApiRequest) -> dict[str, Any]:
    query, now = request.query, request.now
    if (first(query, "bucket_width") or "1d") != "1d":
        raise BadRequest("'bucket_width' must be '1d' for costs", "bucket_width")
    limit = limit_of(query, *COSTS_LIMIT)
    grouped = group_by(query, COSTS_GROUP_BY)
    projects, keys = set(multi(query, "project_ids")), set(multi(query, "api_key_ids"))
    starts, following = _window(query, DAY, now, limit)
    by_item = "line_item" in grouped
    data = []
    for day in starts:
        totals: dict[tuple[Any, ...], list[int]] = {}
        for hour in range(day, day + DAY, 3600):
            lines = usage.costs.hour_lines("openai", hour, now)
            for (project, api_key, item), (quantity, pico) in lines.items():
                if (projects and project not in projects) or (keys and api_key not in keys):
                    continue
                group = (
                    project if "project_id" in grouped else None,
                    api_key if "api_key_id" in grouped else None,
                    item if by_item else None,
                )
                total = totals.setdefault(group, [0, 0])
                total[0] += quantity
                total[1] += pico
        results = [
            {
                "object": "organization.costs.result",
                "amount": {"value": Raw(decimal_text(Decimal(pico).scaleb(-12))), "currency": "usd"},
                "line_item": item,
                "project_id": project,
                "api_key_id": api_key,
                "quantity": quantity if by_item else None,
                "quantity_unit": "tokens" if by_item else None,
            }
            for (project, api_key, item), (quantity, pico) in totals.items()
        ]
        results.extend(usage.extra_lines.get(("openai", day), ()))
        data.append({"object": "bucket", "start_time": day, "end_time": day + DAY, "results": results})
    return {"object": "page", "data": data, "has_more": following is not None, "next_page": following}
