"""The simulated Claude Code usage report: per UTC day, per developer, tokens and an estimated cost.

`GET /anthropic/v1/organizations/usage_report/claude_code?starting_at=YYYY-MM-DD[&limit][&page]`
answers one day: a record per actor (most of the directory's users, by email, and a CI key by name)
with a `model_breakdown` over the organization's first two models. Days that have not closed by the
clock report nothing yet. Deterministic from (seed, day, actor), like the hours of usage.
"""

from __future__ import annotations

import base64
import binascii
import random
from datetime import UTC, date, datetime
from typing import Any

from monitor.simulator.directory import SimDirectory
from monitor.simulator.generate import DAY
from monitor.simulator.layout import unit
from monitor.simulator.wire import ApiRequest, BadRequest, first, limit_of

PATH = "/v1/organizations/usage_report/claude_code"
CI_KEY_NAME = "claude-code-ci"
_CENTS_PER_MTOK = {"input": 300, "output": 1500, "cache_read": 30, "cache_creation": 375}
"""An estimate in cents per 1M tokens (the report's amounts are estimates in minor units)."""


def day_records(
    seed: int, directory: SimDirectory, models: tuple[str, ...], day_start: int, now: int
) -> list[dict[str, Any]]:
    """The report's records of one UTC day as seen at `now` (none before the day has closed)."""
    if day_start + DAY > now:
        return []
    actors = [("user_actor", u.email) for u in sorted(directory.users.values(), key=lambda u: u.email)]
    actors.append(("api_actor", CI_KEY_NAME))
    day = datetime.fromtimestamp(day_start, UTC).strftime("%Y-%m-%dT00:00:00Z")
    records = []
    for kind, name in actors:
        if unit(seed, "claude_code", name, day_start) < 0.25:
            continue  # not everyone codes every day
        rng = random.Random(f"{seed}|claude_code|{name}|{day_start}")
        breakdown = []
        for model in models[:2]:
            tokens = {
                "input": rng.randint(20_000, 400_000),
                "output": rng.randint(5_000, 90_000),
                "cache_read": rng.randint(100_000, 4_000_000),
                "cache_creation": rng.randint(5_000, 200_000),
            }
            cents = sum(tokens[t] * _CENTS_PER_MTOK[t] for t in tokens) // 1_000_000
            breakdown.append(
                {"estimated_cost": {"amount": cents, "currency": "USD"}, "model": model, "tokens": tokens}
            )
        actor = (
            {"type": kind, "email_address": name}
            if kind == "user_actor"
            else {"type": kind, "api_key_name": name}
        )
        records.append(
            {
                "actor": actor,
                "core_metrics": {
                    "commits_by_claude_code": rng.randint(0, 9),
                    "lines_of_code": {"added": rng.randint(0, 900), "removed": rng.randint(0, 300)},
                    "num_sessions": rng.randint(1, 15),
                    "pull_requests_by_claude_code": rng.randint(0, 3),
                },
                "customer_type": "api",
                "date": day,
                "model_breakdown": breakdown,
                "organization_id": "12345678-1234-5678-1234-567812345678",
                "terminal_type": "iTerm.app",
                "tool_actions": {
                    "edit_tool": {"accepted": rng.randint(0, 30), "rejected": rng.randint(0, 4)}
                },
            }
        )
    return records


def handle(
    seed: int, directory: SimDirectory, models: tuple[str, ...], request: ApiRequest
) -> dict[str, Any]:
    """One page of the report for the day in `starting_at` (YYYY-MM-DD, required)."""
    query = request.query
    text = first(query, "starting_at")
    if not text:
        raise BadRequest("starting_at: Field required", "starting_at")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"starting_at: expected YYYY-MM-DD, got {text!r}", "starting_at") from None
    day_start = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
    records = day_records(seed, directory, models, day_start, request.now)
    limit = limit_of(query, 20, 1000)
    offset = _offset(first(query, "page"))
    if offset < 0:
        raise BadRequest("invalid 'page' cursor: pass next_page of the previous response unchanged", "page")
    chosen = records[offset : offset + limit]
    more = offset + limit < len(records)
    following = "page_" + base64.urlsafe_b64encode(f"cc:{offset + limit}".encode()).decode() if more else None
    return {"data": chosen, "has_more": more, "next_page": following}


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.removeprefix("page_").encode()).decode()
        return int(text.removeprefix("cc:")) if text.startswith("cc:") else -1
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return -1
