"""Local calendar days as integers.

Budgets and forecasts work on local days of the configured timezone. A day is numbered as days
since 1970-01-01 on the local calendar ("epoch day"), the number the store's
`Ledger.spend_per_local_day` groups by (monitor.store.grouped.local_day_sql).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

DAY = 86400
_EPOCH = date(1970, 1, 1)


def epoch_day(day: date) -> int:
    return (day - _EPOCH).days


def from_epoch_day(number: int) -> date:
    return _EPOCH + timedelta(days=number)


def day_start(day: date, tz: ZoneInfo) -> int:
    """Unix seconds of the first instant of a local day (a midnight in a DST gap resolves as periods does)."""
    return int(datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC).timestamp())


def local_date(unix: int, tz: ZoneInfo) -> date:
    return datetime.fromtimestamp(unix, tz).date()
