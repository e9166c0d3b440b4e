"""Routes for jobs: create (and start running) a pipeline job, get, list, cancel."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from airflow_kedro_azureml import statuses
from airflow_kedro_azureml.testing.context import EmulatorContext
from airflow_kedro_azureml.testing.http_messages import ApiRequest, ApiResponse, not_found
from airflow_kedro_azureml.testing.routes.operations import OperationRoutes
from airflow_kedro_azureml.testing.routing import Router
from airflow_kedro_azureml.testing.state import TERMINAL_JOB_STATUSES, system_data

TRIGGER_TIME_MACRO = "${{creation_context.trigger_time}}"
NAME_MACRO = "${{name}}"


def trigger_time_text(moment: datetime) -> str:
    """A firing time as the emulator writes it for the macro: ISO 8601, 7 decimals, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def resolve_schedule_macros(
    properties: dict[str, Any], job_name: str, moment: datetime
) -> dict[str, Any]:
    """The job body of one firing: macros in string inputs and output paths filled in."""
    for spec in (properties.get("inputs") or {}).values():
        value = spec.get("value") if isinstance(spec, dict) else None
        if isinstance(value, str) and TRIGGER_TIME_MACRO in value:
            spec["value"] = value.replace(TRIGGER_TIME_MACRO, trigger_time_text(moment))
    for spec in (properties.get("outputs") or {}).values():
        uri = spec.get("uri") if isinstance(spec, dict) else None
        if isinstance(uri, str) and NAME_MACRO in uri:
            spec["uri"] = uri.replace(NAME_MACRO, job_name)
    return properties


# Fields a PUT on an existing job may change, as on the service.
_MUTABLE_PROPERTIES = ("description", "displayName", "tags")


