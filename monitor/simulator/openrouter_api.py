"""A simulated OpenRouter account (shared/channel-apis.md §2, from the OpenAPI spec in
OpenRouterTeam/typescript-sdk @cb9393a8): `/activity`, `/credits` and `/keys` under `{url}/openrouter/api/v1`.

What the real API does and this one copies (channel-apis.md section in brackets):
- auth is `Authorization: Bearer <key>`; `/activity`, `/credits` and `/keys` need a management key:
  no key is 401 "Missing Authentication header", an inference key 403 "Only management keys can
  perform this operation" [2.0, 2.1];
- `/activity` returns the last 30 **completed** UTC days in one array, one row per (date, model,
  provider endpoint) with `usage` in USD and prompt, completion and reasoning tokens; no paging, no
  cached-token field [2.1]. When a finished day appears is unconfirmed: here `publish_delay` after
  midnight (2 h);
- `/credits` gives `total_credits` and `total_usage` in USD, all time [2.2]; `/keys` lists the API
  keys 100 at a time (`offset`), each with `usage_daily` (the current UTC day), `limit` and
  `limit_remaining` [2.3, 2.4].

Costs are the upstream providers' list prices, with cached prompt tokens at their cached price (the
activity rows do not say how many were cached).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from monitor.simulator.channel import ChannelRequest, day_of, hour_rng, hour_volume
from monitor.simulator.generate import DAY, HOUR
from monitor.simulator.wire import Raw, Reply, decimal_text, first, integer

# slug: (permaslug, [(provider name, share)], USD per 1M: input, cached input, output)
MODELS: dict[str, tuple[str, tuple[tuple[str, float], ...], tuple[Decimal, Decimal, Decimal]]] = {
    "openai/gpt-4.1": (
        "openai/gpt-4.1-2025-04-14",
        (("OpenAI", 0.8), ("Azure", 0.2)),
        (Decimal(2), Decimal("0.5"), Decimal(8)),
    ),
    "anthropic/claude-sonnet-4.5": (
        "anthropic/claude-4.5-sonnet-20250929",
        (("Anthropic", 0.6), ("Google", 0.4)),
        (Decimal(3), Decimal("0.3"), Decimal(15)),
    ),
    "google/gemini-2.5-pro": (
        "google/gemini-2.5-pro",
        (("Google AI Studio", 1.0),),
        (Decimal("1.25"), Decimal("0.31"), Decimal(10)),
    ),
}
KEYS: tuple[tuple[str, Decimal | None], ...] = (("prod-app", Decimal(300)), ("research", None))
"""The account's API keys: (name, spending limit in USD or None)."""
CREDITS = Decimal(1000)
"""USD of credits bought."""
HISTORY_DAYS = 30
_MANAGEMENT_ONLY = "Only management keys can perform this operation"


@dataclass(frozen=True, slots=True)
class Call:
    """One request through OpenRouter."""

    at: int
    key: str
    model: str
    provider: str
    prompt: int
    cached: int
    completion: int
    reasoning: int
    cost: Decimal


@dataclass(frozen=True, slots=True)
class RouterTruth:
    """Completed days' activity (what `/activity` reports) for days starting in [start, end)."""

    tokens: Mapping[str, int]
    requests: int
    usage_by_day: Mapping[int, Decimal]
    usage: Decimal


