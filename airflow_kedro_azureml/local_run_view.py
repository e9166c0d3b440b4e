"""Pages of local runs in Airflow's API server: where a local task's "Azure ML Studio" link goes.

On the local backend a task's job is a run folder on the machine that ran it, and its
job URL (XCom ``azureml_job_url``) is that folder's ``file://`` URL, which no browser
opens from a web page. This plugin mounts a small app on the API server, at
``/kedro-azureml``, that shows such a run on the same origin as the UI:

- ``/local-runs/{dag_id}/{run_id}/{task_id}``: the run's status, its steps with their
  logs, and the files of its folder;
- ``/local-runs/{dag_id}/{run_id}/{task_id}/files/{path}``: one file of that folder.

A request names a task, never a path: the folder is the one the task recorded in its
XCom, and only regular files inside it are served (no ``..``, no symbolic link). A
request needs the right to read the DAG's task logs, from the UI's session cookie or a
bearer token, as Airflow's own log pages do. The API server must see the run folders
(one machine, or a shared volume); otherwise the page says the folder is not there.

The app is built on its first request, so the processes that only load plugins
(scheduler, workers) never import FastAPI for it.
"""

import html
import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit
from urllib.request import url2pathname

from airflow.providers.common.compat.sdk import AirflowPlugin

from airflow_kedro_azureml.links import (
    JOB_URL_XCOM_KEY,
    LOCAL_RUN_VIEW_PREFIX,
    api_root_path,
    local_run_path,
)

if TYPE_CHECKING:
    from fastapi import FastAPI

    from airflow_kedro_azureml.statuses import JobState

STEP_LOG = "user_logs/std_log.txt"
MAX_LISTED_FILES = 500
MAX_OPEN_FOLDER = 20
"""Sub-folders with more files than this are listed folded."""
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
# A served file is shown as plain text or downloaded, never run as a page of this origin.
_FILE_HEADERS = {
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1a202c; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border-bottom: 1px solid #e2e8f0; padding: 0.3rem 0.8rem; text-align: left;
         vertical-align: top; }
