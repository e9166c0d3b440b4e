"""When a schedule fires: the firing times of a cron or a recurrence in a time window.

Used by the workspace emulator (its schedules fire on a clock the test moves) and
to tell the user when a schedule will fire next. Times are computed as wall-clock
times in the schedule's zone (so 06:00 stays 06:00 across daylight saving) and
returned as aware UTC datetimes.

A recurrence counts its periods from its anchor (the start time, or the time the
schedule was created): ``every 2 week`` fires in the anchor's week, two weeks
later, and so on; without a pattern it fires at the anchor's time of day.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from airflow_kedro_azureml.schedules.spec import WEEK_DAYS
from airflow_kedro_azureml.schedules.time_zones import zone_info

_MAX_FIRINGS = 100_000


@dataclass(frozen=True)
class Recurrence:
    """A recurrence as Azure ML stores it (lists empty when the pattern leaves them out)."""

    frequency: str
    interval: int
    hours: Sequence[int] = ()
    minutes: Sequence[int] = ()
    week_days: Sequence[str] = ()
    month_days: Sequence[int] = ()


def cron_firings(
    expression: str, time_zone: str, after: datetime, until: datetime
) -> Iterator[datetime]:
    """Times in ``(after, until]`` that match ``expression`` read in ``time_zone``."""
    from croniter import croniter

    zone = zone_info(time_zone)
    cursor = croniter(expression, after.astimezone(zone))
    for _ in range(_MAX_FIRINGS):
        moment: datetime = cursor.get_next(datetime)
        if moment > until:
            return
        yield moment.astimezone(UTC)


def recurrence_firings(
    recurrence: Recurrence, time_zone: str, anchor: datetime, after: datetime, until: datetime
) -> Iterator[datetime]:
    """Times in ``(after, until]`` of ``recurrence`` counted from ``anchor`` (not before it)."""
    zone = zone_info(time_zone)
    local_anchor = anchor.astimezone(zone)
    for period in range(_MAX_FIRINGS):
        candidates = sorted(_period_times(recurrence, local_anchor, period, zone))
        if not candidates:
            if _period_start(recurrence, local_anchor, period) > until.astimezone(zone):
                return
            continue
        for moment in candidates:
            if moment < local_anchor or moment <= after:
                continue
            if moment > until:
                return
            yield moment.astimezone(UTC)
        if candidates[0] > until:
            return
    raise RuntimeError(f"more than {_MAX_FIRINGS} periods to look at; move the clock less far")


def _period_start(recurrence: Recurrence, anchor: datetime, period: int) -> datetime:
    step = period * recurrence.interval
    if recurrence.frequency == "month":
        month_index = anchor.month - 1 + step
        year, month = anchor.year + month_index // 12, month_index % 12 + 1
        return anchor.replace(year=year, month=month, day=1, hour=0, minute=0, second=0)
    unit = {
        "minute": timedelta(minutes=1),
        "hour": timedelta(hours=1),
        "day": timedelta(days=1),
        "week": timedelta(weeks=1),
    }[recurrence.frequency]
    return anchor + unit * step


def _period_times(
    recurrence: Recurrence, anchor: datetime, period: int, zone: ZoneInfo
) -> list[datetime]:
    """The wall-clock firing times (in ``zone``) of one period of the recurrence."""
    frequency = recurrence.frequency
    start = _period_start(recurrence, anchor, period)
    if not recurrence.hours:  # no pattern: at the anchor's time, once a period
        if frequency == "month":
            day = min(anchor.day, calendar.monthrange(start.year, start.month)[1])
            start = start.replace(day=day, hour=anchor.hour, minute=anchor.minute)
        return [start.replace(second=anchor.second, microsecond=0)]
    if frequency == "day":
        dates = [start.date()]
    elif frequency == "week":
        week_days = recurrence.week_days or [WEEK_DAYS[anchor.weekday()]]
        dates = _week_dates(start, week_days)
    else:
        last = calendar.monthrange(start.year, start.month)[1]
        if recurrence.week_days:
            wanted = {WEEK_DAYS.index(day) for day in recurrence.week_days}
            days = [
                d
                for d in range(1, last + 1)
                if calendar.weekday(start.year, start.month, d) in wanted
            ]
        else:
            days = [d for d in (recurrence.month_days or [anchor.day]) if d <= last]
        dates = [start.replace(day=d).date() for d in days]
    return _at_times(dates, recurrence.hours, recurrence.minutes, zone)


def _week_dates(week_start: datetime, week_days: Sequence[str]) -> list[date]:
    monday = week_start.date() - timedelta(days=week_start.weekday())
    return [monday + timedelta(days=WEEK_DAYS.index(day)) for day in week_days]


def _at_times(
    dates: list, hours: Sequence[int], minutes: Sequence[int], zone: ZoneInfo
) -> list[datetime]:
    return [
        datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
        for day in dates
        for hour in hours
        for minute in minutes
    ]
