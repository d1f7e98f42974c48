"""The simulated Anthropic Admin usage and cost reports (provider-apis.md §3), the legacy endpoints.

Paths are relative to `{url}/anthropic`: /v1/organizations/usage_report/messages and
/v1/organizations/cost_report. Auth is `x-api-key` plus a required `anthropic-version` header. Cost
`amount` is a decimal string in cents; `ending_at` includes buckets that end at or before it.
"""

from __future__ import annotations

import hmac
import json
from decimal import Decimal
from typing import Any

from monitor.records import TOKEN_INDEX
from monitor.simulator import claude_code, directory_api
from monitor.simulator.generate import DAY, Counts
from monitor.simulator.prices import WEB_SEARCH, WEB_SEARCH_SLOT
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
    limit_of,
    multi,
    page,
    parse_rfc3339,
    rfc3339,
)

USAGE_PATH = "/v1/organizations/usage_report/messages"
COST_PATH = "/v1/organizations/cost_report"
DIMS = ("workspace_id", "api_key_id", "model", "service_tier", "context_window", "inference_geo", "speed")
_FILTERS = {
    "workspace_ids": 0,
    "api_key_ids": 1,
    "models": 2,
    "service_tiers": 3,
    "context_window": 4,
    "inference_geos": 5,
}
FAST_MODE_BETA = "fast-mode-2026-02-01"
"""Grouping by `speed` needs this `anthropic-beta` header (provider-apis.md §3.1)."""
COST_GROUP_BY = ("workspace_id", "description")
COST_LIMIT = (7, 31)

_T = TOKEN_INDEX
_IN, _READ, _W5, _W1, _OUT = (
    _T[n] for n in ("input", "cached_input", "cache_write", "cache_write_1h", "output")
)


def error(status: int, kind: str, message: str) -> Reply:
    """An Anthropic-style error body: {"type": "error", "error": {"type", "message"}}."""
    return Reply(status, {"type": "error", "error": {"type": kind, "message": message}})


def _row(dims: tuple[Any, ...], c: Counts) -> dict[str, Any]:
    return {
        "uncached_input_tokens": c[_IN],
        "cache_creation": {"ephemeral_1h_input_tokens": c[_W1], "ephemeral_5m_input_tokens": c[_W5]},
        "cache_read_input_tokens": c[_READ],
        "output_tokens": c[_OUT],
        "server_tool_use": {"web_search_requests": c[WEB_SEARCH_SLOT]},
        "api_key_id": dims[1],
        "workspace_id": dims[0],
        "model": dims[2],
        "service_tier": dims[3],
        "context_window": dims[4],
        "inference_geo": dims[5],
        "speed": dims[6],
    }


def handle(usage: SimulatedUsage, request: ApiRequest, key: str) -> Reply:
    """Answer one request to a path under /anthropic (`x-api-key` and `anthropic-version` required)."""
    given = request.headers.get("x-api-key", "")
    if not hmac.compare_digest(given.encode(), key.encode()):
        return error(401, "authentication_error", "invalid x-api-key")
    if not request.headers.get("anthropic-version"):
        return error(400, "invalid_request_error", "anthropic-version: header is required")
    try:
        if request.path == USAGE_PATH:
            return Reply(200, _usage(usage, request))
        if request.path == COST_PATH:
            return Reply(200, _costs(usage, request))
        if request.path == claude_code.PATH:
            layout = usage.layouts["anthropic"]
            return Reply(
                200, claude_code.handle(usage.seed, usage.directories["anthropic"], layout.models, request)
            )
        listing = directory_api.anthropic(usage.directories["anthropic"], request)
        if listing is not None:
            return Reply(200, listing)
    except BadRequest as exc:
        return error(400, "invalid_request_error", str(exc))
    return error(404, "not_found_error", f"Not found: {request.path}")


