"""Routes for job schedules: create/update (service default ``isEnabled``), get, list, delete,
and trigger once (``POST .../trigger``, the 2024-01-01-preview contract the SDK uses)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from airflow_kedro_azureml.testing.context import EmulatorContext
from airflow_kedro_azureml.testing.http_messages import ApiRequest, ApiResponse, not_found
from airflow_kedro_azureml.testing.routes.operations import OperationRoutes
from airflow_kedro_azureml.testing.routing import Router
from airflow_kedro_azureml.testing.schedule_clock import ScheduleClock
from airflow_kedro_azureml.testing.state import system_data


class ScheduleRoutes:
    """``{WS}/schedules``: PUT, GET, list, DELETE."""

    def __init__(
        self, context: EmulatorContext, operations: OperationRoutes, clock: ScheduleClock
    ) -> None:
        self.context = context
        self.operations = operations
        self.clock = clock

    def register(self, router: Router) -> None:
        """Add this group's routes to ``router``."""
        router.add("GET", r"{WS}/schedules", self.list_schedules)
        router.add("GET", r"{WS}/schedules/(?P<name>[^/]+)", self.get_schedule)
        router.add("PUT", r"{WS}/schedules/(?P<name>[^/]+)", self.put_schedule)
        router.add("DELETE", r"{WS}/schedules/(?P<name>[^/]+)", self.delete_schedule)
        router.add("POST", r"{WS}/schedules/(?P<name>[^/]+)/trigger", self.trigger_schedule)

    def put_schedule(self, request: ApiRequest) -> ApiResponse:
        name = request.params["name"]
        payload = request.json() or {}
        properties: dict[str, Any] = copy.deepcopy(payload.get("properties") or {})
        definition = (properties.get("action") or {}).get("jobDefinition") or {}
        if definition.get("sourceJobId") and definition.get("jobs"):
            # As the service answers a schedule whose job was built from a submitted job
            # (Azure/azure-sdk-for-python#40288).
            return ApiResponse.error(
                400,
                "UserError",
                f'The schedule "{name}" could not be updated. Failure reason: UserError, '
                "Invalid trigger definition: Invalid jobs override for pipeline job since "
                f"source job {definition['sourceJobId']} is specified.",
            )
        if properties.get("isEnabled") is None:
            properties["isEnabled"] = True  # the service default: the SDK does not send it
        properties["provisioningState"] = "Succeeded"
        state = self.context.state
        with state.lock:
            existing = state.schedules.get(name)
            was_enabled = bool(existing and existing["properties"].get("isEnabled", True))
            created_at = existing["systemData"]["createdAt"] if existing else None
            body = {
                "id": state.identity.resource_id("schedules", name),
                "name": name,
                "type": "Microsoft.MachineLearningServices/workspaces/schedules",
                "properties": properties,
                "systemData": system_data(created_at),
            }
            state.schedules[name] = body
            answer = copy.deepcopy(body)
        self.clock.on_saved(name, properties, created=existing is None)
        if existing is not None and properties["isEnabled"] and not was_enabled:
            self.clock.on_enabled(name)
        if self.context.lro_mode == "async":
            return ApiResponse.json(201, answer, self.operations.start())
        return ApiResponse.json(200, answer)

    def get_schedule(self, request: ApiRequest) -> ApiResponse:
        name = request.params["name"]
        with self.context.state.lock:
            body = copy.deepcopy(self.context.state.schedules.get(name))
        if body is None:
            return not_found("Schedule", name)
        return ApiResponse.json(200, body)

    def list_schedules(self, request: ApiRequest) -> ApiResponse:
        view = (request.query_value("listViewType") or "EnabledOnly").lower()
        with self.context.state.lock:
            values = copy.deepcopy(list(self.context.state.schedules.values()))
        if view == "enabledonly":
            values = [v for v in values if v["properties"].get("isEnabled", True)]
        elif view == "disabledonly":
            values = [v for v in values if not v["properties"].get("isEnabled", True)]
        return ApiResponse.json(200, {"value": values})

    def delete_schedule(self, request: ApiRequest) -> ApiResponse:
        name = request.params["name"]
        with self.context.state.lock:
            existed = self.context.state.schedules.pop(name, None) is not None
        if not existed:
            return ApiResponse.empty(204)
        self.clock.forget(name)
        if self.context.lro_mode == "async":
            return ApiResponse.empty(202, self.operations.start())
        return ApiResponse.empty(200)

    def trigger_schedule(self, request: ApiRequest) -> ApiResponse:
        name = request.params["name"]
        with self.context.state.lock:
            exists = name in self.context.state.schedules
        if not exists:
            return not_found("Schedule", name)
        payload = request.json() or {}
        when = payload.get("scheduleTime")
        moment = datetime.fromisoformat(when) if when else datetime.now(UTC)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        job = self.clock.fire_now(name, moment)
        return ApiResponse.json(200, {"submissionId": job, "scheduleActionType": "CreateJob"})
