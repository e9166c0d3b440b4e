"""Extra link from a task to its Azure ML job in the studio (or to its local run's page)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from airflow.sdk import BaseOperatorLink

JOB_URL_XCOM_KEY = "azureml_job_url"
LOCAL_RUN_VIEW_PREFIX = "/kedro-azureml"
"""Where the API server mounts the local run pages (``local_run_view``)."""


def api_root_path() -> str:
    """The path of Airflow's ``[api] base_url`` without its last slash ('' when at the root)."""
    from airflow.providers.common.compat.sdk import conf

    base_url = conf.get("api", "base_url", fallback="") or ""
    return urlsplit(base_url).path.rstrip("/")


def local_run_path(dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> str:
    """The path, inside the local run view, of the page of a task's local run."""
    path = "/local-runs/" + "/".join(quote(part, safe="") for part in (dag_id, run_id, task_id))
    return path if map_index < 0 else f"{path}?map_index={map_index}"


def local_run_link(ti_key: Any) -> str:
    """The same-origin URL of the API server's page of the task's local run."""
    map_index = getattr(ti_key, "map_index", -1)
    page = local_run_path(
        ti_key.dag_id, ti_key.run_id, ti_key.task_id, -1 if map_index is None else map_index
    )
    return f"{api_root_path()}{LOCAL_RUN_VIEW_PREFIX}{page}"


def recorded_job_url(ti_key: Any) -> str:
    """The job URL the task instance recorded in its XCom, or '' when it recorded none.

    Asked first for every map index of the task at once: that answer is empty, not an
    error, when there is none, so a task that never had a job logs no "XCom not found".
    """
    from airflow.providers.common.compat.sdk import XCom

    values = XCom.get_all(
        key=JOB_URL_XCOM_KEY, dag_id=ti_key.dag_id, task_id=ti_key.task_id, run_id=ti_key.run_id
    )
    if not values:
        return ""
    map_index = getattr(ti_key, "map_index", -1)
    if map_index is None or map_index < 0:
        return str(values[0] or "")
    return str(XCom.get_value(key=JOB_URL_XCOM_KEY, ti_key=ti_key) or "")


class AzureMLJobLink(BaseOperatorLink):
    """Opens the task's Azure ML pipeline job in the studio (from the job URL in XCom)."""

    name = "Azure ML Studio"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        """The job's studio URL, the local run's page, or '' when the task had no job.

        The worker asks at the end of every run of the task, deferrals included. The
        operator knows its job's URL once it has one; a task resumed after deferring is a
        new operator that does not, and the URL comes from the task's XCom, recorded
        before it deferred.

        A local run's URL is its run folder (``file://``), which a browser does not open
        from a web page: the link is then the API server's page of that run
        (``local_run_view``), for a task that recorded the run in its XCom (the
        operator and the sensor do).
        """
        url = getattr(operator, "studio_url", None) or ""
        if url and not url.startswith("file:"):
            return url
        recorded = recorded_job_url(ti_key)
        url = url or recorded
        if url.startswith("file:"):
            return local_run_link(ti_key) if recorded == url else ""
        return url