code, pre { font-family: ui-monospace, monospace; font-size: 0.9em; }
pre { white-space: pre-wrap; margin: 0; max-width: 60rem; }
.status { font-weight: 600; }
.muted { color: #718096; }
details { margin: 0.3rem 0; }
summary { cursor: pointer; }
td.size { text-align: right; white-space: nowrap; }
"""


def job_url_of_task(dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> str | None:
    """The job URL the task instance recorded in its XCom, or None (a FastAPI dependency)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        value = session.scalar(
            XComModel.get_many(
                key=JOB_URL_XCOM_KEY,
                run_id=run_id,
                dag_ids=dag_id,
                task_ids=task_id,
                map_indexes=map_index,
            ).with_only_columns(XComModel.value)
        )
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            decoded = value
        value = decoded
    return value if isinstance(value, str) else None


def run_folder(job_url: str | None) -> Path | None:
    """The local run folder a ``file://`` job URL names, if it is one and exists here."""
    if not job_url:
        return None
    parts = urlsplit(job_url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return None
    folder = Path(url2pathname(parts.path))
    if not folder.is_absolute() or not folder.is_dir():
        return None
    return folder


def file_in_run(run_dir: Path, relative: str) -> Path | None:
    """The regular file ``relative`` names inside ``run_dir``; None for anything else.

    Refuses empty, absolute and ``..`` paths, and every path through a symbolic link,
    so nothing outside the run folder can be reached.
    """
    if not relative or relative.startswith("/") or "\\" in relative or "\x00" in relative:
        return None
    parts = relative.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return None
    path = run_dir
    for part in parts:
        path = path / part
        if path.is_symlink():
            return None
    try:
        resolved = path.resolve(strict=True)
    except OSError:
        return None
    if not resolved.is_file() or not resolved.is_relative_to(run_dir.resolve()):
        return None
    return resolved


def run_files(run_dir: Path, limit: int = MAX_LISTED_FILES) -> tuple[list[tuple[str, int]], int]:
    """Up to ``limit`` regular files of the run folder (relative path, size); and how many.

    Files of the folder itself come first; symbolic links are left out.
    """
    found: list[tuple[str, int]] = []
    for folder, dirs, files in os.walk(run_dir, followlinks=False):
        dirs[:] = [name for name in dirs if not (Path(folder) / name).is_symlink()]
        for name in files:
            path = Path(folder) / name
            if path.is_symlink() or not path.is_file():
                continue
            found.append((path.relative_to(run_dir).as_posix(), path.stat().st_size))
    found.sort(key=lambda item: ("/" in item[0], item[0]))
    return found[:limit], len(found)


@dataclass(frozen=True)
class TaskRef:
    """The task instance a page is about, and the URLs of its pages."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    app_root: str
    """Where the app is mounted, as the request came (with Airflow's base path)."""

    @property
    def page(self) -> str:
        """The path of the run's page."""
        return self.app_root + local_run_path(
            self.dag_id, self.run_id, self.task_id, self.map_index
        )

    def file(self, relative: str) -> str:
        """The path of one file of the run folder."""
        path = self.app_root + local_run_path(self.dag_id, self.run_id, self.task_id)
        path += "/files/" + quote(relative)
        return path if self.map_index < 0 else f"{path}?map_index={self.map_index}"

    @property
    def task_page(self) -> str:
        """The Airflow UI's page of the task instance."""
        ids = (quote(self.dag_id, safe=""), quote(self.run_id, safe=""))
        page = f"{api_root_path()}/dags/{ids[0]}/runs/{ids[1]}/tasks/"
        page += quote(self.task_id, safe="")
        return page if self.map_index < 0 else f"{page}/mapped/{self.map_index}"


def _job_state(run_dir: Path) -> "JobState | None":
    """The state the run keeps in its ``job.json``; None when there is none (or unreadable)."""
    from airflow_kedro_azureml.local.job import read_local_job_state

    try:
        return read_local_job_state(run_dir.parent, run_dir.name)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _size(size: int) -> str:
    """A file size for people: 812 B, 4.1 KiB, 2.3 MiB."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def _files_listing(task: TaskRef, files: list[tuple[str, int]]) -> str:
    """The run folder's files as HTML: its own files, then a section per sub-folder.

    A sub-folder of many files (MLflow's file store) starts folded.
    """
    e = html.escape
    groups: dict[str, list[tuple[str, int]]] = {}
    for relative, size in files:
        folder = relative.split("/", 1)[0] if "/" in relative else ""
        groups.setdefault(folder, []).append((relative, size))

    def table(entries: list[tuple[str, int]]) -> str:
        rows = "".join(
            f'<tr><td><a href="{e(task.file(relative))}">{e(relative)}</a></td>'
            f'<td class="size muted">{_size(size)}</td></tr>'
            for relative, size in entries
        )
        return f"<table>{rows}</table>"

    parts = [table(groups.pop(""))] if "" in groups else []
    for folder, entries in groups.items():
        is_open = " open" if len(entries) <= MAX_OPEN_FOLDER else ""
        count = f"{len(entries)} file" + ("" if len(entries) == 1 else "s")
        parts.append(
            f"<details{is_open}><summary><code>{e(folder)}/</code> "
            f'<span class="muted">{count}</span></summary>{table(entries)}</details>'
        )
    return "\n".join(parts)


def render_run_page(task: TaskRef, run_dir: Path) -> str:
    """The HTML page of a local run: status, steps with their logs, files."""
    e = html.escape
    state = _job_state(run_dir)
    status = (state.status if state else None) or "unknown (no job.json yet)"
    rows = []
    for step in (state.steps if state else None) or ():
        log = file_in_run(run_dir, f"{step.name}/{STEP_LOG}")
        log_cell = (
            f'<a href="{e(task.file(f"{step.name}/{STEP_LOG}"))}">std_log.txt</a>'
            if log
            else '<span class="muted">none</span>'
        )
        note = " (reused)" if step.reused else ""
        error = f"<pre>{e(step.error)}</pre>" if step.error else ""
        rows.append(
            f"<tr><td>{e(step.name)}</td><td>{e(step.status)}{note}</td>"
            f"<td>{log_cell}</td><td>{error}</td></tr>"
        )
    steps = (
        '<table id="steps"><tr><th>Step</th><th>Status</th><th>Log</th><th>Error</th></tr>'
        + "".join(rows)
        + "</table>"
        if rows
        else '<p class="muted">No step has been recorded yet.</p>'
    )
    files, total = run_files(run_dir)
    listing = _files_listing(task, files)
    more = f'<p class="muted">and {total - len(files)} more files</p>' if total > len(files) else ""
    who = f"{task.dag_id} / {task.run_id} / {task.task_id}"
    if task.map_index >= 0:
        who += f" [{task.map_index}]"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Local run {e(run_dir.name)}</title><style>{_STYLE}</style></head>
<body>
<h1>Local run <code>{e(run_dir.name)}</code></h1>
<p>Task <a href="{e(task.task_page)}">{e(who)}</a> ran this job on the local backend,
in the folder <code>{e(str(run_dir))}</code>.</p>
<p>Status: <span class="status" id="status">{e(status)}</span></p>
<h2>Steps</h2>
{steps}
<h2>Files</h2>
{listing}
{more}
</body></html>
"""


def _not_found_page(message: str) -> str:
    """A small HTML page saying why there is nothing to show."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>No local run</title><style>{_STYLE}</style></head>"
        f"<body><h1>No local run</h1><p>{html.escape(message)}</p></body></html>"
    )


def create_app() -> "FastAPI":
    """The FastAPI app of the local run pages (the plugin mounts it at ``/kedro-azureml``)."""
    # No postponed annotations in this module: FastAPI reads the routes' annotations,
    # which name these local imports.
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
    from airflow.api_fastapi.core_api.security import requires_access_dag
    from fastapi import Depends, FastAPI, Request
    from fastapi.responses import FileResponse, HTMLResponse, Response

    app = FastAPI(
        title="Kedro on Azure ML: local runs", docs_url=None, redoc_url=None, openapi_url=None
    )
    may_read_logs = [Depends(requires_access_dag("GET", DagAccessEntity.TASK_LOGS))]

    def task_ref(request: Request, map_index: int) -> TaskRef:
        params = request.path_params
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return TaskRef(params["dag_id"], params["run_id"], params["task_id"], map_index, root)

    def missing(job_url: str | None) -> HTMLResponse:
        if not job_url:
            text = "This task recorded no job: it ended before its job started."
        elif not job_url.startswith("file:"):
            text = "This task's job did not run on the local backend."
        else:
            text = (
                "This task's run folder is not on this machine any more (the local "
                "backend keeps the newest runs only), or the API server cannot see it."
            )
        return HTMLResponse(_not_found_page(text), status_code=404, headers=_PAGE_HEADERS)

    @app.get(
        "/local-runs/{dag_id}/{run_id}/{task_id}",
        dependencies=may_read_logs,
        response_class=HTMLResponse,
    )
    def local_run_page(
        request: Request, map_index: int = -1, job_url: str | None = Depends(job_url_of_task)
    ) -> Response:
        """The page of the task's local run."""
        run_dir = run_folder(job_url)
        if run_dir is None:
            return missing(job_url)
        page = render_run_page(task_ref(request, map_index), run_dir)
        return HTMLResponse(page, headers=_PAGE_HEADERS)

    @app.get(
        "/local-runs/{dag_id}/{run_id}/{task_id}/files/{path:path}", dependencies=may_read_logs
    )
    def local_run_file(
        path: str, map_index: int = -1, job_url: str | None = Depends(job_url_of_task)
    ) -> Response:
        """One file of the task's local run folder: text as plain text, the rest downloaded."""
        run_dir = run_folder(job_url)
        if run_dir is None:
            return missing(job_url)
        found = file_in_run(run_dir, path)
        if found is None:
            return HTMLResponse(
                _not_found_page("No such file in this run's folder."),
                status_code=404,
                headers=_PAGE_HEADERS,
            )
        with found.open("rb") as stream:
            is_text = b"\x00" not in stream.read(8192)
        if is_text:
            return FileResponse(
                found, media_type="text/plain; charset=utf-8", headers=_FILE_HEADERS
            )
        return FileResponse(
            found,
            media_type="application/octet-stream",
            filename=found.name,
            headers=_FILE_HEADERS,
        )

    return app


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class LocalRunApp:
    """An ASGI app that builds the local run pages' app on its first request."""

    def __init__(self) -> None:
        self._app: FastAPI | None = None

    @property
    def app(self) -> "FastAPI":
        """The app itself (built on first use)."""
        if self._app is None:
            self._app = create_app()
        return self._app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Hand the request to the app, built now if it is the first one."""
        await self.app(scope, receive, send)


class KedroAzureMLPlugin(AirflowPlugin):
    """Airflow plugin that mounts the local run pages on the API server."""

    name = "kedro_azureml"
    fastapi_apps = [
        {
            "app": LocalRunApp(),
            "url_prefix": LOCAL_RUN_VIEW_PREFIX,
            "name": "Kedro on Azure ML: local runs",
        }
    ]
