"""Tests of the fault injector: matching, counting, validation."""

from __future__ import annotations

import pytest

from airflow_kedro_azureml.testing.faults import FaultInjector


@pytest.mark.timeout(10)
def test_fault_fires_on_the_next_n_matching_requests_only() -> None:
    faults = FaultInjector()
    faults.inject(kind="503", method="PUT", path_regex=r"/jobs/[^/]+$", count=2)
    assert faults.take("GET", "/ws/jobs/a") is None
    assert faults.take("PUT", "/ws/jobs/a/cancel") is None
    first = faults.take("put", "/ws/jobs/a")
    second = faults.take("PUT", "/ws/jobs/b")
    assert first is not None and second is first and first.fired == 2
    assert faults.take("PUT", "/ws/jobs/c") is None
    assert faults.pending() == []


@pytest.mark.timeout(10)
def test_oldest_matching_fault_wins_and_clear_disarms() -> None:
    faults = FaultInjector()
    first = faults.inject(kind="429", retry_after=2)
    faults.inject(kind="drop")
    assert faults.take("GET", "/x") is first
    faults.clear()
    assert faults.take("GET", "/x") is None


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "404"},
        {"kind": "503", "count": 0},
        {"kind": "slow"},
        {"kind": "drop", "phase": "during"},
        {"kind": "500", "path_regex": "("},
    ],
)
def test_invalid_faults_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        FaultInjector().inject(**kwargs)
