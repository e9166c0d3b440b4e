"""Long-running-operation plumbing: ``Azure-AsyncOperation`` status and ``Location`` result URLs.

In the emulator's ``"async"`` mode, PUT/DELETE of schedules and job cancel answer 201/202
with these headers, so the SDK's ARM poller takes its polling path; the operation is
reported ``Succeeded`` on its first poll.
"""

from __future__ import annotations

import uuid

from airflow_kedro_azureml.testing.context import EmulatorContext
from airflow_kedro_azureml.testing.http_messages import ApiRequest, ApiResponse
from airflow_kedro_azureml.testing.routing import Router

# Seconds the SDK waits between polls: it honours Retry-After over its 5 s default, and some
# generated clients parse the header as an integer, so 1 is the shortest usable wait.
POLL_DELAY = "1"


class OperationRoutes:
    """Status and result URLs of emulated asynchronous operations."""

    def __init__(self, context: EmulatorContext) -> None:
        self.context = context

    def register(self, router: Router) -> None:
        """Add this group's routes to ``router``."""
        router.add("GET", r"{WS}/mfeOperationsStatus/(?P<operation>[^/]+)", self.get_status)
        router.add("GET", r"{WS}/mfeOperationResults/(?P<operation>[^/]+)", self.get_result)

    def start(self) -> dict[str, str]:
        """Register a new (already finished) operation; return the headers that announce it."""
        operation = uuid.uuid4().hex
        with self.context.state.lock:
            self.context.state.operations[operation] = {"status": "Succeeded"}
        workspace_url = self.context.base_url + self.context.state.identity.arm_id
        return {
            "Azure-AsyncOperation": f"{workspace_url}/mfeOperationsStatus/{operation}",
            "Location": f"{workspace_url}/mfeOperationResults/{operation}",
            "Retry-After": POLL_DELAY,
        }

    def get_status(self, request: ApiRequest) -> ApiResponse:
        operation = request.params["operation"]
        with self.context.state.lock:
            record = self.context.state.operations.get(operation)
        if record is None:
            return ApiResponse.error(404, "ResourceNotFound", f"operation {operation} not found")
        return ApiResponse.json(200, {"name": operation, "status": record["status"]})

    def get_result(self, request: ApiRequest) -> ApiResponse:
        return ApiResponse.empty(204)
