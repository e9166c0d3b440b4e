"""Tests for run identity: run ids in Kedro's version format, and job names."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from airflow_kedro_azureml.identity import (
    airflow_run_id,
    format_timestamp,
    job_name_for,
    next_job_name,
    run_id_for,
    validate_run_id,
)


def test_format_matches_kedro_save_version() -> None:
    from kedro.io.core import generate_timestamp

    ours = format_timestamp(datetime(2026, 11, 10, 6, 0, 0, 123456, tzinfo=UTC))
    assert ours == "2026-11-10T06.00.00.123Z"
    assert len(ours) == len(generate_timestamp())


def test_converts_to_utc() -> None:
    cet = timezone(timedelta(hours=1))
    assert format_timestamp(datetime(2026, 1, 1, 7, tzinfo=cet)) == "2026-01-01T06.00.00.000Z"


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        format_timestamp(datetime(2026, 1, 1))


def test_same_dag_run_gives_same_id_and_ids_sort_by_time() -> None:
    october = datetime(2026, 10, 10, 6, tzinfo=UTC)
    november = datetime(2026, 11, 10, 6, tzinfo=UTC)
    first = airflow_run_id("dag", "scheduled__2026-10-10", october, None)
    assert first == airflow_run_id("dag", "scheduled__2026-10-10", october, None)
    manual = airflow_run_id("dag", "manual__2026-11-10", november, None)
    scheduled = airflow_run_id("dag", "scheduled__2026-10-10", october, None)
    assert sorted([manual, scheduled]) == [scheduled, manual]
    validate_run_id(first)


def test_run_without_logical_date_uses_run_after() -> None:
    run_after = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
    assert airflow_run_id("dag", "manual__x", None, run_after).startswith("2026-11-22T09.30.00")


def test_different_dags_get_different_suffixes() -> None:
    moment = datetime(2026, 11, 10, tzinfo=UTC)
    assert run_id_for(moment, "a") != run_id_for(moment, "b")


@pytest.mark.parametrize(
    "bad", ["scheduled__2026-11-10", "2026-11-10", "2026-11-10T06.00.00.000Z-UPPER"]
)
def test_validate_rejects_ids_that_do_not_sort_by_time(bad: str) -> None:
    with pytest.raises(ValueError, match="Kedro save version"):
        validate_run_id(bad)


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


def test_later_jobs_of_a_task_run_have_names_known_in_advance() -> None:
    first = job_name_for("dag", "task", "run1", None)
    second = next_job_name(first)
    assert second == f"{first}_2"
    assert next_job_name(second) == f"{first}_3"
    assert next_job_name(next_job_name(second)) == f"{first}_4"
    assert VALID.match(second)
