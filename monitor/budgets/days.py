"""Local calendar days as integers, and the SQL that puts a bucket_start in its local day.

Budgets and forecasts work on local days of the configured timezone. A day is numbered as days
since 1970-01-01 on the local calendar ("epoch day"). In SQL the local day of a bucket is
`(bucket_start + utc_offset_at_that_instant) / 86400`; the offset changes at DST transitions, so
the expression is a CASE over the offset segments of the queried range (a handful per year).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

DAY = 86400
_EPOCH = date(1970, 1, 1)
_TRANSITION_STEP = 6 * 3600
"""Offsets are sampled every 6 hours; a change between samples is located to the second by bisection."""


def epoch_day(day: date) -> int:
    return (day - _EPOCH).days


def from_epoch_day(number: int) -> date:
    return _EPOCH + timedelta(days=number)


def day_start(day: date, tz: ZoneInfo) -> int:
    """Unix seconds of the first instant of a local day (a midnight in a DST gap resolves as periods does)."""
    return int(datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC).timestamp())


def local_date(unix: int, tz: ZoneInfo) -> date:
    return datetime.fromtimestamp(unix, tz).date()


def _offset(unix: int, tz: ZoneInfo) -> int:
    offset = datetime.fromtimestamp(unix, tz).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def offset_segments(tz: ZoneInfo, lo: int, hi: int) -> list[tuple[int, int]]:
    """[(until, offset)]: the UTC offset (seconds) in force before `until`, covering [lo, hi); last until = hi."""
    segments: list[tuple[int, int]] = []
    current = _offset(lo, tz)
    t = lo
    while t < hi:
        nxt = min(t + _TRANSITION_STEP, hi)
        if _offset(nxt, tz) != current:
            a, b = t, nxt  # offset(a) == current, offset(b) != current
            while b - a > 1:
                mid = (a + b) // 2
                if _offset(mid, tz) == current:
                    a = mid
                else:
                    b = mid
            segments.append((b, current))
            current = _offset(b, tz)
            t = b
            continue
        t = nxt
    segments.append((hi, current))
    return segments


def day_key_sql(tz: ZoneInfo, lo: int, hi: int, column: str = "bucket_start") -> str:
    """An SQL integer expression: the local epoch day of `column`, exact for instants in [lo, hi)."""
    segments = offset_segments(tz, lo, hi)
    if len(segments) == 1:
        return f"(({column} + {segments[0][1]}) / {DAY})"
    cases = " ".join(f"WHEN {column} < {until} THEN {offset}" for until, offset in segments[:-1])
    return f"(({column} + CASE {cases} ELSE {segments[-1][1]} END) / {DAY})"
