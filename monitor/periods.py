"""Calendar period arithmetic in a timezone: the [start, end) of the day, week, month, quarter or year.

A pure lower-layer module because both the store's period queries and budgets need it. Bounds are
computed on the local calendar and then resolved to instants, so a day is 23 or 25 hours long
across a DST change and a period that starts in a DST gap starts at the first instant that exists.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

PERIODS: tuple[str, ...] = ("day", "week", "month", "quarter", "year")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_MONTH_START_DAY = 28
"""Billing months may start on day 1..28, which every month has."""


def to_unix(dt: datetime) -> int:
    """Whole unix seconds of an aware datetime (floored; exact integer arithmetic, no float)."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"to_unix needs an aware datetime, got naive {dt.isoformat()}")
    return (dt - _EPOCH) // timedelta(seconds=1)


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of a local calendar day.

    Midnight that falls in a DST gap resolves (fold=0) to the instant the clocks jumped to;
    an ambiguous midnight resolves to the earlier of its two instants. Both are the day's start.
    The UTC round trip normalises the wall time (e.g. 00:00 in a gap becomes 01:00).
    """
    naive_wall = datetime(day.year, day.month, day.day, tzinfo=tz)
    return naive_wall.astimezone(UTC).astimezone(tz)


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def _calendar_bounds(period: str, today: date, month_start_day: int, week_start: int) -> tuple[date, date]:
    if period == "day":
        return today, today + timedelta(days=1)
    if period == "week":
        start = today - timedelta(days=(today.weekday() - week_start) % 7)
        return start, start + timedelta(days=7)
    if period == "month":
        year, month = today.year, today.month
        if today.day < month_start_day:
            year, month = _add_months(year, month, -1)
        end_year, end_month = _add_months(year, month, 1)
        return date(year, month, month_start_day), date(end_year, end_month, month_start_day)
    if period == "quarter":
        first_month = (today.month - 1) // 3 * 3 + 1
        end_year, end_month = _add_months(today.year, first_month, 3)
        return date(today.year, first_month, 1), date(end_year, end_month, 1)
    if period == "year":
        return date(today.year, 1, 1), date(today.year + 1, 1, 1)
    raise ValueError(f"unknown period {period!r}: expected one of {', '.join(PERIODS)}")


def period_bounds(
    period: str,
    at: datetime,
    tz: ZoneInfo,
    *,
    month_start_day: int = 1,
    week_start: int = 0,
) -> tuple[datetime, datetime]:
    """The [start, end) of the calendar `period` containing the aware instant `at`, in `tz`.

    `period` is day, week, month, quarter or year. `week_start` is the first weekday of a week
    (0 = Monday ... 6 = Sunday). `month_start_day` (1..28) makes a month run from day N of one
    month to day N of the next (billing cycles); quarters and years are always calendar ones.
    Both bounds are aware datetimes in `tz`. Measure a period's length with to_unix (or in UTC):
    Python subtracts two datetimes that share a tzinfo on wall-clock time, ignoring DST.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"period_bounds needs an aware datetime, got naive {at.isoformat()}")
    if not 1 <= month_start_day <= MAX_MONTH_START_DAY:
        raise ValueError(f"month_start_day must be 1..{MAX_MONTH_START_DAY}, got {month_start_day}")
    if not 0 <= week_start <= 6:
        raise ValueError(f"week_start must be 0 (Monday)..6 (Sunday), got {week_start}")
    today = at.astimezone(tz).date()
    start, end = _calendar_bounds(period, today, month_start_day, week_start)
    return _local_midnight(start, tz), _local_midnight(end, tz)


_TRANSITION_STEP = 6 * 3600
"""Offsets are sampled every 6 hours; a change between samples is located to the second by bisection."""


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
