"""The task's "Azure ML Studio" link, and the API server's pages of local runs it leads to.

``AzureMLJobLink.get_link`` is checked in this process. The local run app runs in a
child process with a throw-away AIRFLOW_HOME (a migrated database, Airflow's simple
auth manager), because Airflow reads its configuration once per process: there it
answers real requests through FastAPI's TestClient, with the session cookie a browser
sends, and the results come back as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_kedro_azureml.links import (
    JOB_URL_XCOM_KEY,
    AzureMLJobLink,
    local_run_link,
    local_run_path,
)
from airflow_kedro_azureml.local_run_view import (
    TaskRef,
    file_in_run,
    render_run_page,
    run_files,
    run_folder,
)
from tests.airflow_cli import airflow_env

ROOT = Path(__file__).resolve().parents[1]
RUN_ID = "manual__2026-01-10T06:00:00+00:00"
KEY = SimpleNamespace(dag_id="dag_a", run_id=RUN_ID, task_id="task_a", map_index=-1)
PAGE = "/local-runs/dag_a/manual__2026-01-10T06%3A00%3A00%2B00%3A00/task_a"
STUDIO = "https://ml.azure.com/runs/job_1?wsid=/subscriptions/sub-1/resourcegroups/rg-1"
SECRET = "the content of a file outside the run folder"


# ---- the link ---------------------------------------------------------------------------


@pytest.fixture
def xcom(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The task's XCom as ``get_link`` reads it: a dict to fill, keyed by XCom key.

    Reading a key that is not there fails the test: on a worker it logs an error.
    """
    from airflow.providers.common.compat.sdk import XCom

    values: dict[str, Any] = {}

    def get_all(cls: type, *, key: str, dag_id: str, task_id: str, run_id: str) -> Any:
        assert (dag_id, task_id, run_id) == (KEY.dag_id, KEY.task_id, KEY.run_id)
        return [values[key]] if key in values else None

    def get_value(cls: type, *, ti_key: Any, key: str) -> Any:
        assert ti_key is KEY and key in values, "a read of a missing XCom logs an error"
        return values[key]

    monkeypatch.setattr(XCom, "get_all", classmethod(get_all))
    monkeypatch.setattr(XCom, "get_value", classmethod(get_value))
    monkeypatch.delenv("AIRFLOW__API__BASE_URL", raising=False)
    return values


def test_the_link_is_named_azure_ml_studio() -> None:
    assert AzureMLJobLink.name == "Azure ML Studio"


def test_a_job_on_azure_ml_links_to_its_studio_page(xcom: dict[str, Any]) -> None:
    # While the task runs, the operator knows its job's URL: no XCom read.
    link = AzureMLJobLink()
    assert link.get_link(SimpleNamespace(studio_url=STUDIO), ti_key=KEY) == STUDIO
    # A task resumed after deferring is a new operator: the URL it recorded before.
    xcom[JOB_URL_XCOM_KEY] = STUDIO
    assert link.get_link(SimpleNamespace(studio_url=None), ti_key=KEY) == STUDIO
    assert link.get_link(object(), ti_key=KEY) == STUDIO


def test_a_task_without_a_job_gets_no_link_and_reads_no_missing_xcom(
    xcom: dict[str, Any],
) -> None:
    link = AzureMLJobLink()
    assert link.get_link(SimpleNamespace(studio_url=None), ti_key=KEY) == ""
    assert link.get_link(object(), ti_key=KEY) == ""


