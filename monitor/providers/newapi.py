"""new-api and one-api relays (laozhang.ai, apiyi.com, ...): the user's request log as usage, the
relay's own charge (quota / quota_per_unit) as billed cost, group ratios as the share of list price
the relay charges, and the prepaid balance. Facts and sources: docs/providers.md, "Relays".

The log is read one UTC day at a time with fixed window ends (offset paging over a table that grows
at the top), whole days, so a day's charge is complete; usage rows and the day's bill come from the
same read. A page count that changes while paging restarts the day. Reading the log is
`newapi_log.py`'s, the relay's envelope and settings `newapi_wire.py`'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

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
from monitor.providers.newapi_log import ENDPOINT, DayLog, RelayLog
from monitor.providers.newapi_wire import RelayApi, quota_pico
from monitor.providers.schema import Build, Option, ProviderType, http_options
from monitor.records import Balance, BilledCost, UsagePage

if TYPE_CHECKING:
    from monitor.config.model import ProviderConfig


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
        self._read: dict[int, tuple[int, DayLog]] = {}
        self._log = RelayLog(
            self._api, provider=self.provider, bucket_width=self.bucket_width, on_ratio=self._item_share
        )

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

    def _day(self, a: int, seen_until: int, now: int) -> DayLog:
        """Read the log of [a, seen_until) (within one UTC day), kept for the other fetch at the same `now`."""
        day = self._log.read(a, seen_until)
        self._read = {k: v for k, v in self._read.items() if v[0] == now}
        self._read[a] = (now, day)
        return day

    def _item_share(self, group: str, ratio: Decimal) -> None:
        """The group ratio a log item carries, kept for a group /api/user/self/groups did not list."""
        if group not in self._shares:
            self._item_shares[group] = ratio


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
