"""The digests section: scheduled spend summaries sent through the alert channels.

```yaml
digests:
  - period: week          # day | week | month
    time: "09:00"         # local time (the config's timezone) on the period's first day
    channels: [slack]     # alert channel names; default: every channel
```
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from monitor.config.model import DIGEST_PERIODS, DigestConfig
from monitor.config.reader import NAME_FIELD, At, Reader, quoted, read_scalars, require, unique
from monitor.config.values import Invalid, one_of, suggest

_TIME = re.compile(r"(\d{1,2}):(\d{2})")


def parse_time_of_day(text: str) -> int:
    """'09:00' or '9:30' (24-hour clock) -> minutes after midnight."""
    match = _TIME.fullmatch(text.strip())
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise Invalid(
            "{value} is not a time of day",
            "expected HH:MM on a 24-hour clock, like 09:00, in the config's timezone",
        )
    return int(match[1]) * 60 + int(match[2])


def digests(reader: Reader, items: list[At], channels: Iterable[str]) -> tuple[DigestConfig, ...] | None:
    """All `digests[i]` entries; None if any is invalid."""
    known = tuple(channels)
    names: dict[str, At] = {}
    built = [_digest(reader, at, known, names) for at in items]
    if any(d is None for d in built):
        return None
    return tuple(d for d in built if d is not None)


def _digest(reader: Reader, at: At, channels: tuple[str, ...], names: dict[str, At]) -> DigestConfig | None:
    items = reader.mapping(at, ("name", "period", "time", "channels"), "a mapping with period and time")
    if items is None:
        return None
    values = read_scalars(
        reader,
        items,
        {
            "name": NAME_FIELD,
            "period": (one_of(DIGEST_PERIODS, "digest period"), "day, week or month"),
            "time": (parse_time_of_day, "a time like 09:00"),
        },
    )
    complete = require(reader, at, items, {"period": "add period: day, week or month"})
    if "channels" in items:
        listed = reader.string_list(items["channels"], str)
        if listed is None:
            complete = False
        else:
            for value_at, value in listed:
                if value not in channels:
                    hint = suggest(value, channels, always_list=True)
                    reader.problem(value_at, f"no alert channel is named {quoted(value_at, value)} ({hint})")
                    complete = False
            values["channels"] = tuple(value for _, value in listed)
    elif not channels:
        reader.problem(at, "there is no alert channel to send it to (add an alerts: entry)")
        complete = False
    if not complete or None in values.values():
        return None
    digest = DigestConfig(**values)  # type: ignore[arg-type]
    unique(reader, items.get("name", at), digest.name, names)
    return digest
