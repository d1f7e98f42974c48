"""Budget forecasts: projected period-end spend and the run-out date, from a daily spend series.

Pure functions, exact arithmetic (Fractions of picodollars, rounded half-even once at the end).
The method, with a worked example, is in docs/budgets.md:

- run rate: before 14 complete days of history, the plain average of the last 7 complete days
  (fewer at the start) together with today's partial day counted pro rata; from 14 days on,
  weekday-aware: each weekday's rate is the average of that weekday over the last 4 weeks;
- projection = spend so far + the rate for the rest of today + the rate of each remaining day;
- run-out = the instant the cumulative spend reaches the limit at those rates (None if it never does).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

PLAIN_DAYS = 7
"""Complete days the plain average looks back over."""
WEEKDAY_MIN_HISTORY = 14
"""Complete days of history from which the run rate is weekday-aware."""
WEEKDAY_WEEKS = 4
"""Weeks each weekday's rate averages over."""
MIN_ELAPSED = Fraction(1, 24)
"""Today's partial day counts as at least an hour, so the first minutes of a day don't explode the rate."""
HORIZON_DAYS = 3660
"""Run-out dates further than ~10 years away are reported as None (never)."""


@dataclass(frozen=True, slots=True)
class DailySeries:
    """Spend (picodollars) per local calendar day up to now.

    `history` holds complete days, oldest first, ending yesterday; only days the ledger has data
    for (a new install has none). `today` is today's spend so far, `elapsed` the fraction of today
    gone by (0..1], `weekday` today's weekday (0 = Monday).
    """

    history: tuple[int, ...]
    today: int
    weekday: int
    elapsed: Fraction


@dataclass(frozen=True, slots=True)
class RunRate:
    """Expected picodollars per day for each weekday (Monday first), and how they were derived."""

    method: str  # "none", "average" or "weekday"
    per_weekday: tuple[Fraction, ...]

    def daily(self, weekday: int) -> Fraction:
        return self.per_weekday[weekday % 7]


@dataclass(frozen=True, slots=True)
class Forecast:
    """Projected period-end spend, the mean daily rate used, and when the limit is reached (aware UTC)."""

    projected_pico: int
    daily_rate_pico: int
    method: str
    history_days: int
    runout_at: datetime | None


def run_rate(series: DailySeries) -> RunRate:
    """The run rate of a series: plain average before 14 days of history, weekday-aware from then on."""
    history = series.history
    if len(history) >= WEEKDAY_MIN_HISTORY:
        sums = [0] * 7
        counts = [0] * 7
        for back in range(1, min(len(history), 7 * WEEKDAY_WEEKS) + 1):
            weekday = (series.weekday - back) % 7
            sums[weekday] += history[-back]
            counts[weekday] += 1
        return RunRate("weekday", tuple(Fraction(s, c) for s, c in zip(sums, counts, strict=True)))
    recent = history[-PLAIN_DAYS:]
    elapsed = max(series.elapsed, MIN_ELAPSED) if series.today else series.elapsed
    days = len(recent) + elapsed
    if days == 0:
        return RunRate("none", (Fraction(0),) * 7)
    rate = Fraction(sum(recent) + series.today) / days
    return RunRate("average", (rate,) * 7)


def remaining_spend(series: DailySeries, rate: RunRate, days_after_today: int) -> Fraction:
    """Expected spend for the rest of today plus `days_after_today` further whole days."""
    total = rate.daily(series.weekday) * (1 - series.elapsed)
    weeks, extra = divmod(days_after_today, 7)
    if weeks:
        total += weeks * sum(rate.per_weekday, Fraction(0))
    for k in range(1, extra + 1):
        total += rate.daily(series.weekday + k)
    return total


def runout_offset(series: DailySeries, rate: RunRate, left_pico: int) -> tuple[int, Fraction] | None:
    """(days after today, fraction of that day) when `left_pico` more has been spent at `rate`.

    (0, elapsed) when nothing is left; None when the rate never gets there within the horizon.
    """
    if left_pico <= 0:
        return 0, series.elapsed
    need = Fraction(left_pico)
    today_rate = rate.daily(series.weekday)
    rest_of_today = today_rate * (1 - series.elapsed)
    if today_rate > 0 and rest_of_today >= need:
        return 0, series.elapsed + need / today_rate
    need -= rest_of_today
    weekly = sum(rate.per_weekday, Fraction(0))
    if weekly == 0:
        return None
    weeks = max(0, math.ceil(need / weekly) - 1)
    need -= weeks * weekly
    day = 1 + 7 * weeks
    while day <= HORIZON_DAYS:
        day_rate = rate.daily(series.weekday + day)
        if day_rate > 0 and day_rate >= need:
            return day, need / day_rate
        need -= day_rate
        day += 1
    return None


def local_instant(day: date, fraction: Fraction, tz: ZoneInfo) -> datetime:
    """The instant `fraction` of the way through local calendar `day` (23 or 25 hours across DST), in UTC."""
    start = datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)
    following = day + timedelta(days=1)
    end = datetime(following.year, following.month, following.day, tzinfo=tz).astimezone(UTC)
    seconds = (end - start).total_seconds()
    return start + timedelta(seconds=round(seconds * fraction))


def forecast(
    series: DailySeries,
    *,
    spend_pico: int,
    limit_pico: int,
    today: date,
    period_end_day: date,
    tz: ZoneInfo,
) -> Forecast:
    """Project `spend_pico` (the period so far) to the period end; find when `limit_pico` is reached.

    `period_end_day` is the local date the next period starts on. The run-out date may lie past
    the period end (it says when the limit would be reached at this rate).
    """
    rate = run_rate(series)
    days_after_today = max(0, (period_end_day - today).days - 1)
    remaining = remaining_spend(series, rate, days_after_today)
    projected = spend_pico + round(remaining)
    offset = runout_offset(series, rate, limit_pico - spend_pico) if limit_pico > 0 else None
    runout = None if offset is None else local_instant(today + timedelta(days=offset[0]), offset[1], tz)
    mean_rate = sum(rate.per_weekday, Fraction(0)) / 7
    return Forecast(
        projected_pico=projected,
        daily_rate_pico=round(mean_rate),
        method=rate.method,
        history_days=len(series.history),
        runout_at=runout,
    )
