"""Forecasts on synthetic daily series; expected values worked out by hand in the comments."""

from __future__ import annotations

from datetime import UTC, date, datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

from monitor.budgets.forecast import DailySeries, forecast, local_instant, run_rate

UTC_TZ = ZoneInfo("UTC")
D = 10**12  # one dollar in picodollars


def test_flat_series_projects_the_daily_average() -> None:
    # 10 days of $10, today half gone with $5: rate (70 + 5) / 7.5 = $10/day.
    series = DailySeries((10 * D,) * 10, 5 * D, weekday=2, elapsed=Fraction(1, 2))
    result = forecast(
        series,
        spend_pico=105 * D,
        limit_pico=200 * D,
        today=date(2025, 6, 11),
        period_end_day=date(2025, 7, 1),
        tz=UTC_TZ,
    )
    # 105 so far + half of today (5) + 19 more days (190) = 300
    assert result.projected_pico == 300 * D
    assert (result.method, result.daily_rate_pico, result.history_days) == ("average", 10 * D, 10)
    # $95 left at $10/day from June 11 12:00 -> 9.5 days -> June 21 00:00
    assert result.runout_at == datetime(2025, 6, 21, tzinfo=UTC)


def test_growing_series_uses_the_last_seven_days_not_all_history() -> None:
    # $1, $2, ..., $10: the last 7 complete days average (4 + ... + 10) / 7 = $7
    series = DailySeries(tuple(n * D for n in range(1, 11)), 0, weekday=0, elapsed=Fraction(0))
    assert run_rate(series).per_weekday == (Fraction(7 * D),) * 7
    result = forecast(
        series,
        spend_pico=55 * D,
        limit_pico=1000 * D,
        today=date(2025, 6, 11),
        period_end_day=date(2025, 6, 21),
        tz=UTC_TZ,
    )
    assert result.projected_pico == 55 * D + 10 * 7 * D  # today and 9 more days at $7


def test_weekday_heavy_series_expects_nothing_on_weekends() -> None:
    # three weeks of $10 on weekdays and $0 at weekends, today a Monday just begun
    history = workdays_only(0, 21)
    series = DailySeries(history, 0, weekday=0, elapsed=Fraction(0))
    rate = run_rate(series)
    assert rate.method == "weekday"
    assert rate.per_weekday == tuple(Fraction(d * D) for d in (10, 10, 10, 10, 10, 0, 0))
    # period ends on Saturday: Monday..Friday at $10 = $50 (a plain average would say 5 x 50/7)
    result = forecast(
        series,
        spend_pico=0,
        limit_pico=1000 * D,
        today=date(2025, 6, 16),
        period_end_day=date(2025, 6, 21),
        tz=UTC_TZ,
    )
    assert result.projected_pico == 50 * D


def workdays_only(today_weekday: int, days: int) -> tuple[int, ...]:
    """`days` complete days ending yesterday: $10 on Monday..Friday, $0 at weekends."""
    weekdays = [(today_weekday - back) % 7 for back in range(days, 0, -1)]
    return tuple((0 if wd in (5, 6) else 10) * D for wd in weekdays)


def test_weekday_runout_skips_the_weekend() -> None:
    history = workdays_only(4, 28)
    # today Friday (2025-06-20) just begun, $15 left: Friday spends 10, the weekend 0, Monday noon the last 5
    series = DailySeries(history, 0, weekday=4, elapsed=Fraction(0))
    result = forecast(
        series,
        spend_pico=85 * D,
        limit_pico=100 * D,
        today=date(2025, 6, 20),
        period_end_day=date(2025, 7, 1),
        tz=UTC_TZ,
    )
    assert result.runout_at == datetime(2025, 6, 23, 12, tzinfo=UTC)


def test_thirteen_days_of_history_still_use_the_plain_average() -> None:
    history = workdays_only(6, 13)
    assert run_rate(DailySeries(history, 0, weekday=6, elapsed=Fraction(0))).method == "average"


def test_month_start_without_history_extrapolates_today_pro_rata() -> None:
    # June 1st 06:00, $3 spent, no history: $3 / 0.25 day = $12/day
    series = DailySeries((), 3 * D, weekday=6, elapsed=Fraction(1, 4))
    result = forecast(
        series,
        spend_pico=3 * D,
        limit_pico=500 * D,
        today=date(2025, 6, 1),
        period_end_day=date(2025, 7, 1),
        tz=UTC_TZ,
    )
    assert result.projected_pico == 3 * D + 9 * D + 29 * 12 * D  # rest of today + 29 days
    assert (result.method, result.history_days) == ("average", 0)


def test_first_minutes_of_a_day_count_as_an_hour() -> None:
    # 00:06 with $1 spent: the partial day counts as 1/24, so $24/day, not $240/day
    series = DailySeries((), 1 * D, weekday=0, elapsed=Fraction(1, 240))
    assert run_rate(series).per_weekday[0] == 24 * D


def test_nothing_spent_and_no_history_projects_nothing_and_never_runs_out() -> None:
    series = DailySeries((), 0, weekday=0, elapsed=Fraction(0))
    result = forecast(
        series,
        spend_pico=0,
        limit_pico=100 * D,
        today=date(2025, 6, 1),
        period_end_day=date(2025, 7, 1),
        tz=UTC_TZ,
    )
    assert (result.projected_pico, result.runout_at, result.method) == (0, None, "none")


def test_zero_rate_never_runs_out() -> None:
    series = DailySeries((0,) * 20, 0, weekday=3, elapsed=Fraction(1, 3))
    result = forecast(
        series,
        spend_pico=40 * D,
        limit_pico=100 * D,
        today=date(2025, 6, 12),
        period_end_day=date(2025, 7, 1),
        tz=UTC_TZ,
    )
    assert result.runout_at is None and result.projected_pico == 40 * D


def test_runout_may_lie_past_the_period_end() -> None:
    # $1/day, $50 left on June 29th 00:00: runs out on August 18th, after the June period ended
    series = DailySeries((D,) * 7, 0, weekday=6, elapsed=Fraction(0))
    result = forecast(
        series,
        spend_pico=50 * D,
        limit_pico=100 * D,
        today=date(2025, 6, 29),
        period_end_day=date(2025, 7, 1),
        tz=UTC_TZ,
    )
    assert result.runout_at == datetime(2025, 8, 18, tzinfo=UTC)
    assert result.projected_pico == 52 * D


def test_limit_already_reached_runs_out_now() -> None:
    series = DailySeries((5 * D,) * 7, 2 * D, weekday=1, elapsed=Fraction(1, 2))
    result = forecast(
        series,
        spend_pico=120 * D,
        limit_pico=100 * D,
        today=date(2025, 6, 10),
        period_end_day=date(2025, 7, 1),
        tz=UTC_TZ,
    )
    assert result.runout_at == datetime(2025, 6, 10, 12, tzinfo=UTC)


def test_local_instant_spans_a_23_hour_dst_day() -> None:
    # Berlin, 2025-03-30 has 23 hours: midnight is 23:00 UTC the day before, half way is 11.5 h later
    berlin = ZoneInfo("Europe/Berlin")
    assert local_instant(date(2025, 3, 30), Fraction(1, 2), berlin) == datetime(
        2025, 3, 30, 10, 30, tzinfo=UTC
    )
