"""Firing times: cron in a zone across daylight saving, recurrences counted from the anchor."""

from __future__ import annotations

from datetime import UTC, datetime

from airflow_kedro_azureml.schedules.firing_times import (
    Recurrence,
    cron_firings,
    recurrence_firings,
)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def iso(times) -> list[str]:
    return [moment.isoformat() for moment in times]


def test_cron_keeps_its_wall_clock_time_across_daylight_saving() -> None:
    times = cron_firings("0 6 10 * *", "Romance Standard Time", utc(2026, 1, 1), utc(2026, 4, 30))
    assert iso(times) == [
        "2026-01-10T05:00:00+00:00",
        "2026-02-10T05:00:00+00:00",
        "2026-03-10T05:00:00+00:00",
        "2026-04-10T04:00:00+00:00",
    ]


def test_window_is_open_at_the_start_and_closed_at_the_end() -> None:
    times = cron_firings("0 6 * * *", "UTC", utc(2026, 1, 1, 6), utc(2026, 1, 3, 6))
    assert iso(times) == ["2026-01-02T06:00:00+00:00", "2026-01-03T06:00:00+00:00"]


def test_weekly_pattern_every_other_week_from_the_anchor_week() -> None:
    weekly = Recurrence("week", 2, hours=[9], minutes=[30], week_days=["monday", "friday"])
    times = recurrence_firings(weekly, "UTC", utc(2026, 1, 7), utc(2026, 1, 1), utc(2026, 2, 1))
    # The anchor is Wednesday 7 January: that week's Monday is before it and does not fire.
    assert iso(times) == [
        "2026-01-09T09:30:00+00:00",
        "2026-01-19T09:30:00+00:00",
        "2026-01-23T09:30:00+00:00",
    ]


def test_monthly_days_skip_months_without_them() -> None:
    monthly = Recurrence("month", 1, hours=[6], minutes=[0], month_days=[31])
    times = recurrence_firings(monthly, "UTC", utc(2026, 1, 1), utc(2026, 1, 1), utc(2026, 5, 1))
    assert iso(times) == ["2026-01-31T06:00:00+00:00", "2026-03-31T06:00:00+00:00"]


def test_a_recurrence_without_pattern_fires_at_the_anchor_time() -> None:
    hourly = Recurrence("hour", 5)
    anchor = utc(2026, 1, 5, 1, 2, 3)
    times = recurrence_firings(hourly, "UTC", anchor, utc(2026, 1, 1), utc(2026, 1, 5, 12))
    assert iso(times) == [
        "2026-01-05T01:02:03+00:00",
        "2026-01-05T06:02:03+00:00",
        "2026-01-05T11:02:03+00:00",
    ]
    monthly = recurrence_firings(
        Recurrence("month", 1), "UTC", utc(2026, 1, 31, 8), utc(2026, 1, 1), utc(2026, 4, 1)
    )
    assert iso(monthly) == [
        "2026-01-31T08:00:00+00:00",
        "2026-02-28T08:00:00+00:00",
        "2026-03-31T08:00:00+00:00",
    ]
