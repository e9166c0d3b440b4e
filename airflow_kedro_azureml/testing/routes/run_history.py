"""Routes of the run history service: a job or step as a ``Run``, and a pipeline job's steps."""

from __future__ import annotations

from typing import Any

from airflow_kedro_azureml.testing.context import EmulatorContext
from airflow_kedro_azureml.testing.http_messages import ApiRequest, ApiResponse, not_found
from airflow_kedro_azureml.testing.routing import Router


def job_as_run(context: EmulatorContext, job: dict[str, Any]) -> dict[str, Any]:
    """A top-level job body seen through run history."""
    properties = job.get("properties") or {}
    annotations = properties.get("properties") or {}
    return {
        "runId": job["name"],
        "rootRunId": job["name"],
        "runUuid": job["name"],
        "displayName": properties.get("displayName") or job["name"],
        "name": job["name"],
        "description": properties.get("description"),
        "experimentId": properties.get("experimentName"),
        "status": properties.get("status"),
        "createdUtc": job["systemData"]["createdAt"],
        "startTimeUtc": annotations.get("StartTimeUtc"),
        "endTimeUtc": annotations.get("EndTimeUtc"),
        "tags": properties.get("tags") or {},
        "properties": {k: str(v) for k, v in annotations.items()},
        "runType": (
            "azureml.PipelineRun"
            if properties.get("jobType") == "Pipeline"
            else "azureml.scriptrun"
        ),
        "services": {
            "Studio": {"endpoint": context.studio_url(job["name"]), "type": "Studio"},
        },
        "error": error_body(context.state.job_error(job["name"])),
    }


def error_body(message: str | None) -> dict[str, Any] | None:
    """A run history ``ErrorResponse`` for ``message`` (``None`` when there is no error)."""
    if message is None:
        return None
    return {"error": {"code": "UserError", "message": message}}


class RunHistoryRoutes:
    """``/history/v1.0{WS}/runs/{id}`` and ``.../children``."""

    def __init__(self, context: EmulatorContext) -> None:
        self.context = context

    def register(self, router: Router) -> None:
        """Add this group's routes to ``router``."""
        router.add("GET", r"/history/v1\.0{WS}/runs/(?P<run>[^/]+)", self.get_run)
        router.add("GET", r"/history/v1\.0{WS}/runs/(?P<run>[^/]+)/children", self.get_children)
        router.add("GET", r"/history/v1\.0{WS}/runs/(?P<run>[^/]+)/details", self.get_details)
        router.add(
            "GET",
            r"/history/v1\.0{WS}/experiments/(?P<experiment>[^/]+)/runs/(?P<run>[^/]+)",
            self.get_run,
        )
        router.add("GET", r"/logs/(?P<job>[^/]+)/steps/(?P<step>[^/]+)", self.get_log)
        router.add("GET", r"/logs/(?P<job>[^/]+)/all", self.get_log)

    def get_run(self, request: ApiRequest) -> ApiResponse:
        run_id = request.params["run"]
        run = self.context.state.get_child_run(run_id)
        if run is not None:
            return ApiResponse.json(200, run)
        job = self.context.state.get_job(run_id)
        if job is not None:
            return ApiResponse.json(200, job_as_run(self.context, job))
        return not_found("Run", run_id)

    def get_details(self, request: ApiRequest) -> ApiResponse:
        """``RunDetails``: status, times, error and log file URLs (what ``jobs.stream`` reads)."""
        run_id = request.params["run"]
        run = self.context.state.get_child_run(run_id)
        if run is not None:
            log_files = {"user_logs/std_log.txt": self.log_url(run["parentRunId"], run["name"])}
        else:
            job = self.context.state.get_job(run_id)
            if job is None:
                return not_found("Run", run_id)
            run = job_as_run(self.context, job)
            if (job.get("properties") or {}).get("jobType") == "Pipeline":
                log_files = {"logs/azureml/executionlogs.txt": self.log_url(run_id, None)}
            else:
                log_files = {"user_logs/std_log.txt": self.log_url(run_id, run_id)}
        details = {
            key: run.get(key)
            for key in ("runId", "runUuid", "parentRunId", "status", "startTimeUtc", "endTimeUtc")
        }
        details.update(
            {
                "target": None,
                "properties": run.get("properties") or {},
                "logFiles": log_files if self.context.executor is not None else {},
                "warnings": [],
                "error": run.get("error"),
            }
        )
        return ApiResponse.json(200, details)

    def log_url(self, job_name: str, step: str | None) -> str:
        """Where the emulator serves a step's log (``step=None``: the whole job's log)."""
        suffix = f"steps/{step}" if step is not None else "all"
        return f"{self.context.base_url}/logs/{job_name}/{suffix}"

    def get_log(self, request: ApiRequest) -> ApiResponse:
        """The text of a step's log, or of the whole job's log, as ``jobs.stream`` downloads it."""
        executor = self.context.executor
        if executor is None:
            return not_found("Log", request.path)
        try:
            text = executor.log(request.params["job"], request.params.get("step"))
        except KeyError:
            return not_found("Log", request.path)
        body = (text + "\n").encode("utf-8") if text else b""
        return ApiResponse(200, body, {"Content-Type": "text/plain; charset=utf-8"})

    def get_children(self, request: ApiRequest) -> ApiResponse:
        run_id = request.params["run"]
        if self.context.state.get_job(run_id) is None:
            return not_found("Run", run_id)
        runs = self.context.state.children(run_id)
        top = request.query_value("$top")
        if top and top.isdigit():
            runs = runs[: int(top)]
        return ApiResponse.json(200, {"value": runs, "continuationToken": None, "nextLink": None})
