"""Run identity from an Airflow run: the Kedro run id every step shares, and the job name.

**Run id.** Kedro picks the "latest" version of a versioned dataset by sorting version
strings, so a run id must sort by time. It uses Kedro's own save-version format
(``2026-11-10T06.00.00.000Z``) built from the Airflow run's logical date (or,
when a run has none, the time it was queued for), plus a short suffix derived
from the Airflow run id when that date alone might not be unique.

**Job name.** One pipeline job per Airflow task run, the same on every retry of
that run: a retry after a worker crash derives the same name, so it can
re-attach to the job that is still running instead of submitting a second one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import datetime

from airflow_kedro_azureml.compute.run_time import format_save_version

_MAX_JOB_NAME_PREFIX = 60
# A later job of the same task run: ``<prefix>_<16 hex>_<n>``.
_GENERATION = re.compile(r"^(.*_[0-9a-f]{16})_(\d+)$")
_RUN_ID_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}\.\d{2}\.\d{2}\.\d{3}Z(-[0-9a-z]{1,16})?$")


def format_timestamp(moment: datetime) -> str:
    """Format ``moment`` (in UTC) the way Kedro formats a save version."""
    return format_save_version(moment)


def run_id_for(moment: datetime, unique_key: str | None = None) -> str:
    """Return the run id for a run at ``moment``, suffixed by a hash of ``unique_key``."""
    stamp = format_timestamp(moment)
    if not unique_key:
        return stamp
    digest = hashlib.sha256(unique_key.encode("utf-8")).hexdigest()[:6]
    return f"{stamp}-{digest}"


def airflow_run_id(
    dag_id: str,
    dag_run_id: str,
    logical_date: datetime | None,
    run_after: datetime | None,
) -> str:
    """Return the run id of one Airflow DAG run, the same for every task and retry in it.

    A DAG run with a logical date is unique by it within its DAG; the suffix keeps
    runs of different DAGs apart. A run without a logical date (e.g. a manual
    trigger in Airflow 3) falls back to the time it was queued for.
    """
    moment = logical_date or run_after
    if moment is None:
        raise ValueError(
            f"DAG run {dag_run_id!r} of {dag_id!r} has neither a logical date nor a run_after"
        )
    return run_id_for(moment, f"{dag_id}\n{dag_run_id}")


def validate_run_id(run_id: str) -> str:
    """Check that ``run_id`` sorts by time like a Kedro save version; return it."""
    if not _RUN_ID_PATTERN.match(run_id):
        raise ValueError(
            f"run_id {run_id!r} does not look like a Kedro save version "
            "(e.g. '2026-11-10T06.00.00.000Z', optionally followed by '-' and up to 16 "
            "lowercase letters or digits); versions must sort by time so that Kedro "
            "loads the right 'latest' version"
        )
    return run_id


def job_name_for(dag_id: str, task_id: str, dag_run_id: str, map_index: int | None) -> str:
    """A valid Azure ML job name unique to (dag, run, task, map index)."""
    index = -1 if map_index is None else map_index
    key = f"{dag_id}\n{dag_run_id}\n{task_id}\n{index}"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    prefix = re.sub(r"[^a-z0-9_]+", "_", f"{dag_id}_{task_id}".lower()).strip("_")
    prefix = prefix[:_MAX_JOB_NAME_PREFIX].rstrip("_") or "kedro"
    if not prefix[0].isalpha():
        prefix = "kedro_" + prefix
    return f"{prefix}_{digest}"


def next_job_name(name: str) -> str:
    """The name of the job that follows job ``name`` of the same task run.

    ``job_name_for(...)`` names the first job; a retry after that job failed (or a
    clear after it completed) submits ``<first>_2``, then ``<first>_3``, and so on,
    so every name is known before its job is created.
    """
    match = _GENERATION.match(name)
    if match is None:
        return f"{name}_2"
    return f"{match.group(1)}_{int(match.group(2)) + 1}"


def job_tags(
    *,
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    try_number: int,
    pipeline: str,
    env: str | None,
    run_id: str,
    extra: Mapping[str, object] | None = None,
) -> dict[str, str]:
    """The tags that trace a job back to its Airflow task try and Kedro run (``extra`` last)."""
    return {
        "airflow_dag_id": dag_id,
        "airflow_run_id": dag_run_id,
        "airflow_task_id": task_id,
        "airflow_try_number": str(try_number),
        "kedro_pipeline": pipeline,
        "kedro_env": env or "",
        "kedro_run_id": run_id,
        **{str(key): str(value) for key, value in (extra or {}).items()},
    }


def local_job_name(run_id: str) -> str:
    """The job name of a ``kedro azureml run-local`` run: ``local_`` and the run id."""
    return f"local_{run_id.replace('.', '').replace(':', '').lower()}"


_MAX_SCHEDULE_NAME = 100
_SCHEDULE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$")


def schedule_name_for(dag_id: str, task_id: str) -> str:
    """The native schedule a task manages: ``<dag>-<task>``, made a valid Azure ML name."""
    raw = re.sub(r"[^a-z0-9_-]+", "-", f"{dag_id}-{task_id}".lower()).strip("-_")
    name = raw[:_MAX_SCHEDULE_NAME].rstrip("-_") or "kedro"
    return name if name[0].isalnum() else f"kedro-{name}"


def validate_schedule_name(name: str, where: str) -> str:
    """Check a schedule name Azure ML would take (letters, digits, ``-``, ``_``); return it."""
    if not _SCHEDULE_NAME.match(name):
        raise ValueError(
            f"{where}: {name!r} is not a valid Azure ML schedule name: start with a letter or "
            "digit, then letters, digits, '-' or '_' (at most 255 characters)"
        )
    return name
