"""Create, update or leave alone the native Azure ML schedule of a compiled pipeline.

Running the same task twice leaves one schedule: it is created when missing,
updated only when its timing or its job's definition changed (a fingerprint tag
tells), and otherwise left untouched. A schedule given no start time starts when
it is first created (so creating it does not fire a job at once, which Azure ML
does for a schedule without a start time), and keeps that start on every update.
An update keeps the schedule enabled or disabled as it was.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from airflow_kedro_azureml.azure.code_snapshot import build_snapshot
from airflow_kedro_azureml.azure.job_launch import check_computes
from airflow_kedro_azureml.azure.job_schedule import FINGERPRINT_TAG, to_job_schedule
from airflow_kedro_azureml.azure.submission import (
    check_environment,
    check_local_files,
    registered_pipeline_job,
)
from airflow_kedro_azureml.errors import ConfigError
from airflow_kedro_azureml.schedules.firing_times import (
    Recurrence,
    cron_firings,
    recurrence_firings,
)
from airflow_kedro_azureml.schedules.spec import AzureMLSchedule, CronSchedule
from airflow_kedro_azureml.schedules.time_zones import zone_info

if TYPE_CHECKING:
    from airflow_kedro_azureml.azure.pipeline_job import JobIdentity
    from airflow_kedro_azureml.compiler.spec import CompiledPipeline
    from airflow_kedro_azureml.hooks.azureml import AzureMLHook

START_TAG = "kedro_azureml_start_time"
logger = logging.getLogger(__name__)
Change = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True)
class ScheduleOutcome:
    """What applying a schedule did, and when it fires next."""

    name: str
    change: Change
    enabled: bool
    studio_url: str
    next_firings: tuple[datetime, ...]


def apply_schedule(
    hook: AzureMLHook,
    compiled: CompiledPipeline,
    schedule: AzureMLSchedule,
    name: str,
    identity: JobIdentity,
    *,
    log: Any = logger,
) -> ScheduleOutcome:
    """Create or update schedule ``name`` so it fires ``compiled`` on ``schedule``."""
    if not compiled.fires_on_schedule:
        raise ValueError("compile the pipeline with run_id=TRIGGER_TIME_RUN_ID for a schedule")
    check_environment(compiled)
    check_local_files(compiled)
    existing = hook.get_schedule(name)
    check_computes(hook, compiled)
    start_time = _start_time(schedule, existing)
    with tempfile.TemporaryDirectory(prefix="kedro-azureml-code-") as snapshot:
        files = build_snapshot(compiled.code_directory, Path(snapshot))
        log.info("Code snapshot: %d file(s) from %s", len(files), compiled.code_directory)
        job = registered_pipeline_job(
            hook, compiled, identity, Path(snapshot), log, pin_assets=False
        ).job
        enabled = True if existing is None else bool(existing.is_enabled)
        wanted = to_job_schedule(
            name,
            schedule,
            job,
            start_time=start_time,
            enabled=enabled,
            description=identity.description,
            tags={**identity.tags, START_TAG: start_time or ""},
        )
        stored = dict(existing.tags or {}) if existing is not None else {}
        if existing is not None and stored.get(FINGERPRINT_TAG) == (wanted.tags or {}).get(
            FINGERPRINT_TAG
        ):
            change: Change = "unchanged"
        else:
            hook.create_or_update_schedule(wanted)
            change = "created" if existing is None else "updated"
    return ScheduleOutcome(
        name=name,
        change=change,
        enabled=enabled,
        studio_url=hook.schedule_studio_url(name),
        next_firings=next_firings(schedule, start_time),
    )


def act_on_schedule(hook: AzureMLHook, name: str, action: str) -> str | None:
    """Enable, disable, delete or fire (``trigger``) schedule ``name``.

    Returns the fired job's name for ``trigger``, else None. A schedule that does not
    exist is a ``ConfigError`` naming it, before anything else is sent.
    """
    if hook.get_schedule(name) is None:
        raise ConfigError(
            f"there is no schedule {name!r} in the workspace to {action}; create it first "
            "(action create_or_update, with a schedule)"
        )
    if action == "enable":
        hook.enable_schedule(name)
    elif action == "disable":
        hook.disable_schedule(name)
    elif action == "delete":
        hook.delete_schedule(name)
    elif action == "trigger":
        return hook.trigger_schedule(name)
    else:
        raise ValueError(f"unknown schedule action {action!r}")
    return None


def _start_time(schedule: AzureMLSchedule, existing: Any) -> str | None:
    """The schedule's own start, else the one it was first created with, else now."""
    own = schedule.to_dict()["start_time"]
    if own:
        return str(own)
    if existing is not None:
        kept = (existing.tags or {}).get(START_TAG)
        if kept:
            return str(kept)
    now = datetime.now(UTC).astimezone(zone_info(schedule.time_zone))
    return now.strftime("%Y-%m-%dT%H:%M:%S")


def next_firings(
    schedule: AzureMLSchedule, start_time: str | None, count: int = 3
) -> tuple[datetime, ...]:
    """The next ``count`` times ``schedule`` fires from now (UTC)."""
    timing = schedule.to_dict()
    zone = zone_info(schedule.time_zone)
    now = datetime.now(UTC)
    start = datetime.fromisoformat(start_time).replace(tzinfo=zone) if start_time else now
    after = max(now, start - timedelta(microseconds=1))
    horizon = after + timedelta(days=3 * 366)
    if timing["end_time"]:
        horizon = min(horizon, datetime.fromisoformat(timing["end_time"]).replace(tzinfo=zone))
    if isinstance(schedule, CronSchedule):
        times = cron_firings(timing["cron"], schedule.time_zone, after, horizon)
    else:
        recurrence = Recurrence(
            frequency=timing["frequency"],
            interval=timing["interval"],
            hours=timing["hours"] or (),
            minutes=timing["minutes"] or (),
            week_days=timing["week_days"] or (),
            month_days=timing["month_days"] or (),
        )
        times = recurrence_firings(recurrence, schedule.time_zone, start, after, horizon)
    found = []
    for moment in times:
        found.append(moment)
        if len(found) == count:
            break
    return tuple(found)
