"""When a native Azure ML schedule fires: a cron expression or a recurrence, checked at once.

``CronSchedule`` and ``RecurrenceSchedule`` are what a DAG passes as the operator's
``azureml_schedule``; they import neither kedro nor azure, and every mistake (a cron
that does not parse, an unknown time zone, a recurrence pattern Azure ML does not
allow for the frequency) raises ``ScheduleError`` when the DAG file is parsed,
before anything reaches Azure.

Recurrence rules, as Azure ML states them: ``minute`` and ``hour`` take no pattern;
``day`` takes ``hours`` and ``minutes``; ``week`` adds ``week_days``; ``month`` adds
``week_days`` or ``month_days``. A pattern needs both ``hours`` and ``minutes``.
Start and end times are wall-clock times in the schedule's time zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from airflow_kedro_azureml.errors import ScheduleError
from airflow_kedro_azureml.schedules.time_zones import windows_time_zone, zone_info

Frequency = Literal["minute", "hour", "day", "week", "month"]
FREQUENCIES: tuple[str, ...] = ("minute", "hour", "day", "week", "month")
WEEK_DAYS: tuple[str, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
_PATTERN_FIELDS: dict[str, tuple[str, ...]] = {
    "minute": (),
    "hour": (),
    "day": ("hours", "minutes"),
    "week": ("hours", "minutes", "week_days"),
    "month": ("hours", "minutes", "week_days", "month_days"),
}
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"


def _wall_clock(value: datetime | str | None, time_zone: str, where: str) -> str | None:
    """``value`` as ``YYYY-MM-DDThh:mm:ss`` in ``time_zone`` (aware datetimes are converted)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ScheduleError(
                f"{where}: {value!r} is not a date-time; write it as 'YYYY-MM-DDThh:mm:ss' "
                f"(wall-clock time in {time_zone})"
            ) from None
    elif isinstance(value, datetime):
        moment = value
    else:
        raise ScheduleError(f"{where}: expected a datetime or an ISO string, got {value!r}")
    if moment.tzinfo is not None:
        moment = moment.astimezone(zone_info(time_zone)).replace(tzinfo=None)
    return moment.strftime(_TIME_FORMAT)


def _check_order(start: str | None, end: str | None, where: str) -> None:
    if start is not None and end is not None and end <= start:
        raise ScheduleError(f"{where}: end_time {end} is not after start_time {start}")


def _int_list(
    value: int | Iterable[int] | None, low: int, high: int, where: str
) -> tuple[int, ...]:
    if value is None:
        return ()
    values = [value] if isinstance(value, int) else list(value)
    for item in values:
        if isinstance(item, bool) or not isinstance(item, int) or not low <= item <= high:
            raise ScheduleError(f"{where}: {item!r} is not a whole number from {low} to {high}")
    return tuple(sorted(set(values)))


