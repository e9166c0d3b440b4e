"""What every route handler needs: the workspace state, blob storage and the emulator's URL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from airflow_kedro_azureml.testing.blob_store import BlobStore
from airflow_kedro_azureml.testing.state import WorkspaceState

if TYPE_CHECKING:
    from airflow_kedro_azureml.testing.job_execution import JobExecutor

DEFAULT_STORAGE_ACCOUNT = "emulatorstorage"
DEFAULT_CONTAINER = "azureml-blobstore-emulator"
DEFAULT_DATASTORE = "workspaceblobstore"


@dataclass
class EmulatorContext:
    """Shared objects handed to the route groups."""

    state: WorkspaceState
    blobs: BlobStore
    base_url: str
    storage_account: str = DEFAULT_STORAGE_ACCOUNT
    default_container: str = DEFAULT_CONTAINER
    executor: JobExecutor | None = None
    lro_mode: str = "sync"
    token_lifetime: int = 3600
    """Seconds the tenant's access tokens live (``expires_in``, and the ``exp`` the APIs check)."""

    def blob_url(self, container: str, blob_path: str = "") -> str:
        """The HTTPS URL of a blob (or folder) in the emulator's storage account."""
        url = f"{self.base_url}/{self.storage_account}/{container}"
        return f"{url}/{blob_path}" if blob_path else url

    def studio_url(self, job_name: str) -> str:
        """The link that stands in for the Azure ML studio page of a job."""
        return f"{self.base_url}/studio/runs/{job_name}?wsid={self.state.identity.arm_id}"
