"""new-api and one-api relays (laozhang.ai, apiyi.com, ...): the user's request log as usage, the
relay's own charge (quota / quota_per_unit) as billed cost, group ratios as the share of list price
the relay charges, and the prepaid balance. Facts and sources: docs/providers.md, "Relays".

The log is read one UTC day at a time with fixed window ends (offset paging over a table that grows
at the top), whole days, so a day's charge is complete; usage rows and the day's bill come from the
same read. A page count that changes while paging restarts the day.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from monitor.providers.base import (
    DAY,
    ProviderDefaults,
    align_down,
    aligned_window,
    bucket_seconds,
    build_page,
    check_endpoint,
    select_endpoints,
    windows,
)
from monitor.providers.http import ApiStats
from monitor.providers.http_options import DEFAULT_HTTP, HttpOptions
from monitor.providers.newapi_wire import RelayApi, item_ratio, item_tokens, other_of, quota_pico
from monitor.providers.paging import offset_pages
from monitor.providers.payload import Fields
from monitor.providers.schema import Build, Option, ProviderType, http_options
from monitor.records import Balance, BilledCost, UsagePage, UsageRow

if TYPE_CHECKING:
    from monitor.config.model import ProviderConfig

log = logging.getLogger(__name__)

LOG_PATH = "/api/log/self"
ENDPOINT = "log"
PAGE_SIZE = 100
"""new-api caps page_size at 100 (channel-apis.md 1.5)."""
CONSUME = "2"
"""Log type 2: consumption (top-ups, management and errors are other types)."""
RESTARTS = 3
"""Times a day is read again when the log moved under the offsets, before giving up."""

LineKey = tuple[str, str, str]
"""(group, token name, model) of a day's charge."""


@dataclass
class _Day:
    """What one read of a day's log gave: usage per (bucket, group, token, model) and quota per line."""

    rows: dict[tuple[int, str, str, str], UsageRow]
    quota: dict[LineKey, int]


