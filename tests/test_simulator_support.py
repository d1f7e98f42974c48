"""Helpers for the simulator tests (no tests here): a settable clock, page walking and an independent
pricing of fetched rows with the simulator's published sheet."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

from monitor.simulator import Simulator

NOW = int(datetime(2026, 11, 18, 14, 25, 10, tzinfo=UTC).timestamp())  # a Wednesday afternoon
HOUR, DAY = 3600, 86400
TODAY = NOW - NOW % DAY
OPENAI_KEY = "sk-admin-sim-openai"
ANTHROPIC_KEY = "sk-ant-admin-sim-anthropic"
OPENAI_AUTH = {"Authorization": f"Bearer {OPENAI_KEY}"}
ANTHROPIC_AUTH = {"x-api-key": ANTHROPIC_KEY, "anthropic-version": "2023-06-01"}
COMPLETIONS = "/organization/usage/completions"
EMBEDDINGS = "/organization/usage/embeddings"
COSTS = "/organization/costs"
MESSAGES = "/v1/organizations/usage_report/messages"
COST_REPORT = "/v1/organizations/cost_report"
ALL_OPENAI_GROUPS = ["project_id", "user_id", "api_key_id", "model", "batch", "service_tier"]
ALL_ANTHROPIC_GROUPS = ["api_key_id", "workspace_id", "model", "service_tier", "context_window"]

# Leaf token fields of a result row -> the simulator's token types.
OPENAI_TOKEN_FIELDS = {
    "input_text_tokens": "input",
    "input_cached_text_tokens": "cached_input",
    "input_cache_write_tokens": "cache_write",
    "output_text_tokens": "output",
    "input_audio_tokens": "input_audio",
    "input_cached_audio_tokens": "cached_input_audio",
    "output_audio_tokens": "output_audio",
    "input_image_tokens": "input_image",
    "input_cached_image_tokens": "cached_input_image",
    "output_image_tokens": "output_image",
}


class Clock:
    """A provider clock the test moves by hand."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pages(client: httpx.Client, url: str, params: dict[str, Any], headers: dict[str, str]) -> Iterator[Any]:
    """Every page of a listing, following next_page while has_more; each response must be 200."""
    params = dict(params)
    for _ in range(10_000):
        response = client.get(url, params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json(parse_float=Decimal)
        yield body
        if not body["has_more"]:
            return
        params["page"] = body["next_page"]
    raise AssertionError("pagination did not end")


def buckets(client: httpx.Client, url: str, params: dict[str, Any], headers: dict[str, str]) -> list[Any]:
    return [bucket for body in pages(client, url, params, headers) for bucket in body["data"]]


def openai_buckets(client: httpx.Client, sim: Simulator, path: str, **params: Any) -> list[Any]:
    return buckets(client, sim.openai_base_url + path, params, OPENAI_AUTH)


def anthropic_buckets(client: httpx.Client, sim: Simulator, path: str, **params: Any) -> list[Any]:
    return buckets(client, sim.anthropic_base_url + path, params, ANTHROPIC_AUTH)


def rows_of(bucket_list: list[Any]) -> list[dict[str, Any]]:
    """Every result row of a list of buckets."""
    return [row for bucket in bucket_list for row in bucket["results"]]


def openai_tier(row: dict[str, Any]) -> str:
    if row["batch"]:
        return "batch"
    return "fast" if row["service_tier"] in ("priority", "fast") else "standard"


def price_openai_row(sim: Simulator, row: dict[str, Any]) -> int:
    """Picodollars of a completions/embeddings row grouped by model, batch and service tier."""
    tier = openai_tier(row) if "batch" in row else "standard"
    fields = OPENAI_TOKEN_FIELDS if "input_text_tokens" in row else {"input_tokens": "input"}
    total = Decimal(0)
    for field, token_type in fields.items():
        if row[field]:
            total += row[field] * sim.prices[(row["model"], tier, "", token_type)] * 10**6
    assert total == total.to_integral_value()
    return int(total)


ANTHROPIC_FIELDS = {
    "input": lambda r: r["uncached_input_tokens"],
    "cached_input": lambda r: r["cache_read_input_tokens"],
    "cache_write": lambda r: r["cache_creation"]["ephemeral_5m_input_tokens"],
    "cache_write_1h": lambda r: r["cache_creation"]["ephemeral_1h_input_tokens"],
    "output": lambda r: r["output_tokens"],
    "web_search_requests": lambda r: r["server_tool_use"]["web_search_requests"],
}


def price_anthropic_row(sim: Simulator, row: dict[str, Any]) -> int:
    """Picodollars of a messages row grouped by model, service tier and context window."""
    total = Decimal(0)
    for kind, read in ANTHROPIC_FIELDS.items():
        if count := read(row):
            total += (
                count * sim.prices[(row["model"], row["service_tier"], row["context_window"], kind)] * 10**6
            )
    assert total == total.to_integral_value()
    return int(total)


def leaf_sums(rows: list[dict[str, Any]], fields: list[str]) -> dict[str, int]:
    return {field: sum(r[field] for r in rows) for field in fields}