def _week_days(value: str | Iterable[str] | None, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    values = [value] if isinstance(value, str) else list(value)
    days = []
    for item in values:
        day = str(item).strip().lower()
        if day not in WEEK_DAYS:
            raise ScheduleError(
                f"{where}: {item!r} is not a day of the week ({', '.join(WEEK_DAYS)})"
            )
        days.append(day)
    return tuple(sorted(set(days), key=WEEK_DAYS.index))


@dataclass(frozen=True)
class CronSchedule:
    """Fire on a five-field cron expression, read in ``time_zone``.

    Example: ``CronSchedule("0 6 10 * *", time_zone="Europe/Paris")`` fires at 06:00
    Paris time on the 10th of every month.
    """

    expression: str
    time_zone: str = "UTC"
    start_time: datetime | str | None = None
    end_time: datetime | str | None = None

    def __post_init__(self) -> None:
        from croniter import croniter

        where = "CronSchedule"
        fields = str(self.expression).split()
        if len(fields) != 5 or not croniter.is_valid(" ".join(fields)):
            raise ScheduleError(
                f"{where}: {self.expression!r} is not a cron expression of five fields "
                "(minute hour day-of-month month day-of-week), e.g. '0 6 10 * *'"
            )
        windows_time_zone(self.time_zone, f"{where} time_zone")
        start = _wall_clock(self.start_time, self.time_zone, f"{where} start_time")
        end = _wall_clock(self.end_time, self.time_zone, f"{where} end_time")
        _check_order(start, end, where)
        object.__setattr__(self, "expression", " ".join(fields))
        object.__setattr__(self, "start_time", start)
        object.__setattr__(self, "end_time", end)

    def describe(self) -> str:
        """One line for logs: ``cron '0 6 10 * *' (Europe/Paris)``."""
        return f"cron {self.expression!r} ({self.time_zone})"

    def to_dict(self) -> dict[str, Any]:
        """The schedule as plain data (what the created Azure ML trigger is built from)."""
        return {
            "cron": self.expression,
            "time_zone": windows_time_zone(self.time_zone, "CronSchedule time_zone"),
            "start_time": self.start_time,
            "end_time": self.end_time,
        }


@dataclass(frozen=True)
class RecurrenceSchedule:
    """Fire every ``interval`` ``frequency`` units, at the pattern's hours and minutes.

    Example: ``RecurrenceSchedule("month", month_days=[10], hours=[6], minutes=[0])``
    fires at 06:00 UTC on the 10th of every month.
    """

    frequency: Frequency
    interval: int = 1
    hours: int | Iterable[int] | None = None
    minutes: int | Iterable[int] | None = None
    week_days: str | Iterable[str] | None = None
    month_days: int | Iterable[int] | None = None
    time_zone: str = "UTC"
    start_time: datetime | str | None = None
    end_time: datetime | str | None = None
    _pattern: tuple[str, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        where = "RecurrenceSchedule"
        if self.frequency not in FREQUENCIES:
            raise ScheduleError(
                f"{where}: frequency {self.frequency!r} is not one of {', '.join(FREQUENCIES)}"
            )
        if (
            isinstance(self.interval, bool)
            or not isinstance(self.interval, int)
            or self.interval < 1
        ):
            raise ScheduleError(f"{where}: interval must be a whole number of at least 1")
        values = {
            "hours": _int_list(self.hours, 0, 23, f"{where} hours"),
            "minutes": _int_list(self.minutes, 0, 59, f"{where} minutes"),
            "week_days": _week_days(self.week_days, f"{where} week_days"),
            "month_days": _int_list(self.month_days, 1, 31, f"{where} month_days"),
        }
        given = tuple(name for name, value in values.items() if value)
        allowed = _PATTERN_FIELDS[self.frequency]
        refused = [name for name in given if name not in allowed]
        if refused:
            what = ", ".join(allowed) if allowed else "no pattern"
            raise ScheduleError(
                f"{where}: frequency {self.frequency!r} does not take {', '.join(refused)} "
                f"(Azure ML allows {what} for it)"
            )
        if given and not (values["hours"] and values["minutes"]):
            raise ScheduleError(
                f"{where}: a pattern ({', '.join(given)}) needs both hours and minutes"
            )
        if values["week_days"] and values["month_days"]:
            raise ScheduleError(f"{where}: give week_days or month_days, not both")
        windows_time_zone(self.time_zone, f"{where} time_zone")
        start = _wall_clock(self.start_time, self.time_zone, f"{where} start_time")
        end = _wall_clock(self.end_time, self.time_zone, f"{where} end_time")
        _check_order(start, end, where)
        for name, value in values.items():
            object.__setattr__(self, name, list(value) or None)
        object.__setattr__(self, "start_time", start)
        object.__setattr__(self, "end_time", end)
        object.__setattr__(self, "_pattern", given)

    @property
    def has_pattern(self) -> bool:
        """Whether hours and minutes (and days) are given."""
        return bool(self._pattern)

    def describe(self) -> str:
        """One line for logs: ``every 1 month (month_days [10], hours [6], minutes [0]; UTC)``."""
        parts = [f"{name} {getattr(self, name)}" for name in self._pattern]
        pattern = f"{', '.join(parts)}; " if parts else ""
        return f"every {self.interval} {self.frequency} ({pattern}{self.time_zone})"

    def to_dict(self) -> dict[str, Any]:
        """The schedule as plain data (what the created Azure ML trigger is built from)."""
        return {
            "frequency": self.frequency,
            "interval": self.interval,
            "hours": self.hours,
            "minutes": self.minutes,
            "week_days": self.week_days,
            "month_days": self.month_days,
            "time_zone": windows_time_zone(self.time_zone, "RecurrenceSchedule time_zone"),
            "start_time": self.start_time,
            "end_time": self.end_time,
        }


AzureMLSchedule = CronSchedule | RecurrenceSchedule
