"""Calendar periods in a timezone: DST-length days, weeks, billing months, quarters, years."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from monitor.periods import period_bounds, to_unix

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = 3600


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_spring_forward_day_in_berlin_lasts_23_hours() -> None:
    start, end = period_bounds("day", utc(2024, 3, 31, 12), BERLIN)

    assert (start, end) == (utc(2024, 3, 30, 23), utc(2024, 3, 31, 22))
    assert to_unix(end) - to_unix(start) == 23 * HOUR


def test_fall_back_day_in_berlin_lasts_25_hours() -> None:
    start, end = period_bounds("day", utc(2024, 10, 27, 12), BERLIN)

    assert (start, end) == (utc(2024, 10, 26, 22), utc(2024, 10, 27, 23))
    assert to_unix(end) - to_unix(start) == 25 * HOUR


def test_bounds_are_aware_datetimes_in_the_requested_zone() -> None:
    start, end = period_bounds("day", utc(2024, 3, 31, 12), BERLIN)

    assert start.tzinfo is BERLIN and end.tzinfo is BERLIN
    assert (start.hour, end.hour) == (0, 0)


def test_new_york_spring_forward_day_lasts_23_hours() -> None:
    start, end = period_bounds("day", utc(2024, 3, 10, 15), NEW_YORK)

    assert (start, end) == (utc(2024, 3, 10, 5), utc(2024, 3, 11, 4))


def test_the_local_date_decides_the_day_not_the_utc_date() -> None:
    # 02:00 UTC on March 11 is still March 10 (22:00 EDT) in New York.
    start, _ = period_bounds("day", utc(2024, 3, 11, 2), NEW_YORK)

    assert start == utc(2024, 3, 10, 5)


def test_a_day_whose_midnight_falls_in_a_dst_gap_starts_at_the_first_existing_instant() -> None:
    # Sao Paulo skipped 00:00-01:00 on 2018-11-04: the day began at 01:00 -02 (03:00 UTC).
    start, end = period_bounds("day", utc(2018, 11, 4, 12), ZoneInfo("America/Sao_Paulo"))

    assert (start, end) == (utc(2018, 11, 4, 3), utc(2018, 11, 5, 2))
    assert start.hour == 1


def test_week_starts_on_monday_by_default() -> None:
    start, end = period_bounds("week", utc(2024, 6, 13, 12), ZoneInfo("UTC"))  # a Thursday

    assert (start, end) == (utc(2024, 6, 10), utc(2024, 6, 17))


def test_week_start_six_makes_weeks_start_on_sunday() -> None:
    start, _ = period_bounds("week", utc(2024, 6, 13, 12), ZoneInfo("UTC"), week_start=6)

    assert start == utc(2024, 6, 9)


def test_week_across_the_fall_back_change_lasts_one_hour_more() -> None:
    start, end = period_bounds("week", utc(2024, 10, 27, 12), BERLIN)

    assert to_unix(end) - to_unix(start) == (7 * 24 + 1) * HOUR


def test_month_in_berlin_starts_at_local_midnight() -> None:
    assert period_bounds("month", utc(2024, 2, 10), BERLIN) == (utc(2024, 1, 31, 23), utc(2024, 2, 29, 23))


def test_billing_month_from_the_15th_after_the_15th() -> None:
    tz = ZoneInfo("UTC")
    assert period_bounds("month", utc(2024, 6, 20), tz, month_start_day=15) == (
        utc(2024, 6, 15),
        utc(2024, 7, 15),
    )


def test_billing_month_from_the_15th_before_the_15th_started_last_month() -> None:
    tz = ZoneInfo("UTC")
    assert period_bounds("month", utc(2024, 1, 10), tz, month_start_day=15) == (
        utc(2023, 12, 15),
        utc(2024, 1, 15),
    )


def test_billing_month_start_day_above_28_is_refused() -> None:
    with pytest.raises(ValueError, match=r"month_start_day must be 1\.\.28"):
        period_bounds("month", utc(2024, 1, 10), ZoneInfo("UTC"), month_start_day=31)


def test_fourth_quarter_ends_at_the_new_year() -> None:
    assert period_bounds("quarter", utc(2024, 11, 5), ZoneInfo("UTC")) == (utc(2024, 10, 1), utc(2025, 1, 1))


def test_quarter_in_new_york_spans_the_dst_change() -> None:
    start, end = period_bounds("quarter", utc(2024, 2, 1), NEW_YORK)

    assert (start, end) == (utc(2024, 1, 1, 5), utc(2024, 4, 1, 4))


def test_year_in_berlin() -> None:
    # 23:30 UTC on Dec 31 is already the new year in Berlin.
    assert period_bounds("year", utc(2024, 12, 31, 23, 30), BERLIN) == (
        utc(2024, 12, 31, 23),
        utc(2025, 12, 31, 23),
    )


def test_unknown_period_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown period 'fortnight'"):
        period_bounds("fortnight", utc(2024, 1, 1), ZoneInfo("UTC"))


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        period_bounds("day", datetime(2024, 1, 1), ZoneInfo("UTC"))


def test_to_unix_is_exact_whole_seconds() -> None:
    assert to_unix(utc(2024, 6, 1)) == 1_717_200_000
    assert to_unix(datetime(2024, 6, 1, 2, tzinfo=BERLIN)) == 1_717_200_000
    assert to_unix(utc(1969, 12, 31, 23, 59, 59)) == -1


def test_to_unix_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="aware"):
        to_unix(datetime(2024, 1, 1))
