"""Schedules that fire on a clock the test moves, as Azure ML's scheduler would.

Each schedule remembers up to when it has fired. ``advance(until)`` fires every
enabled schedule at each of its firing times up to ``until`` (cron read in the
trigger's time zone; a recurrence counted from its start time, or from when the
schedule was created), oldest first, each firing creating a job that runs.
As Azure ML documents: a schedule created without a start time fires once at
once; one whose start time is past fires first at its next time; none fires after
its end time; a disabled schedule does not fire, and enabling it again does not
fire the times it missed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow_kedro_azureml.schedules.firing_times import (
    Recurrence,
    cron_firings,
    recurrence_firings,
)
from airflow_kedro_azureml.schedules.time_zones import zone_info

# Creates the job of one firing: (schedule name, firing time) -> job name.
FireJob = Callable[[str, datetime], str]


def _wall_clock(value: str | None, time_zone: str) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone_info(time_zone))
    return moment.astimezone(UTC)


class ScheduleClock:
    """Up to when each schedule has fired, and the firing of the times after it."""

    def __init__(self, fire: FireJob) -> None:
        self._fire = fire
        self._lock = threading.Lock()
        self._fired_until: dict[str, datetime] = {}
        self._created_at: dict[str, datetime] = {}

    def on_saved(self, name: str, properties: Mapping[str, Any], created: bool) -> str | None:
        """Note a created or updated schedule; fire a new one that names no start time."""
        now = datetime.now(UTC)
        with self._lock:
            if created or name not in self._created_at:
                self._created_at[name] = now
                self._fired_until[name] = now
        trigger = properties.get("trigger") or {}
        if created and properties.get("isEnabled", True) and not trigger.get("startTime"):
            return self._fire(name, now)
        return None

    def on_enabled(self, name: str) -> None:
        """A schedule enabled again fires from now on, not at the times it missed."""
        with self._lock:
            now = datetime.now(UTC)
            self._fired_until[name] = max(self._fired_until.get(name, now), now)

    def fire_now(self, name: str, moment: datetime) -> str:
        """Fire ``name`` once at ``moment`` (a trigger-now), whatever its timing says."""
        return self._fire(name, moment)

    def forget(self, name: str) -> None:
        """The schedule was deleted."""
        with self._lock:
            self._fired_until.pop(name, None)
            self._created_at.pop(name, None)

    def advance(self, until: datetime, schedules: Mapping[str, Mapping[str, Any]]) -> list[str]:
        """Fire every enabled schedule at its times up to ``until``; the jobs made, in order."""
        if until.tzinfo is None:
            raise ValueError("advance() needs an aware datetime (e.g. with tzinfo=UTC)")
        due: list[tuple[datetime, str]] = []
        for name, body in sorted(schedules.items()):
            properties = body.get("properties") or {}
            with self._lock:
                after = self._fired_until.setdefault(name, datetime.now(UTC))
                created = self._created_at.setdefault(name, after)
                if until > after:
                    self._fired_until[name] = until
            if not properties.get("isEnabled", True) or until <= after:
                continue
            due += [(moment, name) for moment in self._firings(properties, created, after, until)]
        return [self._fire(name, moment) for moment, name in sorted(due)]

    @staticmethod
    def _firings(
        properties: Mapping[str, Any], created: datetime, after: datetime, until: datetime
    ) -> Iterator[datetime]:
        trigger = properties.get("trigger") or {}
        time_zone = trigger.get("timeZone") or "UTC"
        start = _wall_clock(trigger.get("startTime"), time_zone)
        end = _wall_clock(trigger.get("endTime"), time_zone)
        if start is not None and start > after:
            after = start - timedelta(microseconds=1)  # nothing before the start; the start may
        if end is not None:
            until = min(until, end)
        if str(trigger.get("triggerType", "")).lower() == "cron":
            yield from cron_firings(str(trigger["expression"]), time_zone, after, until)
            return
        pattern = trigger.get("schedule") or {}
        recurrence = Recurrence(
            frequency=str(trigger["frequency"]).lower(),
            interval=int(trigger.get("interval") or 1),
            hours=list(pattern.get("hours") or []),
            minutes=list(pattern.get("minutes") or []),
            week_days=[str(day).lower() for day in pattern.get("weekDays") or []],
            month_days=list(pattern.get("monthDays") or []),
        )
        yield from recurrence_firings(recurrence, time_zone, start or created, after, until)
