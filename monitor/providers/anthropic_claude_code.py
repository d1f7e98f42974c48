"""Anthropic's Claude Code usage report, one UTC day per request, as ClaudeCodeUsage records.

`GET /v1/organizations/usage_report/claude_code?starting_at=YYYY-MM-DD&limit=1000[&page=]`: the
records of that single day, paged with `next_page` like the other reports. Each record has an
`actor` (`{"type": "user_actor", "email_address"}` or `{"type": "api_actor", "api_key_name"}`), a
`date`, `customer_type` ("api" or "subscription") and a `model_breakdown` list of `{model, tokens
{input, output, cache_read, cache_creation}, estimated_cost {amount, currency}}`, the amount being a
number in minor units (cents for USD). Productivity fields (sessions, lines, commits, tool actions)
are not money and are not read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from monitor.claude_code import API_KEY_ACTOR, CLAUDE_CODE_ENDPOINT, USER_ACTOR, ClaudeCodeUsage
from monitor.providers.http import ApiClient
from monitor.providers.payload import Fields

PATH = "/v1/organizations/usage_report/claude_code"
LIMIT = "1000"
DAY = 86_400


def read_day(client: ApiClient, provider: str, account: str, day_start: int) -> list[ClaudeCodeUsage]:
    """Every (actor, model) of one UTC day (`day_start` a UTC midnight)."""
    day = datetime.fromtimestamp(day_start, UTC).date().isoformat()
    params = [("starting_at", day), ("limit", LIMIT)]
    f = client.fields(CLAUDE_CODE_ENDPOINT)
    usage: list[ClaudeCodeUsage] = []
    for number, data in enumerate(client.pages(PATH, params, endpoint=CLAUDE_CODE_ENDPOINT), start=1):
        for i, raw in enumerate(data):
            where = f"page {number}.data[{i}]"
            usage.extend(_record(f, f.obj(raw, where), where, (provider, account, day_start, day)))
    return usage


def _record(
    f: Fields, r: dict[str, Any], where: str, context: tuple[str, str, int, str]
) -> list[ClaudeCodeUsage]:
    provider, account, day_start, day = context
    date = f.text(r, "date", where)
    if date[:10] != day:
        raise f.error(f"{where}.date", f"expected the requested day {day}, got {date!r:.40}")
    actor = f.obj(r.get("actor"), f"{where}.actor")
    kind = f.text(actor, "type", f"{where}.actor")
    if kind == "api_actor":
        actor_type, name = API_KEY_ACTOR, f.text(actor, "api_key_name", f"{where}.actor")
    else:
        actor_type, name = USER_ACTOR, f.text(actor, "email_address", f"{where}.actor")
    if not name:
        raise f.error(f"{where}.actor", "the actor has no email_address or api_key_name")
    customer = f.text(r, "customer_type", where)
    records = []
    for j, item in enumerate(f.items(r, "model_breakdown", where)):
        at = f"{where}.model_breakdown[{j}]"
        m = f.obj(item, at)
        tokens = f.obj(m.get("tokens") or {}, f"{at}.tokens")
        records.append(
            ClaudeCodeUsage(
                provider=provider,
                account=account,
                day_start=day_start,
                actor=name,
                model=f.text(m, "model", at),
                actor_type=actor_type,
                customer_type=customer,
                input_tokens=f.count(tokens, "input", f"{at}.tokens"),
                cache_read_tokens=f.count(tokens, "cache_read", f"{at}.tokens"),
                cache_write_tokens=f.count(tokens, "cache_creation", f"{at}.tokens"),
                output_tokens=f.count(tokens, "output", f"{at}.tokens"),
                estimated_cost_pico=_cents(f, m.get("estimated_cost"), f"{at}.estimated_cost"),
            )
        )
    return records


def _cents(f: Fields, value: Any, where: str) -> int:
    """`{amount, currency}` with the amount in cents (a JSON number), as picodollars."""
    if value is None:
        return 0
    cost = f.obj(value, where)
    currency = f.text(cost, "currency", where)
    if currency.upper() != "USD":
        raise f.error(f"{where}.currency", f"expected 'USD', got {currency!r:.20}")
    amount = cost.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int | Decimal):
        raise f.error(f"{where}.amount", f"expected a number of cents, got {amount!r:.40}")
    return f.pico(Decimal(amount) / 100, f"{where}.amount")
