"""Routes for the workspace itself, its discovery document, computes and datastores."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from airflow_kedro_azureml.testing.context import DEFAULT_DATASTORE, EmulatorContext
from airflow_kedro_azureml.testing.http_messages import ApiRequest, ApiResponse
from airflow_kedro_azureml.testing.routing import Router
from airflow_kedro_azureml.testing.state import system_data

# A fixed, fake storage key: the emulator accepts any SharedKey signature.
EMULATOR_ACCOUNT_KEY = "ZW11bGF0b3Ita2V5LW5vdC1hLXNlY3JldA=="


def compute_body(context: EmulatorContext, name: str, compute_type: str) -> dict[str, Any]:
    """The REST body of a compute target in state ``Succeeded``."""
    return {
        "id": context.state.identity.resource_id("computes", name),
        "name": name,
        "type": "Microsoft.MachineLearningServices/workspaces/computes",
        "location": context.state.identity.location,
        "properties": {
            "computeType": compute_type,
            "provisioningState": "Succeeded",
            "computeLocation": context.state.identity.location,
            "description": "Compute target of the Azure ML emulator",
            "disableLocalAuth": True,
            "properties": {
                "vmSize": "STANDARD_DS3_V2",
                "vmPriority": "Dedicated",
                "scaleSettings": {
                    "maxNodeCount": 4,
                    "minNodeCount": 0,
                    "nodeIdleTimeBeforeScaleDown": "PT120S",
                },
                "allocationState": "Steady",
                "currentNodeCount": 0,
                "targetNodeCount": 0,
            },
        },
        "systemData": system_data(),
    }


def datastore_body(context: EmulatorContext, name: str, container: str) -> dict[str, Any]:
    """The REST body of a blob datastore whose storage is the emulator itself.

    ``accountName`` carries host, port and account with a trailing ``#``: the SDK builds
    ``https://{accountName}.blob.{suffix}``, so the suffix lands in the URL fragment and
    the blob client goes path-style to the emulator.
    """
    host = context.base_url.removeprefix("https://")
    return {
        "id": context.state.identity.resource_id("datastores", name),
        "name": name,
        "type": "Microsoft.MachineLearningServices/workspaces/datastores",
        "properties": {
            "datastoreType": "AzureBlob",
            "accountName": f"{host}/{context.storage_account}#",
            "containerName": container,
            "endpoint": "core.windows.net",
            "protocol": "https",
            "serviceDataAccessAuthIdentity": "None",
            "credentials": {"credentialsType": "AccountKey"},
            "isDefault": name == DEFAULT_DATASTORE,
            "description": "Blob storage served by the Azure ML emulator",
            "properties": {},
            "tags": {},
        },
        "systemData": system_data(),
    }


class WorkspaceRoutes:
    """Workspace GET, discovery, computes and datastores."""

    def __init__(self, context: EmulatorContext) -> None:
        self.context = context
        self.workspace_id = str(uuid.uuid4())

    def register(self, router: Router) -> None:
        """Add this group's routes to ``router``."""
        router.add("GET", r"{WS}", self.get_workspace)
        router.add("GET", r"/discovery/workspaces/(?P<workspace_id>[^/]+)", self.get_discovery)
        router.add("GET", r"{WS}/computes", self.list_computes)
        router.add("GET", r"{WS}/computes/(?P<name>[^/]+)", self.get_compute)
        router.add("GET", r"{WS}/datastores", self.list_datastores)
        router.add("GET", r"{WS}/datastores/(?P<name>[^/]+)", self.get_datastore)
        router.add("POST", r"{WS}/datastores/(?P<name>[^/]+)/listSecrets", self.list_secrets)

    def add_compute(self, name: str, compute_type: str = "AmlCompute") -> None:
        """Make a compute target exist."""
        with self.context.state.lock:
            self.context.state.computes[name] = compute_body(self.context, name, compute_type)

    def add_datastore(self, name: str, container: str) -> None:
        """Make a blob datastore exist."""
        with self.context.state.lock:
            self.context.state.datastores[name] = datastore_body(self.context, name, container)

    # -- handlers ---------------------------------------------------------------------------

    def get_workspace(self, request: ApiRequest) -> ApiResponse:
        identity = self.context.state.identity
        base = self.context.base_url
        storage_id = (
            f"/subscriptions/{identity.subscription_id}/resourceGroups/{identity.resource_group}"
            f"/providers/Microsoft.Storage/storageAccounts/{self.context.storage_account}"
        )
        body = {
            "id": identity.arm_id,
            "name": identity.workspace_name,
            "type": "Microsoft.MachineLearningServices/workspaces",
            "location": identity.location,
            "kind": "Default",
            "identity": {"type": "SystemAssigned"},
            "sku": {"name": "Basic", "tier": "Basic"},
            "tags": {},
            "properties": {
                "friendlyName": identity.workspace_name,
                "description": "Azure ML workspace emulated by airflow_kedro_azureml.testing",
                "workspaceId": self.workspace_id,
                "provisioningState": "Succeeded",
                "storageAccount": storage_id,
                "discoveryUrl": f"{base}/discovery/workspaces/{self.workspace_id}",
                "mlFlowTrackingUri": f"azureml://127.0.0.1/mlflow/v1.0{identity.arm_id}",
                "publicNetworkAccess": "Enabled",
                "hbiWorkspace": False,
                "v1LegacyMode": False,
            },
            "systemData": system_data(),
        }
        return ApiResponse.json(200, body)

    def get_discovery(self, request: ApiRequest) -> ApiResponse:
        base = self.context.base_url
        keys = ("api", "catalog", "experimentation", "gallery", "history", "hyperdrive", "labeling")
        body: dict[str, Any] = {key: base for key in keys}
        body["modelmanagement"] = base
        body["pipelines"] = base
        body["studio"] = f"{base}/studio"
        return ApiResponse.json(200, body)

    def list_computes(self, request: ApiRequest) -> ApiResponse:
        with self.context.state.lock:
            values = copy.deepcopy(list(self.context.state.computes.values()))
        return ApiResponse.json(200, {"value": values})

    def get_compute(self, request: ApiRequest) -> ApiResponse:
        name = request.params["name"]
        with self.context.state.lock:
            body = copy.deepcopy(self.context.state.computes.get(name))
        if body is None:
            identity = self.context.state.identity
            return ApiResponse.error(
                404,
                "ResourceNotFound",
                f"The Resource '{identity.resource_id('computes', name).lstrip('/')}' "
                f"under resource group '{identity.resource_group}' was not found.",
            )
        return ApiResponse.json(200, body)

    def list_datastores(self, request: ApiRequest) -> ApiResponse:
        with self.context.state.lock:
            values = copy.deepcopy(list(self.context.state.datastores.values()))
        wanted_default = request.query_value("isDefault")
        if wanted_default is not None:
            flag = wanted_default.lower() == "true"
            values = [v for v in values if v["properties"].get("isDefault", False) == flag]
        return ApiResponse.json(200, {"value": values})

    def get_datastore(self, request: ApiRequest) -> ApiResponse:
        name = request.params["name"]
        with self.context.state.lock:
            body = copy.deepcopy(self.context.state.datastores.get(name))
        if body is None:
            return ApiResponse.error(404, "UserError", f"Datastore {name!r} was not found.")
        return ApiResponse.json(200, body)

    def list_secrets(self, request: ApiRequest) -> ApiResponse:
        name = request.params["name"]
        with self.context.state.lock:
            exists = name in self.context.state.datastores
        if not exists:
            return ApiResponse.error(404, "UserError", f"Datastore {name!r} was not found.")
        return ApiResponse.json(200, {"secretsType": "AccountKey", "key": EMULATOR_ACCOUNT_KEY})