class NewApiProvider(ProviderDefaults):
    """One relay user (new-api or one-api): `Authorization: <access token>` and `New-Api-User: <id>`."""

    provider = "newapi"
    has_balances = True

    def __init__(
        self,
        *,
        account: str,
        base_url: str,
        access_token: str,
        user_id: int,
        bucket_width: str = "1h",
        endpoints: Iterable[str] | None = None,
        http: HttpOptions = DEFAULT_HTTP,
        key_hint: str = "the access_token and user_id of this provider",
    ) -> None:
        self.account = account
        self.bucket_width = bucket_seconds(bucket_width)
        self.endpoints = select_endpoints(endpoints, (ENDPOINT,), account)
        self._client = http.client(
            account=account,
            base_url=base_url,
            headers={"Authorization": access_token, "New-Api-User": str(user_id)},
            secrets=(access_token,),
            key_hint=key_hint,
            credential="access token",
        )
        self.stats: ApiStats = self._client.stats
        self._api = RelayApi(self._client, key_hint=key_hint)
        self._shares: dict[str, Decimal] = {}
        self._item_shares: dict[str, Decimal] = {}
        self._read: dict[int, tuple[int, _Day]] = {}
        self._one_api: bool | None = None

    def close(self) -> None:
        self._client.close()

    def list_price_shares(self) -> Mapping[str, Decimal]:
        """Each group's ratio (the relay's "30% off" is 0.7); rows without a group take the user's."""
        return {**self._item_shares, **self._shares}

    # ---- usage and the relay's charge ------------------------------------------------------------

    def fetch_usage(
        self, endpoint: str, start: int, end: int, *, observed_at: int, now: int
    ) -> Iterator[UsagePage]:
        """The log from the UTC day of `start` to `end`, one page per day (every bucket of it, whole)."""
        check_endpoint(endpoint, self.endpoints, self.account)
        self._shares = self._api.group_shares() or self._shares
        width = self.bucket_width
        start, end = aligned_window(align_down(start, DAY), end, width)
        for a, b in windows(start, end, DAY):
            seen_until = min(b, now)
            if seen_until <= a:
                break
            day = self._day(a, seen_until, now)
            yield build_page(
                provider=self.provider,
                account=self.account,
                endpoint=endpoint,
                bucket_width=width,
                spans=[(s, s + width) for s in range(a, seen_until, width)],
                rows=day.rows.values(),
                observed_at=observed_at,
                now=now,
                start=a,
            )

    def fetch_costs(self, start: int, end: int, *, now: int) -> Iterator[list[BilledCost]]:
        """The relay's charge per UTC day (quota / quota_per_unit, exact), by group, token and model.

        Days read by `fetch_usage` at the same `now` are not read again.
        """
        per_unit = self._api.per_unit()
        first = align_down(start, DAY)
        for a in range(first, max(min(end, now), first + 1), DAY):
            cached = self._read.get(a)
            day = (
                cached[1] if cached is not None and cached[0] == now else self._day(a, min(a + DAY, now), now)
            )
            yield [
                BilledCost(
                    provider=self.provider,
                    account=self.account,
                    day_start=a,
                    project=group,
                    line_item=token,
                    amount_pico=quota_pico(quota, per_unit),
                    model=model,
                )
                for (group, token, model), quota in sorted(day.quota.items())
                if quota
            ]

    def fetch_balances(self, *, now: int) -> list[Balance]:
        """The user's remaining quota, and all it was granted (remaining + used), in USD."""
        per_unit = self._api.per_unit()
        left, used = self._api.user()
        return [
            Balance(
                provider=self.provider,
                account=self.account,
                key="",
                balance_pico=quota_pico(left, per_unit),
                limit_pico=quota_pico(left + used, per_unit),
                observed_at=now,
            )
        ]

    def _day(self, a: int, seen_until: int, now: int) -> _Day:
        """Read the log of [a, seen_until) (within one UTC day), again if it moved while paging."""
        for attempt in range(1, RESTARTS + 1):
            try:
                day = self._read_window(a, seen_until)
            except _Moved as moved:
                if attempt == RESTARTS:
                    raise self._client.fields(ENDPOINT).error(
                        f"day {a}", f"{moved}; tried {RESTARTS} times"
                    ) from None
                log.info("%s: the log moved while paging (%s); reading the day again", self.account, moved)
                continue
            self._read = {k: v for k, v in self._read.items() if v[0] == now}
            self._read[a] = (now, day)
            return day
        raise AssertionError("unreachable")

    def _read_window(self, a: int, seen_until: int) -> _Day:
        f = self._client.fields(ENDPOINT)
        params = [
            ("type", CONSUME),
            ("start_timestamp", str(a)),
            ("end_timestamp", str(seen_until - 1)),  # both ends inclusive; fixed, so pages hold still
            ("page_size", str(PAGE_SIZE)),
        ]
        day = _Day({}, {})

        def fetch(number: int) -> tuple[list[Any], int | None]:
            data = self._api.data(LOG_PATH, [("p", str(number)), *params], ENDPOINT)
            if isinstance(data, list):  # one-api: a bare list, pages counted from 0, no total
                return data, None
            page = f.obj(data, f"page {number}.data")
            total = page.get("total")
            if isinstance(total, bool) or not isinstance(total, int) or total < 0:
                raise f.error(f"page {number}.data.total", f"expected a count, got {total!r:.40}")
            return f.items(page, "items", f"page {number}.data"), total

        first = self._first_page(fetch)
        for number, items in enumerate(
            offset_pages(
                fetch,
                first=first,
                page_size=0 if self._one_api else PAGE_SIZE,  # one-api ignores page_size (10 a page)
                max_pages=self._client.max_pages,
                error=_Moved,
            ),
            start=first,
        ):
            for i, raw in enumerate(items):
                self._add(f, day, raw, f"page {number}.data.items[{i}]", (a, seen_until))
        return day

    def _first_page(self, fetch: Callable[[int], tuple[list[Any], int | None]]) -> int:
        """new-api numbers pages from 1, one-api from 0: the first answer's shape tells which."""
        if self._one_api is None:
            probe = self._api.data(LOG_PATH, [("p", "1"), ("type", CONSUME), ("page_size", "1")], ENDPOINT)
            self._one_api = isinstance(probe, list)
        return 0 if self._one_api else 1

    def _add(self, f: Fields, day: _Day, raw: Any, where: str, window: tuple[int, int]) -> None:
        item = f.obj(raw, where)
        kind = item.get("type", 2)
        if kind != 2:
            raise f.error(f"{where}.type", f"asked for consumption (type 2) only, got {kind!r:.20}")
        at = f.timestamp(item, "created_at", where)
        if not window[0] <= at < window[1]:
            raise f.error(f"{where}.created_at", f"{at} is outside the window asked for {list(window)}")
        other = other_of(f, item, where)
        tokens = item_tokens(f, item, other, where)
        group, token, model = (f.text(item, name, where) for name in ("group", "token_name", "model_name"))
        ratio = item_ratio(f, other, where)
        if ratio is not None and group not in self._shares:  # a group /api/user/self/groups did not list
            self._item_shares[group] = ratio
        bucket = align_down(at, self.bucket_width)
        key = (bucket, group, token, model)
        seen = day.rows.get(key)
        day.rows[key] = UsageRow(
            provider=self.provider,
            account=self.account,
            endpoint=ENDPOINT,
            bucket_start=bucket,
            bucket_width=self.bucket_width,
            project=group,
            api_key=token,
            model=model,
            tokens=tokens if seen is None else tuple(x + y for x, y in zip(seen.tokens, tokens, strict=True)),
            requests=1 if seen is None else seen.requests + 1,
        )
        line = (group, token, model)
        day.quota[line] = day.quota.get(line, 0) + f.count(item, "quota", where, required=True)


class _Moved(Exception):
    """The log changed under the offsets while a day was paged."""


def _console_base(url: str) -> str | None:
    if url.rstrip("/").endswith("/v1"):
        return "ends with /v1, the relay's OpenAI-compatible API (use the console's base: leave out /v1)"
    return None


def _build(cfg: ProviderConfig, build: Build) -> NewApiProvider:
    return NewApiProvider(
        base_url=cfg.base_url,
        access_token=TYPE.secret(cfg, "access_token"),
        user_id=int(TYPE.option(cfg, "user_id")),
        bucket_width=cfg.bucket_width,
        endpoints=cfg.endpoints,
        key_hint=f"{build.hint('access_token')} and its user_id",
        account=cfg.name,
        http=http_options(cfg, build),
    )


TYPE = ProviderType(
    name="newapi",
    summary="a new-api or one-api relay user (system access token)",
    build=_build,
    endpoints=(ENDPOINT,),
    balances=True,
    options={
        "base_url": Option(
            "url",
            "the relay console's base URL, like https://api.example.com",
            required=True,
            check=_console_base,
        ),
        "access_token": Option(
            "secret", "${ENV_VAR} or ${file:/path} holding the system access token", required=True
        ),
        "user_id": Option("whole", "the relay user's numeric id, sent as New-Api-User", required=True),
    },
)
"""The config `type: newapi` (see monitor.providers.registry)."""
