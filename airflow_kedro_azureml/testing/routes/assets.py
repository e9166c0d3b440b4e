"""Routes for versioned assets (environments, code, components, data, models) and code upload."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow_kedro_azureml.testing.context import EmulatorContext
from airflow_kedro_azureml.testing.http_messages import ApiRequest, ApiResponse, not_found
from airflow_kedro_azureml.testing.routing import Router
from airflow_kedro_azureml.testing.state import system_data

ASSET_KINDS = ("environments", "codes", "components", "data", "models")
_KIND_PATTERN = "(?P<kind>" + "|".join(ASSET_KINDS) + ")"
_KIND_LABELS = {
    "environments": "Environment",
    "codes": "Code",
    "components": "Component",
    "data": "Data",
    "models": "Model",
}


def _asset_key(request: ApiRequest) -> tuple[str, str, str]:
    return request.params["kind"], request.params["name"], request.params["version"]


def _version_sort_key(body: dict[str, Any]) -> tuple[int, str]:
    created = body.get("systemData", {}).get("createdAt", "")
    return (0, created)


def _next_version(versions: list[str]) -> str:
    numeric = [int(v) for v in versions if v.isdigit()]
    return str(max(numeric) + 1) if numeric else "1"


class AssetRoutes:
    """Versions and containers of every asset kind, plus ``startPendingUpload`` for code."""

    def __init__(self, context: EmulatorContext) -> None:
        self.context = context

    def register(self, router: Router) -> None:
        """Add this group's routes to ``router``."""
        kind = _KIND_PATTERN
        name = r"(?P<name>[^/]+)"
        version = r"(?P<version>[^/]+)"
        router.add("GET", rf"{{WS}}/{kind}", self.list_containers)
        router.add("GET", rf"{{WS}}/{kind}/{name}", self.get_container)
        router.add("PUT", rf"{{WS}}/{kind}/{name}", self.put_container)
        router.add("GET", rf"{{WS}}/{kind}/{name}/versions", self.list_versions)
        router.add("GET", rf"{{WS}}/{kind}/{name}/versions/{version}", self.get_version)
        router.add("PUT", rf"{{WS}}/{kind}/{name}/versions/{version}", self.put_version)
        router.add("DELETE", rf"{{WS}}/{kind}/{name}/versions/{version}", self.delete_version)
        router.add(
            "POST",
            rf"{{WS}}/{kind}/{name}/versions/{version}/startPendingUpload",
            self.start_pending_upload,
        )

    # -- versions ---------------------------------------------------------------------------

    def put_version(self, request: ApiRequest) -> ApiResponse:
        kind, name, version = _asset_key(request)
        payload = request.json() or {}
        properties = dict(payload.get("properties") or {})
        properties.setdefault("isArchived", False)
        properties.setdefault("isAnonymous", False)
        properties["provisioningState"] = "Succeeded"
        identity = self.context.state.identity
        existing = self.context.state.get_asset(kind, name, version)
        created_at = existing["systemData"]["createdAt"] if existing else None
        body = {
            "id": identity.resource_id(kind, name, "versions", version),
            "name": version,
            "type": f"Microsoft.MachineLearningServices/workspaces/{kind}/versions",
            "properties": properties,
            "systemData": system_data(created_at),
        }
        if kind == "components":
            spec = properties.get("componentSpec")
            if isinstance(spec, dict):
                spec.setdefault("name", name)
                spec.setdefault("version", version)
        stored = self.context.state.put_asset(kind, name, version, body)
        return ApiResponse.json(200 if existing else 201, stored)

    def get_version(self, request: ApiRequest) -> ApiResponse:
        kind, name, version = _asset_key(request)
        body = self.context.state.get_asset(kind, name, version)
        if body is None:
            return not_found(_KIND_LABELS[kind], f"{name}:{version}")
        return ApiResponse.json(200, body)

    def delete_version(self, request: ApiRequest) -> ApiResponse:
        kind, name, version = _asset_key(request)
        with self.context.state.lock:
            versions = self.context.state.assets.get(kind, {}).get(name, {})
            existed = versions.pop(version, None) is not None
        return ApiResponse.empty(200 if existed else 204)

    def list_versions(self, request: ApiRequest) -> ApiResponse:
        kind, name = request.params["kind"], request.params["name"]
        content_hash = request.query_value("hash")
        if kind == "codes" and content_hash:
            # The SDK looks code up by content hash under a fresh name: search the workspace.
            wanted = {"hash_sha256": content_hash}
            hash_version = request.query_value("hashVersion")
            if hash_version:
                wanted["hash_version"] = hash_version
            values = self.context.state.find_assets("codes", wanted)
            values = [v for v in values if not v["properties"].get("isArchived")]
        else:
            values = self.context.state.asset_versions(kind, name)
        order = (request.query_value("$orderBy") or "").lower()
        values.sort(key=_version_sort_key, reverse=order.endswith("desc") or not order)
        top = request.query_value("$top")
        if top and top.isdigit():
            values = values[: int(top)]
        return ApiResponse.json(200, {"value": values})

    # -- containers -------------------------------------------------------------------------

    def _container_body(self, kind: str, name: str) -> dict[str, Any] | None:
        versions = self.context.state.asset_versions(kind, name)
        if not versions:
            return None
        versions.sort(key=_version_sort_key)
        names = [body["name"] for body in versions]
        return {
            "id": self.context.state.identity.resource_id(kind, name),
            "name": name,
            "type": f"Microsoft.MachineLearningServices/workspaces/{kind}",
            "properties": {
                "latestVersion": names[-1],
                "nextVersion": _next_version(names),
                "isArchived": False,
                "description": None,
                "tags": {},
                "properties": {},
            },
            "systemData": versions[0]["systemData"],
        }

    def get_container(self, request: ApiRequest) -> ApiResponse:
        kind, name = request.params["kind"], request.params["name"]
        body = self._container_body(kind, name)
        if body is None:
            return not_found(_KIND_LABELS[kind], name)
        return ApiResponse.json(200, body)

    def put_container(self, request: ApiRequest) -> ApiResponse:
        kind, name = request.params["kind"], request.params["name"]
        body = self._container_body(kind, name) or {
            "id": self.context.state.identity.resource_id(kind, name),
            "name": name,
            "properties": {"isArchived": False, "nextVersion": "1"},
            "systemData": system_data(),
        }
        payload = request.json() or {}
        body["properties"].update(payload.get("properties") or {})
        return ApiResponse.json(200, body)

    def list_containers(self, request: ApiRequest) -> ApiResponse:
        kind = request.params["kind"]
        values = [
            body
            for name in self.context.state.asset_names(kind)
            if (body := self._container_body(kind, name)) is not None
        ]
        return ApiResponse.json(200, {"value": values})

    # -- upload -----------------------------------------------------------------------------

    def start_pending_upload(self, request: ApiRequest) -> ApiResponse:
        """Hand out a SAS URI of a fresh container in the emulator's own blob storage."""
        container = f"pending-{uuid.uuid4().hex}"
        container_url = self.context.blob_url(container)
        expiry = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        sas = f"sv=2021-10-04&se={expiry}&sr=c&sp=racwl&sig=emulator"
        identity = self.context.state.identity
        body = {
            "blobReferenceForConsumption": {
                "blobUri": container_url,
                "storageAccountArmId": (
                    f"/subscriptions/{identity.subscription_id}/resourceGroups/"
                    f"{identity.resource_group}/providers/Microsoft.Storage/storageAccounts/"
                    f"{self.context.storage_account}"
                ),
                "credential": {"credentialType": "SAS", "sasUri": f"{container_url}?{sas}"},
            },
            "pendingUploadId": str(uuid.uuid4()),
            "pendingUploadType": "TemporaryBlobReference",
        }
        return ApiResponse.json(200, body)
