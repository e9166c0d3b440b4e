"""A step's save version and run time from its run id: a save version or a firing time."""

from __future__ import annotations

import pytest

from airflow_kedro_azureml.compute.run_time import run_time, save_version


@pytest.mark.parametrize(
    ("given", "version"),
    [
        ("2026-11-10T06.00.00.000Z", "2026-11-10T06.00.00.000Z"),
        ("2026-11-10T06.00.00.000Z-ab12cd", "2026-11-10T06.00.00.000Z-ab12cd"),
        ("2026-02-10T05:00:00.0000000Z", "2026-02-10T05.00.00.000Z"),
        ("2026-02-10T05:00:00.1234567Z", "2026-02-10T05.00.00.123Z"),
        ("2026-02-10T06:00:00+01:00", "2026-02-10T05.00.00.000Z"),
        ("2026-02-10 05:00:00", "2026-02-10T05.00.00.000Z"),
        ("2/10/2026 5:00:00 AM", "2026-02-10T05.00.00.000Z"),
        ("02/10/2026 17:00:00", "2026-02-10T17.00.00.000Z"),
    ],
)
def test_run_ids_become_save_versions(given: str, version: str) -> None:
    assert save_version(given) == version


def test_run_time_is_what_the_run_id_encodes() -> None:
    assert run_time("2026-11-10T06.00.00.000Z-ab12cd") == "2026-11-10T06:00:00+00:00"
    assert run_time("2026-02-10T06:00:00+01:00") == "2026-02-10T05:00:00+00:00"


def test_versions_of_firings_sort_by_firing_time() -> None:
    firings = ["2026-10-10T05:00:00Z", "2026-09-10T05:00:00Z", "2026-11-10T06:00:00Z"]
    versions = [save_version(firing) for firing in firings]
    assert sorted(versions) == [versions[1], versions[0], versions[2]]


def test_anything_else_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"run id 'manual__x' is neither a Kedro save version"):
        save_version("manual__x")
