"""The Azure ML workspace emulator: an HTTPS server speaking the Azure ML REST API from memory.

Example::

    from airflow_kedro_azureml.testing import AzureMLEmulator

    with AzureMLEmulator(computes=["cpu-cluster"]) as emulator, emulator.patched_environment():
        ml_client = emulator.ml_client()
        ml_client.compute.get("cpu-cluster")
        assert emulator.requests(method="GET", path_regex=r"/computes/cpu-cluster$")
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_kedro_azureml.testing.blob_store import BlobStore
from airflow_kedro_azureml.testing.certificates import make_tls_material
from airflow_kedro_azureml.testing.context import (
    DEFAULT_CONTAINER,
    DEFAULT_DATASTORE,
    DEFAULT_STORAGE_ACCOUNT,
    EmulatorContext,
)
from airflow_kedro_azureml.testing.credentials import EmulatorCredential
from airflow_kedro_azureml.testing.faults import Fault, FaultInjector, FaultKind, FaultPhase
from airflow_kedro_azureml.testing.recording import RecordedRequest, RequestLog
from airflow_kedro_azureml.testing.request_processing import RequestProcessor
from airflow_kedro_azureml.testing.routes.assets import AssetRoutes
from airflow_kedro_azureml.testing.routes.blobs import BlobRoutes
from airflow_kedro_azureml.testing.routes.identity import IdentityRoutes
from airflow_kedro_azureml.testing.routes.jobs import JobRoutes
from airflow_kedro_azureml.testing.routes.operations import OperationRoutes
from airflow_kedro_azureml.testing.routes.run_history import RunHistoryRoutes
from airflow_kedro_azureml.testing.routes.schedules import ScheduleRoutes
from airflow_kedro_azureml.testing.routes.workspace import WorkspaceRoutes
from airflow_kedro_azureml.testing.routing import Router
from airflow_kedro_azureml.testing.schedule_clock import ScheduleClock
from airflow_kedro_azureml.testing.server import EmulatorHttpServer
from airflow_kedro_azureml.testing.state import (
    TERMINAL_JOB_STATUSES,
    WorkspaceIdentity,
    WorkspaceState,
)

if TYPE_CHECKING:
    from azure.ai.ml import MLClient

    from airflow_kedro_azureml.testing.job_execution import JobExecutor

logger = logging.getLogger(__name__)

DEFAULT_SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000001"
DEFAULT_RESOURCE_GROUP = "rg-emulator"
DEFAULT_WORKSPACE_NAME = "ws-emulator"
DEFAULT_COMPUTES = ("cpu-cluster",)

# Environment variables that point the azure-ai-ml SDK at the emulator.
MFE_URL_VARIABLE = "AZUREML_DEV_URL_MFE"
CA_BUNDLE_VARIABLE = "REQUESTS_CA_BUNDLE"
# Set by the SDK itself when a client is made with ``cloud=``: restored with the others.
CURRENT_CLOUD_VARIABLE = "AZUREML_CURRENT_CLOUD"


class AzureMLEmulator:
    """An in-memory Azure ML workspace served over HTTPS, which really runs pipeline jobs.

    Start it (``start()`` or ``with``), point the SDK at it with
    :meth:`patched_environment` (or :meth:`sdk_environment`), then use a real
    ``MLClient`` from :meth:`ml_client`. Every request is recorded
    (:meth:`requests`); faults can be armed (:meth:`inject_fault`); submitted
    pipeline jobs run their steps as local processes with the project's local
    backend, in folders under :attr:`work_dir`.
    """

    def __init__(
        self,
        *,
        subscription_id: str = DEFAULT_SUBSCRIPTION_ID,
        resource_group: str = DEFAULT_RESOURCE_GROUP,
        workspace_name: str = DEFAULT_WORKSPACE_NAME,
        location: str = "westeurope",
        computes: Iterable[str] = DEFAULT_COMPUTES,
        work_dir: Path | str | None = None,
        execute_jobs: bool = True,
        max_parallel: int = 2,
        lro_mode: str = "sync",
        python_executable: str | None = None,
        storage_account: str = DEFAULT_STORAGE_ACCOUNT,
        token_lifetime: int = 3600,
    ) -> None:
        if lro_mode not in ("sync", "async"):
            raise ValueError(f"lro_mode must be 'sync' or 'async', got {lro_mode!r}")
        self.identity = WorkspaceIdentity(subscription_id, resource_group, workspace_name, location)
        self.state = WorkspaceState(self.identity)
        self.blobs = BlobStore()
        self._initial_computes = list(computes)
        self._owns_work_dir = work_dir is None
        self._work_dir_arg = Path(work_dir) if work_dir is not None else None
        self._execute_jobs = execute_jobs
        self._max_parallel = max_parallel
        self._lro_mode = lro_mode
        self._python_executable = python_executable
        self._storage_account = storage_account
        if token_lifetime < 1:
            raise ValueError(f"token_lifetime must be at least 1 second, got {token_lifetime}")
        self._token_lifetime = token_lifetime
        self._log = RequestLog()
        self._faults = FaultInjector()
        self._server: EmulatorHttpServer | None = None
        self._thread: threading.Thread | None = None
        self._context: EmulatorContext | None = None
        self._processor: RequestProcessor | None = None
        self._workspace_routes: WorkspaceRoutes | None = None
        self._job_routes: JobRoutes | None = None
        self._schedule_clock: ScheduleClock | None = None
        self.work_dir: Path = Path()
        self.ca_bundle: Path = Path()

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> AzureMLEmulator:
        """Create the TLS material, bind a free port on 127.0.0.1 and start serving."""
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        if self._work_dir_arg is None:
            self.work_dir = Path(tempfile.mkdtemp(prefix="azureml-emulator-"))
        else:
            self.work_dir = self._work_dir_arg
            self.work_dir.mkdir(parents=True, exist_ok=True)
        tls = make_tls_material(self.work_dir / "tls")
        self.ca_bundle = tls.ca_bundle
        router = Router()
        self._processor = RequestProcessor(
            router=router,
            identity=self.identity,
            faults=self._faults,
            log=self._log,
            storage_account=self._storage_account,
        )
        self._server = EmulatorHttpServer(tls.server_context, self._processor)
        context = EmulatorContext(
            state=self.state,
            blobs=self.blobs,
            base_url=f"https://127.0.0.1:{self._server.port}",
            storage_account=self._storage_account,
            default_container=DEFAULT_CONTAINER,
            lro_mode=self._lro_mode,
            token_lifetime=self._token_lifetime,
        )
        self._context = context
        if self._execute_jobs:
            context.executor = self._make_executor(context)
        self._build_routes(context, router)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="azureml-emulator",
            daemon=True,
        )
        self._thread.start()
        logger.info("Azure ML emulator listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Cancel running jobs, stop serving, close connections and remove the work folder."""
        server = self._server
        if server is None:
            return
        if self._context is not None and self._context.executor is not None:
            self._context.executor.shutdown()
        server.shutdown()
        server.close_all_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None
        if self._owns_work_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    def __enter__(self) -> AzureMLEmulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _make_executor(self, context: EmulatorContext) -> JobExecutor:
        from airflow_kedro_azureml.testing.job_execution import JobExecutor

        return JobExecutor(
            context,
            runs_dir=self.work_dir / "jobs",
            max_parallel=self._max_parallel,
            python_executable=self._python_executable,
        )

    def _build_routes(self, context: EmulatorContext, router: Router) -> None:
        operations = OperationRoutes(context)
        self._workspace_routes = WorkspaceRoutes(context)
        self._job_routes = JobRoutes(context, operations)
        self._schedule_clock = ScheduleClock(self._job_routes.create_from_schedule)
        self._identity_routes = IdentityRoutes(context)
        for group in (
            self._identity_routes,
            self._workspace_routes,
            operations,
            AssetRoutes(context),
            self._job_routes,
            ScheduleRoutes(context, operations, self._schedule_clock),
            RunHistoryRoutes(context),
            BlobRoutes(context),
        ):
            group.register(router)
        for name in self._initial_computes:
            self._workspace_routes.add_compute(name)
        self._workspace_routes.add_datastore(DEFAULT_DATASTORE, DEFAULT_CONTAINER)
        self._workspace_routes.add_datastore("workspaceartifactstore", "azureml")

    # -- where it is ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``https://127.0.0.1:PORT``."""
        if self._context is None:
            raise RuntimeError("start() the emulator first")
        return self._context.base_url

    @property
    def port(self) -> int:
        """The TCP port the emulator listens on."""
        if self._server is None:
            raise RuntimeError("start() the emulator first")
        return self._server.port

    @property
    def subscription_id(self) -> str:
        """Subscription id of the emulated workspace."""
        return self.identity.subscription_id

    @property
    def resource_group(self) -> str:
        """Resource group of the emulated workspace."""
        return self.identity.resource_group

    @property
    def workspace_name(self) -> str:
        """Name of the emulated workspace."""
        return self.identity.workspace_name

    @property
    def workspace_arm_id(self) -> str:
        """ARM id of the emulated workspace."""
        return self.identity.arm_id

    # -- pointing the SDK here --------------------------------------------------------------

    def sdk_environment(self) -> dict[str, str]:
        """The environment variables that send the azure-ai-ml SDK (and azure-storage) here."""
        return {MFE_URL_VARIABLE: self.url, CA_BUNDLE_VARIABLE: str(self.ca_bundle)}

    @contextlib.contextmanager
    def patched_environment(self) -> Iterator[dict[str, str]]:
        """Set :meth:`sdk_environment` in ``os.environ``; restore the previous values on exit."""
        values = self.sdk_environment()
        saved = {key: os.environ.get(key) for key in [*values, CURRENT_CLOUD_VARIABLE]}
        os.environ.update(values)
        try:
            yield values
        finally:
            for key, previous in saved.items():
                if previous is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = previous

    def credential(self) -> EmulatorCredential:
        """A credential whose tokens the SDK accepts (unsigned JWTs)."""
        return EmulatorCredential()

    def ml_client(self, **kwargs: Any) -> MLClient:
        """A real ``azure.ai.ml.MLClient`` for the emulated workspace.

        The SDK environment (:meth:`patched_environment`) must be in force while the
        client is created and used.
        """
        if os.environ.get(MFE_URL_VARIABLE) != self.url:
            raise RuntimeError(
                f"{MFE_URL_VARIABLE} does not point at this emulator: create and use the "
                "client inside `with emulator.patched_environment():` (the pytest fixture does)"
            )
        from azure.ai.ml import MLClient

        kwargs.setdefault("show_progress", False)
        return MLClient(
            credential=kwargs.pop("credential", None) or self.credential(),
            subscription_id=self.subscription_id,
            resource_group_name=self.resource_group,
            workspace_name=self.workspace_name,
            **kwargs,
        )

    # -- recording and faults ---------------------------------------------------------------

    def requests(
        self,
        method: str | None = None,
        path_regex: str | None = None,
        *,
        status: int | None = None,
        query: dict[str, str] | None = None,
    ) -> list[RecordedRequest]:
        """Recorded requests matching the filters, oldest first (see ``RequestLog.select``)."""
        return self._log.select(method, path_regex, status=status, query=query)

    def reset_requests(self) -> None:
        """Forget the recorded requests."""
        self._log.clear()

    def inject_fault(
        self,
        *,
        kind: FaultKind,
        method: str | None = None,
        path_regex: str | None = None,
        count: int = 1,
        retry_after: float | None = None,
        delay: float = 0.0,
        phase: FaultPhase = "before",
    ) -> Fault:
        """Make the next ``count`` requests matching ``method``/``path_regex`` fail (see Fault)."""
        return self._faults.inject(
            kind=kind,
            method=method,
            path_regex=path_regex,
            count=count,
            retry_after=retry_after,
            delay=delay,
            phase=phase,
        )

    def clear_faults(self) -> None:
        """Disarm every fault not yet fired."""
        self._faults.clear()

    @property
    def errors(self) -> list[str]:
        """Tracebacks of route handlers that raised (answered 500); empty when all went well."""
        return [] if self._processor is None else self._processor.errors

    def unrouted_requests(self) -> list[RecordedRequest]:
        """Requests no route matched: a sign the SDK needs something the emulator lacks."""
        return [r for r in self._log.select() if r.extra.get("unrouted")]

    # -- workspace content ------------------------------------------------------------------

    def add_service_principal(self, tenant_id: str, client_id: str, secret: str) -> None:
        """Let a real ``ClientSecretCredential`` get tokens from the emulator's tenant."""
        self._identity_routes.add_service_principal(tenant_id, client_id, secret)

    def airflow_connection(
        self, tenant_id: str, client_id: str, secret: str, **extra: Any
    ) -> dict[str, Any]:
        """An ``azure_ml`` Airflow connection (as JSON-able dict) for a service principal here.

        The principal is registered with the emulator's tenant; put the dict, as JSON,
        in ``AIRFLOW_CONN_<ID>``. ``extra`` adds or overrides connection extras.
        """
        self.add_service_principal(tenant_id, client_id, secret)
        return {
            "conn_type": "azure_ml",
            "login": client_id,
            "password": secret,
            "extra": {
                "tenant_id": tenant_id,
                "subscription_id": self.subscription_id,
                "resource_group": self.resource_group,
                "workspace_name": self.workspace_name,
                "authority_host": self.url,
                "disable_instance_discovery": True,
                **extra,
            },
        }

    def hook(self) -> Any:
        """An ``AzureMLHook`` using this emulator's ``MLClient`` (no Airflow connection needed)."""
        from airflow_kedro_azureml.connection import ConnectionSettings
        from airflow_kedro_azureml.hooks.azureml import AzureMLHook

        hook = AzureMLHook()
        hook.settings = ConnectionSettings(
            subscription_id=self.subscription_id,
            resource_group=self.resource_group,
            workspace_name=self.workspace_name,
        )
        hook.client = self.ml_client()
        return hook

    def add_compute(self, name: str, compute_type: str = "AmlCompute") -> None:
        """Make a compute target named ``name`` exist."""
        if self._workspace_routes is None:
            self._initial_computes.append(name)
            return
        self._workspace_routes.add_compute(name, compute_type)

    def job(self, name: str) -> dict[str, Any] | None:
        """The stored REST body of a job, or ``None``."""
        return self.state.get_job(name)

    def jobs(self) -> list[str]:
        """Names of every top-level job, in submission order."""
        with self.state.lock:
            return list(self.state.jobs)

    def job_status(self, name: str) -> str | None:
        """A job's status, or ``None`` when there is no such job."""
        return self.state.job_status(name)

    def step_statuses(self, name: str) -> dict[str, str]:
        """Status of each step of pipeline job ``name``, keyed by step name."""
        return {run["displayName"]: run["status"] for run in self.state.children(name)}

    def set_job_status(self, name: str, status: str) -> None:
        """Force a job's status (for jobs the emulator does not run itself)."""
        with self.state.lock:
            body = self.state.jobs.get(name)
            if body is None:
                raise KeyError(f"no job named {name!r}")
            body["properties"]["status"] = status

    def wait_for_job(self, name: str, timeout: float = 60.0, poll: float = 0.05) -> str:
        """Wait until job ``name`` reaches a final status; return it (raise on timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.state.job_status(name)
            if status is None:
                raise KeyError(f"no job named {name!r}")
            if status in TERMINAL_JOB_STATUSES:
                return status
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {name!r} still {status} after {timeout} s")
            time.sleep(poll)

    def job_log(self, name: str, step: str | None = None) -> str:
        """Log lines of one step of job ``name``, or of all steps (prefixed) if ``step`` is None."""
        executor = self._require_executor()
        return executor.log(name, step)

    def job_run_dir(self, name: str) -> Path:
        """Where job ``name`` runs: ``<step>/outputs/<port>`` and ``<step>/user_logs``."""
        return self._require_executor().run_dir(name)

    def job_code_dir(self, name: str) -> Path:
        """The folder holding the unpacked code snapshot of job ``name``."""
        return self._require_executor().code_dir(name)

    def schedule(self, name: str) -> dict[str, Any] | None:
        """The stored REST body of a schedule, or ``None``."""
        with self.state.lock:
            body = self.state.schedules.get(name)
            return None if body is None else copy.deepcopy(body)

    def trigger_schedule(self, name: str) -> str:
        """Fire schedule ``name`` once now (as ``schedules.trigger`` does); the job's name."""
        if self._job_routes is None or self._context is None:
            raise RuntimeError("start() the emulator first")
        return self._job_routes.create_from_schedule(name)

    def advance_schedules(self, until: datetime) -> list[str]:
        """Move the schedules' clock to ``until`` (aware): every enabled schedule fires at
        each of its times up to then, oldest first; the names of the jobs made, in order.

        The clock starts at the real time each schedule was created and only moves forward.
        """
        if self._schedule_clock is None:
            raise RuntimeError("start() the emulator first")
        with self.state.lock:
            schedules = copy.deepcopy(self.state.schedules)
        return self._schedule_clock.advance(until, schedules)

    def _require_executor(self) -> JobExecutor:
        if self._context is None or self._context.executor is None:
            raise RuntimeError("this emulator does not execute jobs (execute_jobs=False)")
        return self._context.executor