class JobRoutes:
    """``{WS}/jobs``: PUT, GET, list, POST cancel."""

    def __init__(self, context: EmulatorContext, operations: OperationRoutes) -> None:
        self.context = context
        self.operations = operations

    def register(self, router: Router) -> None:
        """Add this group's routes to ``router``."""
        router.add("GET", r"{WS}/jobs", self.list_jobs)
        router.add("GET", r"{WS}/jobs/(?P<name>[^/]+)", self.get_job)
        router.add("PUT", r"{WS}/jobs/(?P<name>[^/]+)", self.put_job)
        router.add("POST", r"{WS}/jobs/(?P<name>[^/]+)/cancel", self.cancel_job)

    def job_body(self, name: str, properties: dict[str, Any]) -> dict[str, Any]:
        """The stored body of a new job, with status ``NotStarted`` and its studio link."""
        identity = self.context.state.identity
        properties = copy.deepcopy(properties)
        properties["status"] = statuses.NOT_STARTED
        properties.setdefault("experimentName", "Default")
        properties.setdefault("properties", {})
        properties.setdefault("tags", {})
        services = properties.get("services") or {}
        services["Studio"] = {
            "jobServiceType": "Studio",
            "endpoint": self.context.studio_url(name),
        }
        services["Tracking"] = {
            "jobServiceType": "Tracking",
            "endpoint": f"azureml://127.0.0.1/mlflow/v1.0{identity.arm_id}",
        }
        properties["services"] = services
        return {
            "id": identity.resource_id("jobs", name),
            "name": name,
            "type": "Microsoft.MachineLearningServices/workspaces/jobs",
            "properties": properties,
            "systemData": system_data(),
        }

    def put_job(self, request: ApiRequest) -> ApiResponse:
        name = request.params["name"]
        payload = request.json() or {}
        properties = payload.get("properties") or {}
        state = self.context.state
        with state.lock:
            existing = state.jobs.get(name)
            if existing is not None:
                # A repeated PUT (e.g. a retry after a lost answer) updates mutable fields only.
                for key in _MUTABLE_PROPERTIES:
                    if key in properties:
                        existing["properties"][key] = copy.deepcopy(properties[key])
                return ApiResponse.json(200, copy.deepcopy(existing))
        return self.create_job(name, properties)

    def create_job(self, name: str, properties: dict[str, Any]) -> ApiResponse:
        """Store a new job and start running it; answer 201 (or 400 if it cannot run)."""
        state = self.context.state
        if state.get_child_run(name) is not None:
            return ApiResponse.error(400, "UserError", f"{name!r} is the name of a pipeline step.")
        plan = None
        executor = self.context.executor
        if executor is not None and executor.can_run(properties):
            try:
                plan = executor.plan(name, properties)
            except ValueError as error:
                return ApiResponse.error(400, "UserError", str(error))
        body = self.job_body(name, properties)
        with state.lock:
            if name in state.jobs:  # a concurrent PUT won
                return ApiResponse.json(200, copy.deepcopy(state.jobs[name]))
            state.jobs[name] = body
            answer = copy.deepcopy(body)
        if plan is not None and executor is not None:
            executor.launch(plan)
        return ApiResponse.json(201, answer)

    def create_from_schedule(self, schedule_name: str, trigger_time: datetime | None = None) -> str:
        """Create (and run) the job of one firing of a schedule; return its name.

        As Azure ML does for a scheduled job, ``${{creation_context.trigger_time}}`` in
        string inputs becomes the firing time and ``${{name}}`` in output paths the
        job's name.
        """
        with self.context.state.lock:
            schedule = copy.deepcopy(self.context.state.schedules.get(schedule_name))
        if schedule is None:
            raise KeyError(f"no schedule named {schedule_name!r}")
        action = schedule["properties"].get("action") or {}
        definition = action.get("jobDefinition")
        if not isinstance(definition, dict):
            raise ValueError(f"schedule {schedule_name!r} does not create a job")
        moment = (trigger_time or datetime.now(UTC)).astimezone(UTC)
        name = f"{schedule_name}-{moment.strftime('%Y%m%d%H%M%S%f')}"
        properties = resolve_schedule_macros(copy.deepcopy(definition), name, moment)
        properties.setdefault("properties", {})["azureml.ScheduleId"] = schedule_name
        response = self.create_job(name, properties)
        if response.status >= 400:
            raise ValueError(f"schedule {schedule_name!r} made an invalid job: {response.body!r}")
        return name

    def get_job(self, request: ApiRequest) -> ApiResponse:
        name = request.params["name"]
        body = self.context.state.get_job(name)
        if body is not None:
            return ApiResponse.json(200, body)
        if self.context.state.get_child_run(name) is not None:
            # Pipeline steps come without properties: the SDK then asks run history.
            identity = self.context.state.identity
            return ApiResponse.json(
                200,
                {
                    "id": identity.resource_id("jobs", name),
                    "name": name,
                    "type": "Microsoft.MachineLearningServices/workspaces/jobs",
                },
            )
        return not_found("Job", name)

    def list_jobs(self, request: ApiRequest) -> ApiResponse:
        job_type = request.query_value("jobType")
        tag = request.query_value("tag")
        schedule_id = request.query_value("scheduleId")
        with self.context.state.lock:
            values = copy.deepcopy(list(self.context.state.jobs.values()))
        if job_type:
            values = [v for v in values if v["properties"].get("jobType") == job_type]
        if tag:
            values = [v for v in values if tag in (v["properties"].get("tags") or {})]
        if schedule_id:
            values = [
                v
                for v in values
                if (v["properties"].get("properties") or {}).get("azureml.ScheduleId")
                == schedule_id
            ]
        values.sort(key=lambda v: v["systemData"]["createdAt"], reverse=True)
        return ApiResponse.json(200, {"value": values})

    def cancel_job(self, request: ApiRequest) -> ApiResponse:
        name = request.params["name"]
        status = self.context.state.job_status(name)
        if status is None:
            return not_found("Job", name)
        if status not in TERMINAL_JOB_STATUSES:
            executor = self.context.executor
            if executor is None or not executor.cancel(name):
                self.context.state.update_job_status(name, statuses.CANCELED)
        headers = self.operations.start() if self.context.lro_mode == "async" else {}
        return ApiResponse.empty(202, headers)
