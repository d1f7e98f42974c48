"""A new-api / one-api relay's management API as the relay adapter reads it: the `success` envelope, its
settings (quota per USD, group ratios) and one log item's tokens. Facts: docs/providers.md, "Relays"
(shared/channel-apis.md §1).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any

from monitor.errors import ProviderAuthError, ProviderResponseError
from monitor.providers.http import ApiClient, parse_json
from monitor.providers.payload import Fields
from monitor.records import tokens_of

log = logging.getLogger(__name__)

STATUS_PATH = "/api/status"
SELF_PATH = "/api/user/self"
GROUPS_PATH = "/api/user/self/groups"
QUOTA_PER_UNIT = Decimal(500_000)
"""Quota units per USD when /api/status does not say (the default of both new-api and one-api)."""
AUTH_WORDS = ("无权进行此操作", "未登录", "access token", "new-api-user", "封禁", "unauthorized")
"""Words of the relay's messages that mean the access token or user id was refused."""
HTML_HINT = (
    "a relay that answers with a web page instead of JSON usually means base_url is not the console's "
    "base (leave out /v1)"
)


class RelayApi:
    """GETs to the relay's `/api/...` paths, returning `data`; reads its settings once."""

    def __init__(self, client: ApiClient, *, key_hint: str) -> None:
        self.client = client
        self.account = client.account
        self._key_hint = key_hint
        self._per_unit: Decimal | None = None

    def data(self, path: str, params: list[tuple[str, str]], endpoint: str) -> Any:
        """GET a management path and return its `data`; `success: false` is a failure with the relay's
        message, even with HTTP 200 (new-api answers most errors that way)."""
        try:
            body = self.client.get_json(path, params, endpoint=endpoint)
        except ProviderResponseError as exc:
            if exc.reason != "bad_response":
                raise
            raise ProviderResponseError(
                f"{exc} ({HTML_HINT})", account=self.account, endpoint=endpoint, reason=exc.reason
            ) from None
        success = body.get("success")
        if success is False or (success is None and "data" not in body):
            message = " ".join(str(body.get("message") or "no message").split())[:300]
            if any(word in message.lower() for word in AUTH_WORDS):
                self.client.stats.errors["auth"] += 1
                text = (
                    f"{self.account}: the relay refused the access token ({message}); check {self._key_hint}"
                )
                raise ProviderAuthError(
                    self.client.redact(text), account=self.account, endpoint=endpoint, reason="auth"
                )
            self.client.stats.errors["client_error"] += 1
            raise ProviderResponseError(
                self.client.redact(
                    f"{self.account}: GET {path}: the relay answered success: false ({message})"
                ),
                account=self.account,
                endpoint=endpoint,
                reason="client_error",
            )
        return body.get("data")

    def per_unit(self) -> Decimal:
        """Quota units per USD from /api/status (public), read once."""
        if self._per_unit is None:
            f = self.client.fields("status")
            status = f.obj(self.data(STATUS_PATH, [], "status"), "data")
            value = status.get("quota_per_unit")
            self._per_unit = (
                QUOTA_PER_UNIT if value is None else _ratio(f, value, "data.quota_per_unit", positive=True)
            )
        return self._per_unit

    def group_shares(self) -> dict[str, Decimal] | None:
        """Each group's ratio from /api/user/self/groups, and "" (rows without a group) the user's own
        group's; None when the relay does not offer the list."""
        try:
            groups = self.data(GROUPS_PATH, [], "groups")
        except ProviderResponseError as exc:
            log.warning(
                "%s: group ratios unavailable (%s); using the ratios the log items carry", self.account, exc
            )
            return None
        f = self.client.fields("groups")
        shares = {
            name: _ratio(f, f.obj(info, f"data.{name}").get("ratio"), f"data.{name}.ratio")
            for name, info in f.obj(groups, "data").items()
        }
        own = f.text(f.obj(self.data(SELF_PATH, [], "groups"), "data"), "group", "data")
        if own in shares:
            shares[""] = shares[own]
        return shares

    def user(self) -> tuple[int, int]:
        """The user's remaining and used quota (/api/user/self)."""
        f = self.client.fields("balances")
        user = f.obj(self.data(SELF_PATH, [], "balances"), "data")
        return f.count(user, "quota", "data", required=True), f.count(user, "used_quota", "data")


def _ratio(f: Fields, value: Any, where: str, *, positive: bool = False) -> Decimal:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | Decimal)
        or value < 0
        or (positive and not value)
    ):
        raise f.error(
            where, f"expected a {'positive number' if positive else 'ratio >= 0'}, got {value!r:.40}"
        )
    return Decimal(value)


def item_ratio(f: Fields, other: Mapping[str, Any], where: str) -> Decimal | None:
    """A log item's own `other.group_ratio`, if it carries one."""
    value = other.get("group_ratio")
    return None if value is None else _ratio(f, value, f"{where}.other.group_ratio")


def other_of(f: Fields, item: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A log item's `other`: a JSON object, or (older versions) a string holding one; empty if absent."""
    value = item.get("other")
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = parse_json(value.encode())
        except (ValueError, RecursionError):
            raise f.error(f"{where}.other", "is a string but not JSON") from None
    return f.obj(value, f"{where}.other")


def item_tokens(f: Fields, item: Mapping[str, Any], other: Mapping[str, Any], where: str) -> tuple[int, ...]:
    """A log item's tokens in TOKEN_TYPES order, by the semantics of its `prompt_tokens`."""
    prompt = f.count(item, "prompt_tokens", where, required=True)
    output = f.count(item, "completion_tokens", where, required=True)
    cached = f.count(other, "cache_tokens", f"{where}.other")
    if other.get("claude") is True or other.get("usage_semantic") == "anthropic":
        # Claude-native: Anthropic's input_tokens, cache reads and writes are not in prompt_tokens
        writes = f.count(other, "cache_creation_tokens", f"{where}.other")
        return tokens_of(input=prompt, cached_input=cached, cache_write=writes, output=output)
    # OpenAI format: prompt_tokens include the cached ones
    uncached = f.derived(prompt - cached, where, "prompt_tokens - other.cache_tokens")
    return tokens_of(input=uncached, cached_input=cached, output=output)


def quota_pico(quota: int, per_unit: Decimal) -> int:
    """`quota / per_unit` USD in picodollars, rounded half-even (exact for the usual 500,000)."""
    with localcontext() as ctx:
        ctx.prec = 60
        return int((Decimal(quota) * 10**12 / per_unit).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
