"""Schedule specs: what a DAG passes, checked when the DAG file is parsed."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from airflow_kedro_azureml.errors import ScheduleError
from airflow_kedro_azureml.schedules import CronSchedule, RecurrenceSchedule


def test_cron_in_an_iana_zone_is_sent_with_the_windows_name() -> None:
    schedule = CronSchedule(" 0 6  10 * * ", time_zone="Europe/Paris")
    assert schedule.expression == "0 6 10 * *"
    assert schedule.to_dict()["time_zone"] == "Romance Standard Time"
    assert (
        CronSchedule("0 6 10 * *", time_zone="Romance Standard Time").to_dict()["time_zone"]
        == "Romance Standard Time"
    )
    assert schedule.describe() == "cron '0 6 10 * *' (Europe/Paris)"


def test_start_and_end_become_wall_clock_times_in_the_zone() -> None:
    aware = datetime(2026, 1, 1, 5, 0, tzinfo=ZoneInfo("UTC"))
    schedule = CronSchedule("0 6 10 * *", time_zone="Europe/Paris", start_time=aware)
    assert schedule.start_time == "2026-01-01T06:00:00"
    naive = RecurrenceSchedule("hour", start_time="2026-01-01T06:00", end_time="2026-02-01")
    assert (naive.start_time, naive.end_time) == ("2026-01-01T06:00:00", "2026-02-01T00:00:00")


def test_recurrence_pattern_is_normalised() -> None:
    schedule = RecurrenceSchedule(
        "week", interval=2, hours=[18, 6, 6], minutes=0, week_days=["Friday", "monday"]
    )
    assert (schedule.hours, schedule.minutes) == ([6, 18], [0])
    assert schedule.week_days == ["monday", "friday"]
    assert schedule.has_pattern
    assert not RecurrenceSchedule("minute", interval=15).has_pattern


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: CronSchedule("0 6 10 *"), r"not a cron expression of five fields"),
        (lambda: CronSchedule("0 25 * * *"), r"not a cron expression"),
        (lambda: CronSchedule("* * * * * *"), r"five fields"),
        (
            lambda: CronSchedule("0 6 * * *", time_zone="Europe/Pari"),
            r"did you mean 'Europe/Paris'",
        ),
        (
            lambda: CronSchedule("0 6 * * *", time_zone="Mars/Base"),
            r"unknown time zone 'Mars/Base'",
        ),
        (lambda: CronSchedule("0 6 * * *", start_time="next week"), r"start_time: 'next week'"),
        (
            lambda: CronSchedule("0 6 * * *", start_time="2026-02-01", end_time="2026-01-01"),
            r"end_time .* is not after start_time",
        ),
        (lambda: RecurrenceSchedule("fortnight"), r"frequency 'fortnight' is not one of"),
        (lambda: RecurrenceSchedule("day", interval=0), r"interval must be .* at least 1"),
        (
            lambda: RecurrenceSchedule("hour", hours=1, minutes=0),
            r"'hour' does not take hours, minutes \(Azure ML allows no pattern for it\)",
        ),
        (
            lambda: RecurrenceSchedule("day", hours=6, minutes=0, week_days="monday"),
            r"'day' does not take week_days",
        ),
        (
            lambda: RecurrenceSchedule("week", hours=6, minutes=0, month_days=1),
            r"'week' does not take month_days",
        ),
        (lambda: RecurrenceSchedule("month", month_days=10), r"needs both hours and minutes"),
        (
            lambda: RecurrenceSchedule(
                "month", hours=6, minutes=0, month_days=10, week_days="monday"
            ),
            r"week_days or month_days, not both",
        ),
        (
            lambda: RecurrenceSchedule("day", hours=24, minutes=0),
            r"24 is not a whole number from 0",
        ),
        (lambda: RecurrenceSchedule("week", hours=1, minutes=0, week_days="funday"), r"'funday'"),
    ],
)
def test_bad_schedules_are_refused_with_a_clear_error(build, message) -> None:
    with pytest.raises(ScheduleError, match=message):
        build()
