"""A relay user's consumption log (`/api/log/self`) as the relay adapter reads it: one window of a UTC
day at a time with fixed ends, offset-paged (new-api counts pages from 1, one-api from 0), read again
when it moves under the offsets, each item summed into usage rows per bucket and quota per line.
Facts: docs/providers.md, "Relays" (shared/channel-apis.md §1.5).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from monitor.providers.base import align_down
from monitor.providers.newapi_wire import RelayApi, item_ratio, item_tokens, other_of
from monitor.providers.paging import offset_pages
from monitor.providers.payload import Fields
from monitor.records import UsageRow

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
class DayLog:
    """What one read of a day's log gave: usage per (bucket, group, token, model) and quota per line."""

    rows: dict[tuple[int, str, str, str], UsageRow]
    quota: dict[LineKey, int]


class RelayLog:
    """The log of one relay user, read through `api`; `on_ratio(group, ratio)` hears the group ratio
    each item carries (for groups the relay's group list leaves out)."""

    def __init__(
        self, api: RelayApi, *, provider: str, bucket_width: int, on_ratio: Callable[[str, Decimal], None]
    ) -> None:
        self._api = api
        self._client = api.client
        self.provider = provider
        self.account = api.account
        self.bucket_width = bucket_width
        self._on_ratio = on_ratio
        self._one_api: bool | None = None

    def read(self, a: int, seen_until: int) -> DayLog:
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
            return day
        raise AssertionError("unreachable")

    def _read_window(self, a: int, seen_until: int) -> DayLog:
        f = self._client.fields(ENDPOINT)
        params = [
            ("type", CONSUME),
            ("start_timestamp", str(a)),
            ("end_timestamp", str(seen_until - 1)),  # both ends inclusive; fixed, so pages hold still
            ("page_size", str(PAGE_SIZE)),
        ]
        day = DayLog({}, {})

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

    def _add(self, f: Fields, day: DayLog, raw: Any, where: str, window: tuple[int, int]) -> None:
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
        if ratio is not None:
            self._on_ratio(group, ratio)
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
