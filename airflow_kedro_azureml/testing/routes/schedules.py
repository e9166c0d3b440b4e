"""Routes for job schedules: create/update (with the service default ``isEnabled``), get, delete."""

from __future__ import annotations

import copy
from typing import Any

from airflow_kedro_azureml.testing.context import EmulatorContext
from airflow_kedro_azureml.testing.http_messages import ApiRequest, ApiResponse, not_found
from airflow_kedro_azureml.testing.routes.operations import OperationRoutes
from airflow_kedro_azureml.testing.routing import Router
from airflow_kedro_azureml.testing.state import system_data


class ScheduleRoutes:
    """``{WS}/schedules``: PUT, GET, list, DELETE."""

    def __init__(self, context: EmulatorContext, operations: OperationRoutes) -> None:
        self.context = context
        self.operations = operations

    def register(self, router: Router) -> None:
        """Add this group's routes to ``router``."""
        router.add("GET", r"{WS}/schedules", self.list_schedules)
        router.add("GET", r"{WS}/schedules/(?P<name>[^/]+)", self.get_schedule)
        router.add("PUT", r"{WS}/schedules/(?P<name>[^/]+)", self.put_schedule)
        router.add("DELETE", r"{WS}/schedules/(?P<name>[^/]+)", self.delete_schedule)

    def put_schedule(self, request: ApiRequest) -> ApiResponse:
        name = request.params["name"]
        payload = request.json() or {}
        properties: dict[str, Any] = copy.deepcopy(payload.get("properties") or {})
        if properties.get("isEnabled") is None:
            properties["isEnabled"] = True  # the service default: the SDK does not send it
        properties["provisioningState"] = "Succeeded"
        state = self.context.state
        with state.lock:
            existing = state.schedules.get(name)
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
        if self.context.lro_mode == "async":
            return ApiResponse.empty(202, self.operations.start())
        return ApiResponse.empty(200)
