"""The native-schedule example DAG against the emulator: create, fire, train the right window.

`airflow dags test` of dags_examples/demand_forecasting_native_schedule.py creates the Azure
ML schedule; the emulator's clock then fires it, and the job it makes runs the whole
demand-forecasting pipeline. The shipped sell-in data is moved forward in time so that it
ends the month before the firing, as the data of a real monthly retraining would.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.airflow_cli import dags_test
from tests.operators.test_pipeline_azure import EXAMPLES, connection, register_environment

DAG_ID = "demand_forecasting_native_schedule"
SCHEDULE = "demand_forecasting_native_schedule-retrain_monthly"


def next_firing() -> datetime:
    from croniter import croniter

    cursor = croniter("0 6 10 * *", datetime.now(ZoneInfo("Europe/Paris")))
    return cursor.get_next(datetime).astimezone(UTC)


def month_before(moment: datetime) -> str:
    year, month = (moment.year, moment.month - 1) if moment.month > 1 else (moment.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def sell_in_ending(month: str, shipped: Path, folder: Path) -> Path:
    """The shipped sell-in history, moved forward so that its last month is ``month``."""
    import pandas as pd

    table = pd.read_csv(shipped / "sell_in.csv")
    months = pd.PeriodIndex(table["month"], freq="M")
    shift = pd.Period(month, freq="M").ordinal - months.max().ordinal
    table["month"] = (months + shift).strftime("%Y-%m")
    folder.mkdir(parents=True)
    table.to_csv(folder / "sell_in.csv", index=False)
    return folder


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_the_example_schedule_fires_a_retraining_on_the_month_before(
    airflow_home: Path, azureml_emulator, tmp_path: Path
) -> None:
    from azure.ai.ml.entities import Data

    from airflow_kedro_azureml.compute.run_time import format_save_version

    dags = tmp_path / "dags"
    shutil.copytree(
        EXAMPLES, dags, ignore=shutil.ignore_patterns("__pycache__", ".azureml-local", "0[2-8]_*")
    )
    firing = next_firing()
    shipped = dags / "demand_forecasting" / "data" / "01_raw" / "sell_in_history" / "1"
    data = sell_in_ending(month_before(firing), shipped, tmp_path / "sell_in")
    azureml_emulator.ml_client().data.create_or_update(
        Data(name="sell_in_history", version="1", type="uri_folder", path=str(data))
    )
    register_environment(azureml_emulator, "demand-forecasting-env")

    def create_or_update() -> str:
        result = dags_test(
            airflow_home,
            dags,
            DAG_ID,
            "2026-01-01T00:00:00+00:00",
            None,
            connection=connection(azureml_emulator),
        )
        output = result.stdout + result.stderr
        assert "state=success" in output, output[-6000:]
        return output

    assert f"Schedule {SCHEDULE} created" in create_or_update()
    assert azureml_emulator.jobs() == []  # creating it fired nothing
    assert f"Schedule {SCHEDULE} unchanged" in create_or_update()

    (job,) = azureml_emulator.advance_schedules(firing)
    assert azureml_emulator.wait_for_job(job, timeout=600) == "Completed", azureml_emulator.job_log(
        job
    )[-5000:]
    (version,) = {
        path.parent
        for path in azureml_emulator.job_run_dir(job).rglob("metrics.json/*/metrics.json")
    }
    assert version.name == format_save_version(firing)
    metrics = json.loads((version / "metrics.json").read_text())
    assert metrics["window_end"] == month_before(firing)
