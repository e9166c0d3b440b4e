"""Turn a schedule and a registered pipeline job into an Azure ML ``JobSchedule``.

Every call builds fresh SDK objects: updating a schedule from a job object that was
already submitted makes the SDK stamp ``source_job_id`` on it, which Azure ML
refuses once the schedule has fired (Azure/azure-sdk-for-python#40288).

A schedule carries a fingerprint tag of what defines it (the trigger and the job
definition), so running the same task again can tell "unchanged" from "updated"
without comparing Azure ML's stored form field by field.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from airflow_kedro_azureml.schedules.spec import AzureMLSchedule, CronSchedule

if TYPE_CHECKING:
    from azure.ai.ml.entities import JobSchedule, PipelineJob

FINGERPRINT_TAG = "kedro_azureml_fingerprint"


def trigger_for(schedule: AzureMLSchedule, start_time: str | None) -> Any:
    """The SDK trigger of ``schedule``; ``start_time`` fills in a schedule that has none."""
    from azure.ai.ml.entities import CronTrigger, RecurrencePattern, RecurrenceTrigger

    timing = schedule.to_dict()
    start = timing["start_time"] or start_time
    if isinstance(schedule, CronSchedule):
        return CronTrigger(
            expression=timing["cron"],
            start_time=start,
            end_time=timing["end_time"],
            time_zone=timing["time_zone"],
        )
    pattern = None
    if schedule.has_pattern:
        pattern = RecurrencePattern(
            hours=timing["hours"],
            minutes=timing["minutes"],
            week_days=timing["week_days"],
            month_days=timing["month_days"],
        )
    return RecurrenceTrigger(
        frequency=timing["frequency"],
        interval=timing["interval"],
        schedule=pattern,
        start_time=start,
        end_time=timing["end_time"],
        time_zone=timing["time_zone"],
    )


def fingerprint(schedule: AzureMLSchedule, start_time: str | None, job: PipelineJob) -> str:
    """A hash of what defines the schedule: its timing and its job's definition."""
    timing = {**schedule.to_dict(), "start_time": schedule.to_dict()["start_time"] or start_time}
    definition = job._to_rest_object().as_dict()  # the job body Azure ML stores
    text = json.dumps({"timing": timing, "job": definition}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def to_job_schedule(
    name: str,
    schedule: AzureMLSchedule,
    job: PipelineJob,
    *,
    start_time: str | None,
    enabled: bool,
    description: str | None,
    tags: dict[str, str],
) -> JobSchedule:
    """A new ``JobSchedule`` named ``name`` that fires ``job`` on ``schedule``."""
    from azure.ai.ml.entities import JobSchedule

    stamp = fingerprint(schedule, start_time, job)
    job_schedule = JobSchedule(
        name=name,
        trigger=trigger_for(schedule, start_time),
        create_job=job,
        description=description,
        tags={**tags, FINGERPRINT_TAG: stamp},
    )
    job_schedule._is_enabled = enabled  # the SDK sends it as isEnabled
    return job_schedule