class OpenRouterSim:
    """One OpenRouter account's books and management API."""

    prefix = "/openrouter/api/v1"

    def __init__(
        self, *, seed: int, history_start: int, management_key: str, inference_key: str, scale: float
    ):
        self.seed, self.history_start, self.scale = seed, history_start, scale
        self.management_key, self.inference_key = management_key, inference_key
        self.publish_delay = 2 * HOUR
        self._hours: dict[int, tuple[Call, ...]] = {}
        self._lock = threading.Lock()

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.management_key, self.inference_key)

    # ---- the books -------------------------------------------------------------------------------

    def hour_calls(self, hour: int) -> tuple[Call, ...]:
        with self._lock:
            cached = self._hours.get(hour)
        if cached is not None:
            return cached
        rng = hour_rng(self.seed, "openrouter", hour)
        calls: list[Call] = []
        count = 0 if hour < self.history_start else hour_volume(rng, hour, 10 * self.scale)
        for at in sorted(rng.randrange(HOUR) for _ in range(count)):
            model = rng.choices(list(MODELS), weights=(5, 3, 2))[0]
            _, providers, (inp, cached_price, out) = MODELS[model]
            provider = rng.choices([p for p, _ in providers], weights=[w for _, w in providers])[0]
            prompt, completion = rng.randint(300, 8000), rng.randint(30, 1200)
            hits = int(prompt * rng.choice((0, 0, 0.5)))
            reasoning = completion // 3 if rng.random() < 0.3 else 0
            cost = ((prompt - hits) * inp + hits * cached_price + completion * out) / 1_000_000
            key = rng.choice(KEYS)[0]
            calls.append(Call(hour + at, key, model, provider, prompt, hits, completion, reasoning, cost))
        made = tuple(calls)
        with self._lock:
            self._hours[hour] = made
        return made

    def calls_between(self, start: int, end: int) -> list[Call]:
        """Calls with start <= at < end."""
        out: list[Call] = []
        for hour in range(max(start - start % HOUR, self.history_start), end, HOUR):
            out.extend(c for c in self.hour_calls(hour) if start <= c.at < end)
        return out

    def published_until(self, now: int) -> int:
        """The end of the last day `/activity` shows at `now` (completed and published)."""
        return day_of(now - self.publish_delay)

    def truth(self, start: int, end: int, now: int) -> RouterTruth:
        """What `/activity` reports at `now` for the days starting in [start, end)."""
        tokens = {"input": 0, "output": 0}
        by_day: dict[int, Decimal] = {}
        oldest = self.published_until(now) - HISTORY_DAYS * DAY
        calls = self.calls_between(max(start, oldest), min(end, self.published_until(now)))
        for c in calls:
            tokens["input"] += c.prompt
            tokens["output"] += c.completion
            by_day[day_of(c.at)] = by_day.get(day_of(c.at), Decimal(0)) + c.cost
        return RouterTruth(tokens, len(calls), by_day, sum(by_day.values(), Decimal(0)))

    def today_so_far(self, now: int) -> Decimal:
        """Spend of the current UTC day up to `now`: what the keys' usage_daily add up to."""
        return sum((c.cost for c in self.calls_between(day_of(now), now + 1)), Decimal(0))

    def usage_total(self, now: int) -> Decimal:
        return sum((c.cost for c in self.calls_between(self.history_start, now + 1)), Decimal(0))

    def balance(self, now: int) -> Decimal:
        return CREDITS - self.usage_total(now)

    # ---- the API ---------------------------------------------------------------------------------

    def fault(self, name: str, retry_after: int | None) -> Reply | None:
        if name.startswith("429"):
            headers = {"Retry-After": str(retry_after or 1)} if name == "429" else {}
            return Reply(429, {"error": {"code": 429, "message": "Rate limit exceeded"}}, headers)
        if name in ("401", "403"):
            return Reply(int(name), {"error": {"code": int(name), "message": "Invalid API key"}})
        return None

    def handle(self, request: ChannelRequest) -> Reply:
        given = request.headers.get("authorization", "")
        if not given.startswith("Bearer "):
            return Reply(401, {"error": {"code": 401, "message": "Missing Authentication header"}})
        key = given.removeprefix("Bearer ").encode()
        if hmac.compare_digest(key, self.inference_key.encode()):
            return Reply(403, {"error": {"code": 403, "message": _MANAGEMENT_ONLY}})
        if not hmac.compare_digest(key, self.management_key.encode()):
            return Reply(401, {"error": {"code": 401, "message": "User not found."}})
        if request.method != "GET":
            return Reply(405, {"error": {"code": 405, "message": "Method not allowed"}})
        if request.path == "/activity":
            return self._activity(request)
        if request.path == "/credits":
            usage = self.usage_total(request.now)
            return Reply(
                200,
                {
                    "data": {
                        "total_credits": Raw(decimal_text(CREDITS)),
                        "total_usage": Raw(decimal_text(usage)),
                    }
                },
            )
        if request.path == "/keys":
            return Reply(200, {"data": self._keys(request)})
        return Reply(404, {"error": {"code": 404, "message": "Not Found"}})

    def _activity(self, request: ChannelRequest) -> Reply:
        until = self.published_until(request.now)
        days = range(until - HISTORY_DAYS * DAY, until, DAY)
        wanted = first(request.query, "date")
        if wanted is not None:
            try:
                day = int(datetime.combine(date.fromisoformat(wanted), datetime.min.time(), UTC).timestamp())
            except ValueError:
                day = -1
            if day not in days:
                return Reply(400, {"error": {"code": 400, "message": "Invalid request parameters"}})
            days = range(day, day + DAY, DAY)
        rows: dict[tuple[int, str, str], list[Any]] = {}
        for day in days:
            for c in self.calls_between(day, day + DAY):
                row = rows.setdefault((day, c.model, c.provider), [0, 0, 0, 0, Decimal(0)])
                row[0] += 1
                row[1] += c.prompt
                row[2] += c.completion
                row[3] += c.reasoning
                row[4] += c.cost
        data = [
            {
                "date": datetime.fromtimestamp(day, UTC).date().isoformat(),
                "model": model,
                "model_permaslug": MODELS[model][0],
                "endpoint_id": _uuid(model, provider),
                "provider_name": provider,
                "usage": Raw(decimal_text(row[4])),
                "byok_usage_inference": 0,
                "requests": row[0],
                "prompt_tokens": row[1],
                "completion_tokens": row[2],
                "reasoning_tokens": row[3],
            }
            for (day, model, provider), row in sorted(rows.items(), reverse=True)
        ]
        return Reply(200, {"data": data})

    def _keys(self, request: ChannelRequest) -> list[dict[str, Any]]:
        offset = integer(request.query, "offset") or 0
        today = day_of(request.now)
        listed = []
        for name, limit in KEYS[offset : offset + 100]:
            calls = [c for c in self.calls_between(self.history_start, request.now + 1) if c.key == name]
            usage = sum((c.cost for c in calls), Decimal(0))
            daily = sum((c.cost for c in calls if c.at >= today), Decimal(0))
            listed.append(
                {
                    "hash": hashlib.sha256(f"{self.seed}|{name}".encode()).hexdigest(),
                    "name": name,
                    "label": f"sk-or-v1-{name[:3]}...",
                    "disabled": False,
                    "limit": None if limit is None else Raw(decimal_text(limit)),
                    "limit_remaining": None if limit is None else Raw(decimal_text(limit - usage)),
                    "usage": Raw(decimal_text(usage)),
                    "usage_daily": Raw(decimal_text(daily)),
                    "created_at": "2026-01-05T10:00:00Z",
                }
            )
        return listed


def _uuid(model: str, provider: str) -> str:
    digest = hashlib.sha256(f"{model}|{provider}".encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
