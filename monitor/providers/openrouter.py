"""OpenRouter (management key): completed days' usage and dollars per model and upstream provider from
`/activity`, today's spend so far from the keys' `usage_daily`, credits and key limits as balances.
Facts and sources: docs/providers.md, "OpenRouter".

OpenRouter reports dollars: they are the billed cost. A day's bill is today's spend so far until the
day completes and `/activity` lists it; then the activity rows replace it whole, so the day is never
counted twice. A finished day `/activity` does not list yet keeps what was stored. The keys (today's
spend, key limits) are read by `openrouter_keys.KeyList`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from monitor.providers.base import (
    DAY,
    ProviderDefaults,
    align_down,
    build_page,
    check_endpoint,
    select_endpoints,
)
from monitor.providers.http import ApiStats
from monitor.providers.http_options import DEFAULT_HTTP, HttpOptions
from monitor.providers.openrouter_keys import KeyList
from monitor.providers.payload import Fields, read_pico
from monitor.providers.schema import Build, Option, ProviderType, http_options
from monitor.records import Balance, BilledCost, UsagePage, UsageRow, tokens_of

if TYPE_CHECKING:
    from monitor.config.model import ProviderConfig

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://openrouter.ai/api/v1"
ENDPOINT = "activity"
HISTORY_DAYS = 30
"""`/activity` covers the last 30 completed UTC days (channel-apis.md 2.1)."""
SETTLED_AFTER = 2 * DAY
"""A finished day older than this counts as published even when `/activity` has no row for it
(when a day appears is unconfirmed; an empty day has no rows at all)."""


class OpenRouterProvider(ProviderDefaults):
    """One OpenRouter account, read with a management key (`Authorization: Bearer`)."""

    provider = "openrouter"
    has_balances = True
    history_days: int | None = HISTORY_DAYS

    def __init__(
        self,
        *,
        account: str,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        endpoints: Iterable[str] | None = None,
        http: HttpOptions = DEFAULT_HTTP,
        key_hint: str = "the api_key of this provider",
    ) -> None:
        self.account = account
        self.bucket_width = DAY
        self.endpoints = select_endpoints(endpoints, (ENDPOINT,), account)
        self._client = http.client(
            account=account,
            base_url=base_url,
            headers={"Authorization": f"Bearer {api_key}"},
            secrets=(api_key,),
            key_hint=key_hint,
            credential="management key",
        )
        self.stats: ApiStats = self._client.stats
        self._activity: tuple[int, list[dict[str, Any]]] | None = None
        self._key_list = KeyList(self._client)
        self._pending: set[int] = set()
        self._warned_history = False

    def close(self) -> None:
        self._client.close()

    def fetch_usage(
        self, endpoint: str, start: int, end: int, *, observed_at: int, now: int
    ) -> Iterator[UsagePage]:
        """One page: every published completed day from `start` to `end` (today has no tokens yet)."""
        check_endpoint(endpoint, self.endpoints, self.account)
        start, today = align_down(start, DAY), align_down(now, DAY)
        oldest = today - HISTORY_DAYS * DAY
        if start < oldest and not self._warned_history:
            self._warned_history = True
            log.warning(
                "%s: OpenRouter keeps the last %d completed days only; usage before %s cannot be fetched",
                self.account, HISTORY_DAYS, _date(oldest),
            )  # fmt: skip
        rows = self._activity_rows(now)
        published = self._published_until(rows, now)
        f = self._client.fields(ENDPOINT)
        usage = [
            self._row(f, r, where)
            for r in rows
            if max(start, oldest) <= r["day"] < min(end, published)
            for where in [r["where"]]
        ]
        spans = [(d, d + DAY) for d in range(max(start, oldest), min(end, published), DAY)]
        yield build_page(
            provider=self.provider,
            account=self.account,
            endpoint=endpoint,
            bucket_width=DAY,
            spans=spans,
            rows=usage,
            observed_at=observed_at,
            now=now,
            start=max(start, oldest),
        )

    def fetch_costs(self, start: int, end: int, *, now: int) -> Iterator[list[BilledCost]]:
        """Activity dollars per day, model and upstream provider; today's spend so far per key."""
        rows = self._activity_rows(now)
        published, today = self._published_until(rows, now), align_down(now, DAY)
        first = align_down(start, DAY)
        oldest = today - HISTORY_DAYS * DAY  # older days cannot be read again: keep what is stored
        self._pending = set(range(first, oldest, DAY)) | set(range(published, today, DAY))
        f = self._client.fields("costs")
        yield [
            BilledCost(
                provider=self.provider,
                account=self.account,
                day_start=r["day"],
                project="",
                line_item=f.text(r["raw"], "provider_name", where),
                amount_pico=read_pico(f, r["raw"], "usage", where),
                model=f.text(r["raw"], "model", where),
            )
            for r in rows
            if first <= r["day"] < min(end, published)
            for where in [r["where"]]
        ]
        if first <= today < max(end, today + 1):
            yield [
                BilledCost(
                    provider=self.provider,
                    account=self.account,
                    day_start=today,
                    project="",
                    line_item=f"today so far: key {name}",
                    amount_pico=pico,
                )
                for name, pico in self._key_list.spent_today(now)
                if pico
            ]

    def replaced_days(self, days: Sequence[int]) -> list[int]:
        """Every day but finished ones `/activity` does not list yet: they keep what was stored."""
        return [d for d in days if d not in self._pending]

    def fetch_balances(self, *, now: int) -> list[Balance]:
        """The account's credits left (of all bought), and each key with a spending limit of its own."""
        f = self._client.fields("credits")
        data = f.obj(self._client.get_json("/credits", [], endpoint="credits").get("data"), "data")
        bought = read_pico(f, data, "total_credits", "data")
        used = read_pico(f, data, "total_usage", "data")
        balances = [Balance(self.provider, self.account, "", bought - used, bought, now)]
        k = self._client.fields("keys")
        for i, (name, key) in enumerate(self._key_list.named(now)):
            where = f"keys[{i}]"
            if key.get("limit") is None:
                continue
            limit = read_pico(k, key, "limit", where)
            left = read_pico(k, key, "limit_remaining", where)
            balances.append(Balance(self.provider, self.account, name, left, limit, now))
        return balances

    # ---- reading ---------------------------------------------------------------------------------

    def _activity_rows(self, now: int) -> list[dict[str, Any]]:
        """`/activity` (the whole 30-day window, one request), read once per `now`."""
        if self._activity is None or self._activity[0] != now:
            f = self._client.fields(ENDPOINT)
            body = self._client.get_json("/activity", [], endpoint=ENDPOINT)
            rows = []
            for i, raw in enumerate(f.items(body, "data", "")):
                where = f"data[{i}]"
                row = f.obj(raw, where)
                day = _day(f, row, where)
                if day < align_down(now, DAY):  # only completed days; a partial today is not used
                    rows.append({"day": day, "raw": row, "where": where})
            self._activity = (now, rows)
        return self._activity[1]

    def _published_until(self, rows: list[dict[str, Any]], now: int) -> int:
        """The end of the newest day `/activity` publishes: its newest row's day, or `SETTLED_AFTER` ago."""
        newest = max((r["day"] + DAY for r in rows), default=0)
        return max(newest, align_down(now - SETTLED_AFTER, DAY) + DAY)

    def _row(self, f: Fields, r: dict[str, Any], where: str) -> UsageRow:
        raw = r["raw"]
        return UsageRow(
            provider=self.provider,
            account=self.account,
            endpoint=ENDPOINT,
            bucket_start=r["day"],
            bucket_width=DAY,
            model=f.text(raw, "model", where),
            # completion_tokens are taken to include reasoning_tokens (as OpenAI counts them; unconfirmed)
            tokens=tokens_of(
                input=f.count(raw, "prompt_tokens", where, required=True),
                output=f.count(raw, "completion_tokens", where, required=True),
            ),
            requests=f.count(raw, "requests", where, required=True),
        )


def _day(f: Fields, row: dict[str, Any], where: str) -> int:
    text = f.text(row, "date", where)
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise f.error(f"{where}.date", f"expected YYYY-MM-DD, got {text!r:.40}") from None
    return int(datetime.combine(day, datetime.min.time(), UTC).timestamp())


def _date(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).date().isoformat()


def _build(cfg: ProviderConfig, build: Build) -> OpenRouterProvider:
    return OpenRouterProvider(
        api_key=TYPE.secret(cfg, "api_key"),
        base_url=cfg.base_url or DEFAULT_BASE_URL,
        endpoints=cfg.endpoints,
        key_hint=build.hint("api_key"),
        account=cfg.name,
        http=http_options(cfg, build),
    )


TYPE = ProviderType(
    name="openrouter",
    summary="an OpenRouter account (management key)",
    build=_build,
    endpoints=(ENDPOINT,),
    bucket_widths=("1d",),
    balances=True,
    options={
        "api_key": Option("secret", "${ENV_VAR} or ${file:/path} holding a management key", required=True),
        "base_url": Option("url", "the API base URL", default=DEFAULT_BASE_URL),
    },
)
"""The config `type: openrouter` (see monitor.providers.registry)."""
