"""A step's run identity from the run id it is given: Kedro's save version and the run time.

Steps started by Airflow get a run id that already is a Kedro save version
(``2026-11-10T06.00.00.000Z``, maybe with a ``-suffix``). Steps of a job fired by a
native Azure ML schedule get the firing time, which Azure ML writes in place of
``${{creation_context.trigger_time}}``: an ISO 8601 date-time (any precision, ``Z``
or an offset) or one of .NET's US forms (``2/10/2026 5:00:00 AM``, ``02/10/2026
05:00:00``); naive times are UTC. Either becomes the save version every step of that
firing shares, and sorts by time like Kedro's own.

The run time (ISO 8601, UTC) is what the run id encodes: the Airflow run's logical
date, or the schedule's firing time. Steps pass it to Kedro as the runtime param
``kedro_azureml.run_time``, so ``parameters.yml`` can derive dates from it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

KEDRO_VERSION_FORMAT = "%Y-%m-%dT%H.%M.%S.%fZ"
_SAVE_VERSION = re.compile(
    r"^(?P<stamp>\d{4}-\d{2}-\d{2}T\d{2}\.\d{2}\.\d{2}\.\d{3}Z)(?P<suffix>-[0-9a-z]{1,16})?$"
)
_DOTNET_US = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S")
RUN_TIME_PARAM = "run_time"
RUN_PARAMS_KEY = "kedro_azureml"


def format_save_version(moment: datetime) -> str:
    """``moment`` (aware) as Kedro formats a save version: UTC, milliseconds, ``Z``."""
    if moment.tzinfo is None:
        raise ValueError(f"run timestamp {moment!r} has no time zone; pass an aware datetime (UTC)")
    text = moment.astimezone(UTC).strftime(KEDRO_VERSION_FORMAT)
    return text[:-4] + text[-1:]


def parse_moment(value: str) -> datetime:
    """The aware UTC time a trigger time or save version names; ``ValueError`` if none."""
    text = value.strip()
    match = _SAVE_VERSION.match(text)
    if match is not None:
        stamp = datetime.strptime(match.group("stamp"), KEDRO_VERSION_FORMAT)
        return stamp.replace(tzinfo=UTC)
    moment = _parse_date_time(text)
    if moment is None:
        raise ValueError(
            f"run id {value!r} is neither a Kedro save version (2026-11-10T06.00.00.000Z) "
            "nor a date-time (ISO 8601, or MM/DD/YYYY hh:mm:ss with or without AM/PM)"
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _parse_date_time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for layout in _DOTNET_US:
        try:
            return datetime.strptime(text, layout)
        except ValueError:
            continue
    return None


def save_version(run_id: str) -> str:
    """The Kedro save version for ``run_id``: itself if it is one, else its time formatted."""
    if _SAVE_VERSION.match(run_id.strip()):
        return run_id.strip()
    return format_save_version(parse_moment(run_id))


def run_time(run_id: str) -> str:
    """The time ``run_id`` encodes, as ISO 8601 in UTC (``2026-11-10T06:00:00+00:00``)."""
    return parse_moment(run_id).isoformat()


def step_runtime_params(params: dict[str, Any], run_id: str | None) -> dict[str, Any]:
    """The runtime params a step gives Kedro: the user's (kept as text) and the run time.

    The compiler opens the project with the same, so azureml.yml and the catalog resolve
    at compile as they will on compute. ``run_id`` None (a schedule's job, whose firing
    time is not known yet) leaves the run time out.
    """
    from airflow_kedro_azureml.compute.params_escaping import escape_interpolations

    merged: dict[str, Any] = dict(escape_interpolations(dict(params)))
    if run_id is not None:
        merged[RUN_PARAMS_KEY] = {RUN_TIME_PARAM: run_time(run_id)}
    return merged
