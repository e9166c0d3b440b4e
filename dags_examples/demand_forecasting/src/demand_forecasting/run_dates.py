"""Dates derived from the run's time, for ``parameters.yml`` (an OmegaConf resolver).

Each step of a run gets the run's time as the runtime param ``kedro_azureml.run_time``:
the Airflow run's logical date, or the firing time of a native Azure ML schedule. So
``${month_before:${runtime_params:kedro_azureml.run_time,...}}`` is the last full month
before the run, whoever started it.
"""

from __future__ import annotations

from datetime import datetime


def month_before(moment: str) -> str:
    """``YYYY-MM`` of the month before ``moment`` (an ISO 8601 date-time)."""
    date = datetime.fromisoformat(str(moment))
    year, month = (date.year, date.month - 1) if date.month > 1 else (date.year - 1, 12)
    return f"{year:04d}-{month:02d}"