def test_a_mapped_task_gets_the_url_of_its_own_map_index(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow.providers.common.compat.sdk import XCom

    mapped = SimpleNamespace(dag_id="d", run_id="r", task_id="t", map_index=1)
    urls = {0: STUDIO + "&job=0", 1: STUDIO + "&job=1"}
    monkeypatch.setattr(XCom, "get_all", classmethod(lambda cls, **kw: list(urls.values())))
    monkeypatch.setattr(
        XCom, "get_value", classmethod(lambda cls, *, ti_key, key: urls[ti_key.map_index])
    )
    link = AzureMLJobLink().get_link(SimpleNamespace(studio_url=None), ti_key=mapped)
    assert link == urls[1]


def test_a_local_run_links_to_its_page_on_the_api_server(
    xcom: dict[str, Any], tmp_path: Path
) -> None:
    folder_url = tmp_path.as_uri()
    xcom[JOB_URL_XCOM_KEY] = folder_url
    link = AzureMLJobLink()
    expected = "/kedro-azureml" + PAGE
    assert link.get_link(SimpleNamespace(studio_url=folder_url), ti_key=KEY) == expected
    assert link.get_link(object(), ti_key=KEY) == expected


def test_a_local_run_url_the_task_did_not_record_gets_no_dead_link(
    xcom: dict[str, Any], tmp_path: Path
) -> None:
    # The task knows the run folder's URL but did not record it: the page would find nothing.
    sensor = SimpleNamespace(studio_url=tmp_path.as_uri())
    assert AzureMLJobLink().get_link(sensor, ti_key=KEY) == ""


def test_the_local_run_link_keeps_airflows_base_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.example.com/team-a/")
    assert local_run_link(KEY) == "/team-a/kedro-azureml" + PAGE
    mapped = SimpleNamespace(dag_id="d", run_id="r/1", task_id="g.t", map_index=3)
    assert local_run_link(mapped) == "/team-a/kedro-azureml/local-runs/d/r%2F1/g.t?map_index=3"
    assert local_run_path("d", "r", "t") == "/local-runs/d/r/t"


# ---- the run folder, as the app reads it --------------------------------------------------


def make_run_dir(tmp_path: Path) -> Path:
    """A finished local run's folder in ``tmp_path``, a secret beside it, and links out of it."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    run = tmp_path / "runs" / "dag_a_task_a_0123456789abcdef"
    (run / "prep" / "user_logs").mkdir(parents=True)
    (run / "prep" / "user_logs" / "std_log.txt").write_text("prep: 42 rows cleaned\n")
    (run / "train" / "outputs" / "model").mkdir(parents=True)
    (run / "train" / "outputs" / "model" / "model.pkl").write_bytes(b"\x80\x04\x00binary")
    (run / "report.html").write_text("<script>alert('run me')</script>")
    state = {
        "name": run.name,
        "status": "Failed",
        "studio_url": run.as_uri(),
        "steps": [
            {"name": "prep", "status": "Completed"},
            {"name": "train", "status": "Failed", "error": "ValueError: <b>bad</b> input"},
        ],
    }
    (run / "job.json").write_text(json.dumps(state))
    (run / "leak.txt").symlink_to(outside / "secret.txt")
    (run / "linked").symlink_to(outside, target_is_directory=True)
    return run


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A finished local run's folder (see ``make_run_dir``)."""
    return make_run_dir(tmp_path)


def test_run_folder_takes_only_existing_local_file_urls(run_dir: Path, tmp_path: Path) -> None:
    assert run_folder(run_dir.as_uri()) == run_dir
    assert run_folder(None) is None
    assert run_folder(STUDIO) is None
    assert run_folder((tmp_path / "gone").as_uri()) is None
    assert run_folder("file://other-host" + str(run_dir)) is None


@pytest.mark.parametrize(
    "relative",
    [
        "",
        "/etc/passwd",
        "../outside/secret.txt",
        "prep/../../outside/secret.txt",
        "./job.json",
        "prep//user_logs/std_log.txt",
        "leak.txt",
        "linked/secret.txt",
        "prep\\user_logs\\std_log.txt",
        "prep",
        "missing.txt",
    ],
)
def test_file_in_run_refuses_anything_but_a_regular_file_inside(
    run_dir: Path, relative: str
) -> None:
    assert file_in_run(run_dir, relative) is None


def test_file_in_run_and_run_files_see_the_run_folder_only(run_dir: Path) -> None:
    log = file_in_run(run_dir, "prep/user_logs/std_log.txt")
    assert log == (run_dir / "prep" / "user_logs" / "std_log.txt").resolve()
    files, total = run_files(run_dir)
    names = [name for name, _ in files]
    assert names == [
        "job.json",
        "report.html",
        "prep/user_logs/std_log.txt",
        "train/outputs/model/model.pkl",
    ]
    assert total == 4
    assert run_files(run_dir, limit=1) == (files[:1], 4)


def test_the_page_lists_a_folder_of_many_files_folded(
    run_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIRFLOW__API__BASE_URL", raising=False)
    store = run_dir / "mlruns" / "0"
    store.mkdir(parents=True)
    for number in range(25):
        (store / f"metric_{number}").write_text("1")
    page = render_run_page(TaskRef("dag_a", RUN_ID, "task_a", -1, "/kedro-azureml"), run_dir)
    assert '<details open><summary><code>prep/</code> <span class="muted">1 file</span>' in page
    assert '<details><summary><code>mlruns/</code> <span class="muted">25 files</span>' in page
    assert page.index("job.json") < page.index("<details")


# ---- the app, answering requests -----------------------------------------------------------


def probe_local_run_app(run_dir: str) -> dict[str, Any]:
    """Requests to the local run pages, run in a child process (see the module docstring).

    The pages are those Airflow's own API server app mounts (from the plugin's entry
    point) under the path of ``[api] base_url``. First a task that recorded nothing in
    this empty database; then, with the XCom look-up replaced, the task ``task_a`` (and
    the mapped ``task_m[2]``) recorded the run folder, ``remote`` a job on Azure ML and
    ``sensor`` nothing. Returns, per request, the status, content type, headers and body.
    """
    from airflow.api_fastapi.app import create_app, get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from fastapi.testclient import TestClient

    from airflow_kedro_azureml.local_run_view import KedroAzureMLPlugin, job_url_of_task

    client = TestClient(create_app())
    manager = get_auth_manager()
    tokens = {
        "admin": manager.generate_jwt(SimpleAuthManagerUser(username="admin", role="admin")),
        "viewer": manager.generate_jwt(SimpleAuthManagerUser(username="ann", role="viewer")),
        # A valid token of a user without any role: may read nothing.
        "norole": manager.generate_jwt(SimpleAuthManagerUser(username="bob", role=None)),
    }
    base = "/team-a/kedro-azureml"
    task = base + PAGE
    mapped = task.replace("task_a", "task_m")
    requests = {
        "mounted": (task, "admin"),
        "mounted_no_token": (task, None),
        "no_token": (task, None),
        "bad_token": (task, "not-a-token"),
        "no_role": (task, "norole"),
        "no_role_file": (f"{task}/files/job.json", "norole"),
        "page": (task, "admin"),
        "page_viewer": (task, "viewer"),
        "mapped_page": (f"{mapped}?map_index=2", "admin"),
        "mapped_other_index": (mapped, "admin"),
        "log": (f"{task}/files/prep/user_logs/std_log.txt", "admin"),
        "html_file": (f"{task}/files/report.html", "admin"),
        "binary": (f"{task}/files/train/outputs/model/model.pkl", "admin"),
        "dotdot": (f"{task}/files/%2e%2e/%2e%2e/outside/secret.txt", "admin"),
        "dotdot_slash": (f"{task}/files/prep%2F..%2F..%2F..%2Foutside%2Fsecret.txt", "admin"),
        "absolute": (f"{task}/files//etc/passwd", "admin"),
        "symlink": (f"{task}/files/leak.txt", "admin"),
        "symlinked_dir": (f"{task}/files/linked/secret.txt", "admin"),
        "no_job": (task.replace("task_a", "sensor"), "admin"),
        "remote_job": (task.replace("task_a", "remote"), "admin"),
    }
    job_urls = {
        ("dag_a", RUN_ID, "task_a", -1): Path(run_dir).as_uri(),
        ("dag_a", RUN_ID, "task_m", 2): Path(run_dir).as_uri(),
        ("dag_a", RUN_ID, "remote", -1): STUDIO,
    }

    def recorded_job_url(dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> Any:
        return job_urls.get((dag_id, run_id, task_id, map_index))

    results: dict[str, Any] = {}
    for name, (path, who) in requests.items():
        if name == "no_token":  # from here on, the task recorded what job_urls says
            pages = KedroAzureMLPlugin.fastapi_apps[0]["app"].app
            pages.dependency_overrides[job_url_of_task] = recorded_job_url
        client.cookies.clear()
        cookies = {"_token": tokens.get(who, who)} if who else {}
        response = client.get(path, cookies=cookies)
        results[name] = {
            "status": response.status_code,
            "type": response.headers.get("content-type", ""),
            "csp": response.headers.get("content-security-policy", ""),
            "disposition": response.headers.get("content-disposition", ""),
            "body": response.content.decode("utf-8", errors="replace"),
        }
    client.cookies.clear()
    # A bearer token works as for the REST API.
    bearer = client.get(task, headers={"Authorization": f"Bearer {tokens['admin']}"})
    results["bearer"] = {"status": bearer.status_code}
    return results


@pytest.fixture(scope="module")
def answers(
    tmp_path_factory: pytest.TempPathFactory, airflow_home: Path
) -> dict[str, dict[str, Any]]:
    """What the pages answered to each request of ``probe_local_run_app``."""
    tmp = tmp_path_factory.mktemp("local-run-app")
    run = make_run_dir(tmp)
    # The user has a password already, so none is generated (and printed); the probe
    # makes its tokens itself.
    passwords = tmp / "passwords.json"
    passwords.write_text(json.dumps({"admin": "unused"}))
    env = airflow_env(airflow_home, tmp / "dags", None)
    env.update(
        AIRFLOW__CORE__AUTH_MANAGER=(
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
        ),
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(passwords),
        AIRFLOW__API_AUTH__JWT_SECRET="airflow-kedro-azureml-test-links",
        AIRFLOW__API__BASE_URL="http://localhost:8080/team-a/",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
    )
    code = (
        "import json, sys\n"
        "from tests.test_links import probe_local_run_app\n"
        "print('RESULTS=' + json.dumps(probe_local_run_app(sys.argv[1])))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(run)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULTS=")]
    assert result.returncode == 0 and lines, result.stdout[-3000:] + result.stderr[-5000:]
    return json.loads(lines[-1].removeprefix("RESULTS="))


def test_the_pages_need_a_user_who_may_read_the_dags_task_logs(answers: dict) -> None:
    assert answers["no_token"]["status"] == 401
    assert answers["bad_token"]["status"] == 403
    assert answers["no_role"]["status"] == 403
    assert answers["no_role_file"]["status"] == 403
    for name in ("no_token", "bad_token", "no_role", "no_role_file"):
        assert "prep" not in answers[name]["body"], name
    assert answers["page_viewer"]["status"] == 200
    assert answers["bearer"]["status"] == 200


def test_the_page_shows_the_runs_status_steps_logs_and_files(answers: dict) -> None:
    page = answers["page"]
    assert page["status"] == 200, page
    assert page["type"].startswith("text/html")
    assert "script-src" not in page["csp"] and "default-src 'none'" in page["csp"]
    body = page["body"]
    assert "Local run <code>dag_a_task_a_0123456789abcdef</code>" in body
    assert '<span class="status" id="status">Failed</span>' in body
    files = f"/team-a/kedro-azureml{PAGE}/files/"
    assert f'<a href="{files}prep/user_logs/std_log.txt">std_log.txt</a>' in body
    for name in ("job.json", "report.html", "train/outputs/model/model.pkl"):
        assert f'<a href="{files}{name}">{name}</a>' in body, name
    # The step's error is text, not markup; links out of the folder are not listed.
    assert "ValueError: &lt;b&gt;bad&lt;/b&gt; input" in body
    assert "leak.txt" not in body and "secret" not in body
    # Back to the task in the UI, under the same base path.
    task = "/team-a/dags/dag_a/runs/manual__2026-01-10T06%3A00%3A00%2B00%3A00/tasks/task_a"
    assert f'<a href="{task}">' in body


def test_a_mapped_tasks_page_is_its_own(answers: dict) -> None:
    assert answers["mapped_page"]["status"] == 200
    assert "/files/job.json?map_index=2" in answers["mapped_page"]["body"]
    assert "/tasks/task_m/mapped/2" in answers["mapped_page"]["body"]
    assert answers["mapped_other_index"]["status"] == 404


def test_files_are_served_as_text_or_downloads_never_as_pages(answers: dict) -> None:
    log = answers["log"]
    assert (log["status"], log["body"]) == (200, "prep: 42 rows cleaned\n")
    assert log["type"] == "text/plain; charset=utf-8"
    html_file = answers["html_file"]
    assert html_file["status"] == 200 and html_file["type"].startswith("text/plain")
    assert html_file["csp"].startswith("sandbox")
    binary = answers["binary"]
    assert binary["status"] == 200 and binary["type"] == "application/octet-stream"
    assert binary["disposition"].startswith("attachment")


@pytest.mark.parametrize("name", ["dotdot", "dotdot_slash", "absolute", "symlink", "symlinked_dir"])
def test_nothing_outside_the_run_folder_is_served(answers: dict, name: str) -> None:
    assert answers[name]["status"] == 404, answers[name]
    assert SECRET not in answers[name]["body"]
    assert "root:" not in answers[name]["body"]


def test_a_task_without_a_local_run_gets_a_page_saying_so(answers: dict) -> None:
    assert answers["no_job"]["status"] == 404
    assert "recorded no job" in answers["no_job"]["body"]
    assert answers["remote_job"]["status"] == 404
    assert "did not run on the local backend" in answers["remote_job"]["body"]


def test_airflows_api_server_mounts_the_pages_under_its_base_path(answers: dict) -> None:
    # Before the XCom look-up was replaced: the real one, in an empty database.
    mounted = answers["mounted"]
    assert mounted["status"] == 404 and "recorded no job" in mounted["body"], mounted
    assert answers["mounted_no_token"]["status"] == 401
