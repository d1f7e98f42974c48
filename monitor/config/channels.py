"""The alerts section: notification channels (Alertmanager, signed webhook, apprise) and their names."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import fields, replace
from types import MappingProxyType
from typing import Any

from monitor.config.apprise_urls import check_apprise_url
from monitor.config.model import ALERT_TYPES, AlertChannelConfig, Secret
from monitor.config.reader import NAME_FIELD, At, Reader, read_scalars, require, unique
from monitor.config.values import (
    DURATION_HINT,
    Invalid,
    check_http_url,
    duration_at_least,
    one_of,
)

_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def _header_value(text: str) -> str:
    if "\n" in text or "\r" in text:
        raise Invalid("{value} contains a line break", "header values must be one line")
    return text


def alert_channels(reader: Reader, items: list[At]) -> tuple[AlertChannelConfig, ...] | None:
    """All `alerts[i]` entries; unnamed channels are called by their type, numbered when a type repeats."""
    channels = [_alert_channel(reader, at) for at in items]
    counts = Counter(channel.type for channel, _ in filter(None, channels))
    numbered: Counter[str] = Counter()
    seen: dict[str, At] = {}
    result: list[AlertChannelConfig] = []
    for at, built in zip(items, channels, strict=True):
        if built is None:
            continue
        channel, named = built
        if not named and counts[channel.type] > 1:
            numbered[channel.type] += 1
            channel = replace(channel, name=f"{channel.type}-{numbered[channel.type]}")
        unique(reader, at, channel.name, seen)
        result.append(channel)
    return tuple(result) if len(result) == len(items) else None


def _alert_channel(reader: Reader, at: At) -> tuple[AlertChannelConfig, bool] | None:
    """One channel, and whether it was given a name."""
    allowed = [f.name for f in fields(AlertChannelConfig)]
    items = reader.mapping(at, allowed, "a mapping with type and url")
    if items is None:
        return None
    values: dict[str, Any] = read_scalars(
        reader,
        items,
        {
            "type": (one_of(ALERT_TYPES, "alert channel type"), "a channel type"),
            "name": NAME_FIELD,
            "timeout": (duration_at_least(0, strict=True), DURATION_HINT),
        },
    )
    complete = require(
        reader,
        at,
        items,
        {"type": f"add type: one of {', '.join(ALERT_TYPES)}", "url": "add url: where notifications go"},
    )
    kind = values.get("type")
    if "url" in items and kind is not None:
        check: Callable[[str], str] = check_apprise_url if kind == "apprise" else check_http_url
        url = reader.value(items["url"], check, expected="a URL", secret=True)
        values["url"] = None if url is None else Secret(url)
    if "secret" in items:
        values["secret"] = reader.secret(items["secret"])
        if kind not in (None, "webhook"):
            reader.problem(items["secret"], "only webhook channels sign with a secret (remove it)")
    elif kind == "webhook":
        fix = {"secret": "add secret: ${WEBHOOK_SECRET}, the HMAC signing key"}
        complete = require(reader, at, items, fix) and complete
    if "headers" in items:
        if kind == "apprise":
            reader.problem(
                items["headers"], "apprise channels take no headers (put options in the apprise URL)"
            )
        headers = reader.string_map(items["headers"], _header_value, secret=True)
        for key in headers or {}:
            if not _HEADER_NAME.fullmatch(key):
                reader.problem(
                    items["headers"], f"'{key}' is not a valid header name (use letters, digits and '-')"
                )
        values["headers"] = None if headers is None else MappingProxyType(headers)
    if not complete or kind is None or any(value is None for value in values.values()):
        return None
    return AlertChannelConfig(**values), "name" in items
