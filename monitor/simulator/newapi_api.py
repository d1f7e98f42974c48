"""A simulated new-api relay user (shared/channel-apis.md §1, upstream new-api @ef8ae4db): the request log
`/api/log/self`, `/api/status`, `/api/user/self` and `/api/user/self/groups`, under `{url}/newapi`.

What the real relay does and this one copies (channel-apis.md section in brackets):
- auth is `Authorization: <access token>` (a leading `Bearer ` is accepted) plus `New-Api-User: <id>`;
  an unknown token is HTTP 200 `{"success": false}`, a missing or wrong `New-Api-User` is 401 [1.1];
- the log is newest first by id, offset-paged (`p` from 1, `page_size` capped at 100), filtered by
  `type` (2 = consumption; top-ups are type 1) and by `start_timestamp`/`end_timestamp`, both
  inclusive; `data` holds `page`, `page_size`, `total` and `items`; item ids are `id % 1024` [1.5];
- `quota` per item is the relay's charge with the group ratio applied, rounded half away from zero
  for OpenAI-format requests (prompt_tokens include cached ones) and truncated for Claude-native ones
  (prompt_tokens exclude cache reads and writes; `other.claude` is true); `other` is a JSON string
  of the ratios used [1.4, 1.5];
- `quota_per_unit` is 500,000 quota per USD unless set otherwise [1.3]; `/api/user/self` gives the
  remaining `quota` and the `used_quota` [1.7]; a rate limit is 429 with an empty body and no
  Retry-After [1.2].

The ratios, the quota of a request and the log item are in `newapi_items.py`; this module keeps the
user's books (the items of each hour, the ground truth) and the API.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from monitor.records import TOKEN_TYPES
from monitor.simulator.channel import ChannelRequest, day_of, hour_rng, hour_volume
from monitor.simulator.generate import HOUR
from monitor.simulator.newapi_items import GROUPS, RATIOS, LogItem, charge
from monitor.simulator.wire import BadRequest, Reply, first, integer

TOKENS: tuple[tuple[str, str], ...] = (("backend", "default"), ("research", "vip"), ("batch-jobs", "default"))
"""(token name, group) of the user's `sk-` keys."""
USER_GROUP = "default"
GRANT_QUOTA = 250_000_000
"""Quota the user topped up before the history starts ($500 at 500,000 per USD)."""
_AUTH_MESSAGE = "无权进行此操作，access token 无效"


@dataclass(frozen=True, slots=True)
class RelayTruth:
    """The log's consumption with created_at in [start, end), as the relay reports it at `now`."""

    tokens: Mapping[str, int]
    requests: int
    quota: int
    quota_by_day: Mapping[int, int]
    tokens_by_model: Mapping[str, Mapping[str, int]]


