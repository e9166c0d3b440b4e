"""Schedules written in azureml.yml (``schedules:``, ``jobs.<name>.schedule``) as specs.

The layouts kedro-azureml-pipeline users have: a named schedule under ``schedules``
(``cron`` or ``recurrence``), referred to by name from a job, or written inline in the
job; a job's ``schedule`` may also be a list of either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_kedro_azureml.errors import ConfigError, ScheduleError
from airflow_kedro_azureml.schedules.spec import AzureMLSchedule, CronSchedule, RecurrenceSchedule

if TYPE_CHECKING:
    from airflow_kedro_azureml.config import AzureMLConfig, ScheduleConfig


def schedule_from_config(config: ScheduleConfig, where: str) -> AzureMLSchedule:
    """The spec of one ``cron``/``recurrence`` entry; errors name ``where`` (file and field)."""
    try:
        return spec_of(config)
    except ScheduleError as error:
        raise ConfigError(f"{where}: {error}") from None


def spec_of(config: ScheduleConfig) -> AzureMLSchedule:
    """The spec of one ``cron``/``recurrence`` entry; ``ScheduleError`` if it is invalid."""
    if config.cron is not None:
        cron = config.cron
        return CronSchedule(
            cron.expression,
            time_zone=cron.time_zone,
            start_time=cron.start_time,
            end_time=cron.end_time,
        )
    recurrence = config.recurrence
    if recurrence is None:  # the model requires one of the two
        raise ScheduleError("neither 'cron' nor 'recurrence' is set")
    pattern = recurrence.schedule
    return RecurrenceSchedule(
        recurrence.frequency,
        interval=recurrence.interval,
        hours=pattern.hours if pattern else None,
        minutes=pattern.minutes if pattern else None,
        week_days=pattern.week_days if pattern else None,
        month_days=pattern.month_days if pattern else None,
        time_zone=recurrence.time_zone,
        start_time=recurrence.start_time,
        end_time=recurrence.end_time,
    )


def named_schedule(config: AzureMLConfig, name: str, source: str) -> AzureMLSchedule:
    """The schedule called ``name`` under ``schedules:``; an error listing the known ones."""
    if name not in config.schedules:
        raise ConfigError(
            f"{source} has no schedule {name!r} under 'schedules' "
            f"(known: {sorted(config.schedules) or 'none'})"
        )
    return schedule_from_config(config.schedules[name], f"{source} schedules.{name}")


def job_schedules(
    config: AzureMLConfig, job: str, source: str
) -> list[tuple[str, AzureMLSchedule]]:
    """``(label, schedule)`` of every schedule of ``jobs.<job>`` (named or inline, one or a list).

    The label is the schedule's name under ``schedules`` or, inline, its place (``1``, ``2``...).
    """
    if job not in config.jobs:
        raise ConfigError(
            f"{source} has no job {job!r} under 'jobs' (known: {sorted(config.jobs) or 'none'})"
        )
    entries = config.jobs[job].schedule or []
    found = []
    for index, entry in enumerate(entries, start=1):
        if isinstance(entry, str):
            found.append((entry, named_schedule(config, entry, source)))
        else:
            where = f"{source} jobs.{job}.schedule" + (f"[{index - 1}]" if len(entries) > 1 else "")
            found.append((str(index), schedule_from_config(entry, where)))
    return found