def _window(query: Query, width: int, now: int, limit: int) -> tuple[list[int], str | None]:
    start = parse_rfc3339(query, "starting_at", required=True)
    end = parse_rfc3339(query, "ending_at")
    assert start is not None
    if end is not None and end <= start:
        raise BadRequest("ending_at must be after starting_at", "ending_at")
    stop = now if end is None else min(end - width + 1, now)
    return page(query, start - start % width, stop, width, limit)


def _usage(usage: SimulatedUsage, request: ApiRequest) -> dict[str, Any]:
    query, now = request.query, request.now
    width_name = first(query, "bucket_width") or "1d"
    if width_name not in WIDTHS:
        raise BadRequest(f"bucket_width: must be one of 1m, 1h, 1d, got {width_name!r}", "bucket_width")
    width = WIDTHS[width_name]
    limit = limit_of(query, *LIMITS[width_name])
    grouped = group_by(query, DIMS)
    betas = {b.strip() for b in request.headers.get("anthropic-beta", "").split(",")}
    if "speed" in grouped and FAST_MODE_BETA not in betas:
        raise BadRequest(f"group_by speed requires the anthropic-beta header {FAST_MODE_BETA!r}", "group_by")
    where: Filter = tuple(
        (index, frozenset(multi(query, name))) for name, index in _FILTERS.items() if multi(query, name)
    )
    starts, following = _window(query, width, now, limit)
    keep = tuple(name in grouped for name in DIMS)

    def results(start: int) -> Any:
        signature = None if where or not request.fast else usage.signature("anthropic", start, width, now)
        cache_key = ("anthropic:messages", start, width, keep, signature)
        if signature is not None and (cached := usage.rendered.get(cache_key)) is not None:
            return Raw(cached)
        rows = [
            _row(d, c)
            for d, c in usage.grouped("anthropic:messages", start, width, now, keep=keep, where=where)
        ]
        if signature is not None:
            return Raw(usage.rendered.put(cache_key, json.dumps(rows, separators=(",", ":"))))
        return rows

    data = [
        {"starting_at": rfc3339(s), "ending_at": rfc3339(s + width), "results": results(s)} for s in starts
    ]
    return {"data": data, "has_more": following is not None, "next_page": following}


def _costs(usage: SimulatedUsage, request: ApiRequest) -> dict[str, Any]:
    query, now = request.query, request.now
    if (first(query, "bucket_width") or "1d") != "1d":
        raise BadRequest("bucket_width: the cost report only supports '1d'", "bucket_width")
    limit = limit_of(query, *COST_LIMIT)
    grouped = group_by(query, COST_GROUP_BY)
    starts, following = _window(query, DAY, now, limit)
    by_description = "description" in grouped
    data = []
    for day in starts:
        totals: dict[tuple[Any, ...], int] = {}
        for hour in range(day, day + DAY, 3600):
            for (workspace, _, item), (_, pico) in usage.costs.hour_lines("anthropic", hour, now).items():
                group = (workspace if "workspace_id" in grouped else None, item if by_description else None)
                totals[group] = totals.get(group, 0) + pico
        results = []
        for (workspace, item), pico in totals.items():
            info = usage.costs.line_info[item] if item is not None else None
            tokens = info is not None and info.token_type != WEB_SEARCH
            results.append(
                {
                    "currency": "USD",
                    "amount": decimal_text(Decimal(pico).scaleb(-10)),
                    "workspace_id": workspace,
                    "description": item,
                    "cost_type": None if info is None else ("tokens" if tokens else "web_search"),
                    "context_window": info.context_window if tokens and info else None,
                    "model": info.model if info else None,
                    "service_tier": info.service_tier if tokens and info else None,
                    "token_type": info.token_type if tokens and info else None,
                }
            )
        results.extend(usage.extra_lines.get(("anthropic", day), ()))
        data.append({"starting_at": rfc3339(day), "ending_at": rfc3339(day + DAY), "results": results})
    return {"data": data, "has_more": following is not None, "next_page": following}
