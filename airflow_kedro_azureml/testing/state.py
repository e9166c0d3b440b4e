"""In-memory state of one emulated Azure ML workspace, safe to use from many threads."""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from airflow_kedro_azureml import statuses

PROVIDER = "Microsoft.MachineLearningServices"
EMULATOR_USER = "emulator-user"
# Runs that have ended (a paused job can still be resumed or cancelled).
TERMINAL_JOB_STATUSES = statuses.SUCCESS_STATUSES | statuses.FAILURE_STATUSES


def utc_now_iso() -> str:
    """The current time in the ISO 8601 form Azure answers with."""
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def system_data(created_at: str | None = None) -> dict[str, Any]:
    """An ARM ``systemData`` block."""
    now = utc_now_iso()
    return {
        "createdAt": created_at or now,
        "createdBy": EMULATOR_USER,
        "createdByType": "User",
        "lastModifiedAt": now,
        "lastModifiedBy": EMULATOR_USER,
        "lastModifiedByType": "User",
    }


@dataclass(frozen=True)
class WorkspaceIdentity:
    """Subscription, resource group and name of the emulated workspace, and its ARM ids."""

    subscription_id: str
    resource_group: str
    workspace_name: str
    location: str = "westeurope"

    @property
    def arm_id(self) -> str:
        """``/subscriptions/.../workspaces/{name}``."""
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/{PROVIDER}/workspaces/{self.workspace_name}"
        )

    def resource_id(self, *segments: str) -> str:
        """The ARM id of a resource below the workspace, e.g. ``("jobs", name)``."""
        return "/".join([self.arm_id, *segments])

    def matches(self, subscription: str, resource_group: str, workspace: str) -> bool:
        """Whether a request path addresses this workspace (ARM names ignore case)."""
        return (
            subscription.lower() == self.subscription_id.lower()
            and resource_group.lower() == self.resource_group.lower()
            and workspace.lower() == self.workspace_name.lower()
        )


class WorkspaceState:
    """All resources of the workspace; callers hold ``lock`` and get deep copies out.

    Resources are kept as the REST bodies the service would answer with, so the
    route handlers stay thin: they read, copy and answer.
    """

    def __init__(self, identity: WorkspaceIdentity) -> None:
        self.identity = identity
        self.lock = threading.RLock()
        self.computes: dict[str, dict[str, Any]] = {}
        self.datastores: dict[str, dict[str, Any]] = {}
        # kind ("codes", "components", ...) -> name -> version -> body
        self.assets: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        # child run id -> run-history ``Run`` body; parent job name -> child run ids
        self.child_runs: dict[str, dict[str, Any]] = {}
        self.children_of: dict[str, list[str]] = {}
        self.schedules: dict[str, dict[str, Any]] = {}
        # async operation id -> {"status": ...}
        self.operations: dict[str, dict[str, Any]] = {}
        # job name -> why it failed (run history shows it as the run's error)
        self.job_errors: dict[str, str] = {}

    # -- versioned assets -------------------------------------------------------------------

    def put_asset(self, kind: str, name: str, version: str, body: dict[str, Any]) -> dict[str, Any]:
        """Store an asset version body; return a copy of what was stored."""
        with self.lock:
            versions = self.assets.setdefault(kind, {}).setdefault(name, {})
            versions[version] = copy.deepcopy(body)
            return copy.deepcopy(body)

    def get_asset(self, kind: str, name: str, version: str) -> dict[str, Any] | None:
        """A copy of an asset version body, or ``None``."""
        with self.lock:
            body = self.assets.get(kind, {}).get(name, {}).get(version)
            return copy.deepcopy(body) if body is not None else None

    def asset_versions(self, kind: str, name: str) -> list[dict[str, Any]]:
        """Copies of every version of one asset, oldest first."""
        with self.lock:
            return [copy.deepcopy(b) for b in self.assets.get(kind, {}).get(name, {}).values()]

    def asset_names(self, kind: str) -> list[str]:
        """Names of every asset of ``kind``."""
        with self.lock:
            return list(self.assets.get(kind, {}))

    def find_assets(self, kind: str, tags: dict[str, str]) -> list[dict[str, Any]]:
        """Copies of asset versions of ``kind`` whose ``properties.properties`` hold ``tags``."""
        with self.lock:
            found = []
            for versions in self.assets.get(kind, {}).values():
                for body in versions.values():
                    annotations = body.get("properties", {}).get("properties") or {}
                    if all(str(annotations.get(k)) == v for k, v in tags.items()):
                        found.append(copy.deepcopy(body))
            return found

    # -- jobs -------------------------------------------------------------------------------

    def get_job(self, name: str) -> dict[str, Any] | None:
        """A copy of a job body, or ``None``."""
        with self.lock:
            body = self.jobs.get(name)
            return copy.deepcopy(body) if body is not None else None

    def update_job_status(self, name: str, status: str) -> None:
        """Set a job's ``properties.status``, plus start/end times in its ``properties``."""
        with self.lock:
            body = self.jobs.get(name)
            if body is None:
                return
            properties = body.setdefault("properties", {})
            if properties.get("status") in TERMINAL_JOB_STATUSES:
                return
            properties["status"] = status
            annotations = properties.setdefault("properties", {})
            if status == statuses.RUNNING:
                annotations.setdefault("StartTimeUtc", utc_now_iso())
            if status in TERMINAL_JOB_STATUSES:
                annotations.setdefault("EndTimeUtc", utc_now_iso())
            body.setdefault("systemData", system_data())["lastModifiedAt"] = utc_now_iso()

    def set_job_error(self, name: str, message: str) -> None:
        """Remember why job ``name`` failed."""
        with self.lock:
            self.job_errors[name] = message

    def job_error(self, name: str) -> str | None:
        """Why job ``name`` failed, if it did."""
        with self.lock:
            return self.job_errors.get(name)

    def job_status(self, name: str) -> str | None:
        """A job's status, or ``None`` for an unknown job."""
        with self.lock:
            body = self.jobs.get(name)
            return None if body is None else body.get("properties", {}).get("status")

    def add_child_run(self, parent: str, run: dict[str, Any]) -> None:
        """Register a step run of pipeline job ``parent``."""
        with self.lock:
            self.child_runs[run["runId"]] = copy.deepcopy(run)
            self.children_of.setdefault(parent, []).append(run["runId"])

    def update_child_run(self, run_id: str, **fields: Any) -> None:
        """Merge ``fields`` into a child run body (no-op after it reached a final status)."""
        with self.lock:
            run = self.child_runs.get(run_id)
            if run is None:
                return
            if run.get("status") in TERMINAL_JOB_STATUSES and "status" in fields:
                return
            run.update(fields)

    def children(self, parent: str) -> list[dict[str, Any]]:
        """Copies of the step runs of pipeline job ``parent``, in step order."""
        with self.lock:
            return [copy.deepcopy(self.child_runs[r]) for r in self.children_of.get(parent, [])]

    def get_child_run(self, run_id: str) -> dict[str, Any] | None:
        """A copy of a step run, or ``None``."""
        with self.lock:
            run = self.child_runs.get(run_id)
            return copy.deepcopy(run) if run is not None else None
