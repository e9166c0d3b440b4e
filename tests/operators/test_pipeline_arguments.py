"""The operator's arguments are checked when the DAG is parsed, naming the argument."""

from __future__ import annotations

import pytest

from airflow_kedro_azureml.operators.pipeline import KedroAzureMLPipelineOperator


@pytest.mark.parametrize("value", [0, -5])
def test_poll_interval_must_be_above_zero(value: float) -> None:
    with pytest.raises(ValueError, match=r"poll_interval must be a number of seconds above 0"):
        KedroAzureMLPipelineOperator(task_id="t", project_path=".", poll_interval=value)


def test_poll_interval_setting_is_checked_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__KEDRO_AZUREML__POLL_INTERVAL", "0")
    with pytest.raises(ValueError, match=r"\[kedro_azureml\] poll_interval must be"):
        KedroAzureMLPipelineOperator(task_id="t", project_path=".")
    monkeypatch.setenv("AIRFLOW__KEDRO_AZUREML__POLL_INTERVAL", "2.5")
    assert KedroAzureMLPipelineOperator(task_id="t", project_path=".").poll_interval == 2.5
