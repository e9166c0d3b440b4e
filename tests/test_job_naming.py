"""Tests for job names: valid for Azure ML, stable across retries, unique per task run."""

from __future__ import annotations

import re

from airflow_kedro_azureml.job_naming import job_name_for

VALID = re.compile(r"^[a-z][a-z0-9_]{0,254}$")


def test_same_task_run_gives_same_name() -> None:
    assert job_name_for("dag", "task", "run1", None) == job_name_for("dag", "task", "run1", None)


def test_names_differ_by_run_task_and_map_index() -> None:
    names = {
        job_name_for("dag", "task", "run1", None),
        job_name_for("dag", "task", "run2", None),
        job_name_for("dag", "other", "run1", None),
        job_name_for("dag", "task", "run1", 0),
        job_name_for("dag", "task", "run1", 1),
    }
    assert len(names) == 5


def test_names_are_valid_whatever_the_ids() -> None:
    for dag_id, task_id in [("My DAG!", "task.1"), ("9lives", "x"), ("a" * 300, "b" * 300)]:
        assert VALID.match(job_name_for(dag_id, task_id, "manual__2026-01-01T00:00:00+00:00", 3))