class NewApiSim:
    """One relay user's books and API. `quota_per_unit` may be changed to test a relay that sets it."""

    prefix = "/newapi"

    def __init__(
        self, *, seed: int, history_start: int, access_token: str, user_id: int, scale: float
    ) -> None:
        self.seed, self.history_start, self.scale = seed, history_start, scale
        self.access_token, self.user_id = access_token, user_id
        self.quota_per_unit = 500_000
        self._hours: dict[int, tuple[LogItem, ...]] = {}
        self._lock = threading.Lock()

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.access_token,)

    # ---- the books -------------------------------------------------------------------------------

    def hour_items(self, hour: int) -> tuple[LogItem, ...]:
        """Every consumption item created in the hour, oldest first (ids grow with created_at)."""
        with self._lock:
            cached = self._hours.get(hour)
        if cached is not None:
            return cached
        rng = hour_rng(self.seed, "newapi", hour)
        made: list[LogItem] = []
        count = 0 if hour < self.history_start else hour_volume(rng, hour, 14 * self.scale)
        for at in sorted(rng.randrange(HOUR) for _ in range(count)):
            model = rng.choices(list(RATIOS), weights=(3, 5, 2))[0]
            token, group = rng.choice(TOKENS)
            prompt, completion = rng.randint(200, 6000), rng.randint(20, 900)
            cache = int(prompt * rng.choice((0, 0, 0.3, 0.7)))
            creation = rng.randint(0, 1500) if RATIOS[model][4] and rng.random() < 0.4 else 0
            quota = charge(model, group, prompt=prompt, completion=completion, cache=cache, creation=creation)
            item_id = (hour // HOUR) * 10_000 + len(made)
            made.append(
                LogItem(item_id, hour + at, token, group, model, prompt, completion, cache, creation, quota)
            )
        items = tuple(made)
        with self._lock:
            self._hours[hour] = items
        return items

    def items_between(self, start: int, end: int, now: int) -> list[LogItem]:
        """Items with start <= created_at <= end that were logged by `now`, oldest first."""
        last = min(end, now)
        out: list[LogItem] = []
        for hour in range(max(start - start % HOUR, self.history_start), last + 1, HOUR):
            out.extend(i for i in self.hour_items(hour) if start <= i.created_at <= last)
        return out

    def truth(self, start: int, end: int, now: int) -> RelayTruth:
        """What the log says for created_at in [start, end) at `now` (tokens the way a client reads them)."""
        tokens = dict.fromkeys(TOKEN_TYPES, 0)
        by_model: dict[str, dict[str, int]] = {}
        by_day: dict[int, int] = {}
        items = self.items_between(start, end - 1, now)
        for item in items:
            model = by_model.setdefault(item.model, dict.fromkeys(TOKEN_TYPES, 0))
            for name, n in zip(TOKEN_TYPES, item.tokens(), strict=True):
                tokens[name] += n
                model[name] += n
            by_day[day_of(item.created_at)] = by_day.get(day_of(item.created_at), 0) + item.quota
        return RelayTruth(tokens, len(items), sum(by_day.values()), by_day, by_model)

    def used_quota(self, now: int) -> int:
        return sum(i.quota for i in self.items_between(self.history_start, now, now))

    def balance_quota(self, now: int) -> int:
        """Quota left at `now`: the grant minus what was consumed (may go below 0 on a relay: no)."""
        return max(0, GRANT_QUOTA - self.used_quota(now))

    # ---- the API ---------------------------------------------------------------------------------

    def fault(self, name: str, retry_after: int | None) -> Reply | None:
        if name.startswith("429"):  # the rate limiter answers with an empty body
            headers = {"Retry-After": str(retry_after or 1)} if name == "429" else {}
            return Reply(429, b"", headers, content_type="text/plain")
        if name in ("401", "403"):
            return Reply(int(name), {"success": False, "message": _AUTH_MESSAGE})
        if name == "success-false":
            return Reply(200, {"success": False, "message": "数据库错误，请稍后重试 (database error)"})
        if name == "html":
            page = b"<!doctype html><html><head><title>New API</title></head><body><div id=root></div></body></html>"
            return Reply(200, page, content_type="text/html; charset=utf-8")
        return None

    def handle(self, request: ChannelRequest) -> Reply:
        if request.method != "GET":
            return Reply(404, {"success": False, "message": "not found"})
        if request.path == "/api/status":
            return self._ok(self._status())
        refused = self._auth(request.headers)
        if refused is not None:
            return refused
        try:
            if request.path == "/api/log/self":
                return self._ok(self._logs(request))
            if request.path == "/api/user/self":
                return self._ok(self._self(request.now))
            if request.path == "/api/user/self/groups":
                return self._ok(
                    {name: {"ratio": float(r), "desc": f"{name} group"} for name, r in GROUPS.items()}
                )
        except BadRequest as exc:
            return Reply(200, {"success": False, "message": str(exc)})
        return Reply(404, {"success": False, "message": f"no such API: {request.path}"})

    @staticmethod
    def _ok(data: Any) -> Reply:
        return Reply(200, {"success": True, "message": "", "data": data})

    def _auth(self, headers: Mapping[str, str]) -> Reply | None:
        given = headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not given:
            return Reply(401, {"success": False, "message": "无权进行此操作，未登录且未提供 access token"})
        if not hmac.compare_digest(given.encode(), self.access_token.encode()):
            return Reply(200, {"success": False, "message": _AUTH_MESSAGE})
        user = headers.get("new-api-user")
        if user is None:
            return Reply(401, {"success": False, "message": "无权进行此操作，未提供 New-Api-User"})
        if not user.isdigit():
            return Reply(401, {"success": False, "message": "无权进行此操作，New-Api-User 格式错误"})
        if int(user) != self.user_id:
            return Reply(401, {"success": False, "message": "无权进行此操作，New-Api-User 与登录用户不匹配"})
        return None

    def _status(self) -> dict[str, Any]:
        return {
            "version": "v0.6.6-sim",
            "system_name": "Sim Relay",
            "quota_per_unit": self.quota_per_unit,
            "display_in_currency": True,
            "quota_display_type": "USD",
            "enable_data_export": True,
        }

    def _self(self, now: int) -> dict[str, Any]:
        used = self.used_quota(now)
        return {
            "id": self.user_id,
            "username": "sim-user",
            "role": 1,
            "status": 1,
            "quota": max(0, GRANT_QUOTA - used),
            "used_quota": used,
            "request_count": len(self.items_between(self.history_start, now, now)),
            "group": USER_GROUP,
        }

    def _logs(self, request: ChannelRequest) -> dict[str, Any]:
        query = request.query
        page = max(1, integer(query, "p") or 1)
        size = integer(query, "page_size")
        size = 10 if size is None or size <= 0 else min(size, 100)
        kind = integer(query, "type") or 0
        start = integer(query, "start_timestamp") or 0
        end = integer(query, "end_timestamp") or request.now
        items = [] if kind not in (0, 2) else self.items_between(start, end, request.now)
        for name, field in (("token_name", "token_name"), ("model_name", "model"), ("group", "group")):
            wanted = first(query, name)
            if wanted:
                items = [i for i in items if getattr(i, field) == wanted]
        items.reverse()  # newest first (ORDER BY id DESC)
        rows = [i.wire() for i in items[(page - 1) * size : page * size]]
        return {"page": page, "page_size": size, "total": len(items), "items": rows}
