"""The Airflow UI in a real browser: the task's "Azure ML Studio" link, the connection form,
and the graph of a KedroAzureMLTaskGroup.

One module-wide setup: a throw-away AIRFLOW_HOME; the example DAG run twice to success,
once on Azure ML (the package's HTTPS emulator of the Azure ML REST API, which really
runs the job) and once on the local backend; the example task group DAG run once to
success on the local backend; Airflow's API server (which serves the UI, and the
provider's local run pages) with every user an admin; and headless Chromium. The tests
then open the pages a user opens and check what the rendered page shows, in its DOM and
in its pixels. Screenshots go to the pytest temporary folder and are copied to
``$AIRFLOW_KEDRO_AZUREML_ARTIFACTS`` (default ``/tmp/airflow-kedro-azureml-artifacts/ui``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse
from urllib.request import url2pathname

import pytest

from airflow_kedro_azureml import CONNECTION_TYPE
from airflow_kedro_azureml.compiler.manifest import PipelineManifest
from airflow_kedro_azureml.connection import EXTRAS
from airflow_kedro_azureml.links import JOB_URL_XCOM_KEY, LOCAL_RUN_VIEW_PREFIX, AzureMLJobLink
from tests.airflow_cli import AIRFLOW, airflow_env, migrate
from tests.ui.chromium import Chromium, Page, find_chromium, png_pixels, stop_process_group

# The setup runs three DAG runs before the first test: its time counts against that test.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "dags_examples"
DAG_FILE = "demand_forecasting_monthly.py"
PROJECT = "demand_forecasting"
DAG_ID = "demand_forecasting_monthly"
TASK_ID = "train_and_forecast"
LOCAL_DATE = "2026-01-10T06:00:00+00:00"
# The task group example: every compiled step of the same project as a task, one job.
STEPS_DAG_FILE = "demand_forecasting_steps.py"
STEPS_MANIFEST = "demand_forecasting_manifest.json"
STEPS_DAG_ID = "demand_forecasting_steps"
GROUP_ID = "demand_forecasting"
# The same month (the DAG trains on the month before), another run.
AZURE_DATE = "2026-01-10T07:00:00+00:00"
LINK_NAME = AzureMLJobLink.name
HOOK_NAME = "Azure Machine Learning (Kedro)"
DEFAULT_ARTIFACTS = "/tmp/airflow-kedro-azureml-artifacts/ui"
# A service principal the emulator's tenant knows (test values, not a real one).
TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT_ID = "0a1b2c3d-0000-4000-8000-00000000c11e"
SECRET = "ui-test-secret-never-shown"
UI_ENV = {
    "AIRFLOW__CORE__AUTH_MANAGER": (
        "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
    ),
    # Every visitor is an admin: the UI needs no login.
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
    "AIRFLOW__API_AUTH__JWT_SECRET": "airflow-kedro-azureml-ui-test",
}

_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Run:
    """One finished run of the example DAG, as the API server reports it."""

    run_id: str
    job_url: str
    """The task's XCom ``azureml_job_url``."""
    links: dict[str, str]
    """The task's extra links, from the REST API."""


@dataclass
class Site:
    """The running UI and what the finished runs left behind."""

    base_url: str
    token: str = field(repr=False)
    azure: Run
    local: Run
    steps_run_id: str
    """The run of the task group example (local backend)."""
    runs_dir: Path
    emulator_url: str
    browser: Chromium = field(repr=False)
    screenshots: Path
    artifacts: Path

    def task_url(self, run: Run, tab: str = "") -> str:
        """The UI's page of the run's task instance (a tab of it when ``tab`` is given)."""
        page = f"{self.base_url}/dags/{DAG_ID}/runs/{quote(run.run_id, safe='')}/tasks/{TASK_ID}"
        return f"{page}/{tab}" if tab else page

    def api(self, path: str) -> Any:
        """GET a path of the REST API, as JSON."""
        return get_json(f"{self.base_url}{path}", self.token)

    def keep(
        self,
        page: Page,
        name: str,
        capsys: pytest.CaptureFixture[str],
        clip: dict[str, float] | None = None,
    ) -> Path:
        """Screenshot the page (or its ``clip``) into the temporary and artifacts folders."""
        shot = page.screenshot(self.screenshots / name, clip)
        self.artifacts.mkdir(parents=True, exist_ok=True)
        kept = Path(shutil.copy2(shot, self.artifacts / name))
        with capsys.disabled():
            print(f"\nscreenshot: {shot}\nscreenshot: {kept}")
        return shot


def get_json(url: str, token: str = "", timeout: float = 10.0) -> Any:
    """GET ``url`` (a local one: never through a proxy), as JSON."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with _LOCAL.open(urllib.request.Request(url, headers=headers), timeout=timeout) as response:
        return json.load(response)


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_in_session(
    command: list[str], env: dict[str, str], log: Path, timeout: float
) -> tuple[int, str]:
    """Run ``command`` to its end; on timeout, end it and every process it started."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = -1
        finally:
            # Also ends what the run left behind (the local backend's step processes).
            stop_process_group(process)
    output = log.read_text(errors="replace")
    if code == -1:
        pytest.fail(f"{' '.join(command[1:4])} did not end in {timeout} s:\n{output[-5000:]}")
    return code, output


def wait_until_serving(base_url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until the API server answers its health check."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the API server exited with {server.returncode}:\n{log.read_text()}")
        with contextlib.suppress(urllib.error.URLError, OSError, ValueError):
            get_json(f"{base_url}/api/v2/monitor/health", timeout=2)
            return
        time.sleep(0.5)
    pytest.fail(f"the API server did not answer in 120 s:\n{log.read_text()[-5000:]}")


def finished_run(
    home: Path, env: dict[str, str], logical_date: str, name: str, dag_id: str = DAG_ID
) -> None:
    """Run an example DAG once with ``airflow dags test``; fail unless it succeeded."""
    code, output = run_in_session(
        [AIRFLOW, "dags", "test", dag_id, logical_date],
        env,
        home / f"dags-test-{name}.log",
        # A failed try would wait the DAG's 5-minute retry delay: fail long before.
        timeout=240,
    )
    if code != 0 or "state=success" not in output:
        pytest.fail(f"{dag_id} did not succeed on {name} (exit {code}):\n{output[-6000:]}")


def finished_run_on_azure_ml(home: Path, dags: Path, tmp: Path) -> str:
    """Run the example DAG once on the Azure ML emulator; the emulator's URL."""
    from azure.ai.ml.entities import Data, Environment

    from airflow_kedro_azureml.testing.emulator import AzureMLEmulator

    emulator = AzureMLEmulator(work_dir=tmp / "emulator")
    emulator.start()
    try:
        with emulator.patched_environment():
            client = emulator.ml_client()
            client.environments.create_or_update(
                Environment(name="demand-forecasting-env", version="1", image="python:3.11-slim")
            )
            raw = dags / PROJECT / "data" / "01_raw" / "sell_in_history" / "1"
            client.data.create_or_update(
                Data(name="sell_in_history", version="1", type="uri_folder", path=str(raw))
            )
            connection = emulator.airflow_connection(TENANT, CLIENT_ID, SECRET)
            connection.pop("conn_type")
            env = {**airflow_env(home, dags, None, connection), **UI_ENV}
            finished_run(home, env, AZURE_DATE, "azure-ml")
        jobs = emulator.jobs()
        if len(jobs) != 1 or emulator.job_status(jobs[0]) != "Completed":
            pytest.fail(f"not one completed job on the emulator: {jobs}")
        return emulator.url
    finally:
        emulator.stop()


def finished_runs(api: Any) -> dict[datetime, str]:
    """The run id of each successful run of the example DAG, by logical date."""
    runs = api(f"/api/v2/dags/{DAG_ID}/dagRuns")["dag_runs"]
    if sorted(run["state"] for run in runs) != ["success", "success"]:
        pytest.fail(f"not two successful runs: {runs}")
    return {
        datetime.fromisoformat(run["logical_date"].replace("Z", "+00:00")): run["dag_run_id"]
        for run in runs
    }


def the_steps_run(api: Any) -> str:
    """The run id of the one successful run of the task group example."""
    runs = api(f"/api/v2/dags/{STEPS_DAG_ID}/dagRuns")["dag_runs"]
    if [run["state"] for run in runs] != ["success"]:
        pytest.fail(f"not one successful run of {STEPS_DAG_ID}: {runs}")
    return str(runs[0]["dag_run_id"])


def task_run(api: Any, run_id: str) -> Run:
    """What the API server says of the task of run ``run_id``: job URL and extra links."""
    task = f"/api/v2/dags/{DAG_ID}/dagRuns/{quote(run_id, safe='')}/taskInstances/{TASK_ID}"
    job_url = api(f"{task}/xcomEntries/{JOB_URL_XCOM_KEY}")["value"]
    links = api(f"{task}/links")["extra_links"]
    return Run(run_id=run_id, job_url=str(job_url), links=dict(links))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Finished runs of the example DAG, the UI serving them, and a headless browser."""
    executable = find_chromium()
    if executable is None:
        pytest.fail("no chromium on PATH: scripts/install.sh installs Debian's chromium")
    tmp = tmp_path_factory.mktemp("ui")
    home, dags, runs_dir = tmp / "airflow-home", tmp / "dags", tmp / "runs"
    dags.mkdir()
    for name in (DAG_FILE, STEPS_DAG_FILE, STEPS_MANIFEST):
        shutil.copy2(EXAMPLES / name, dags / name)
    shutil.copytree(
        EXAMPLES / PROJECT,
        dags / PROJECT,
        ignore=shutil.ignore_patterns("__pycache__", ".azureml-local"),
    )
    try:
        migrate(home)
    except AssertionError as error:
        pytest.fail(f"airflow db migrate failed: {error}")
    # The setup fails with pytest.fail, never an AssertionError: a broken setup is no
    # finding about the UI.
    env = airflow_env(home, dags, {"backend": "local", "local_runs_dir": str(runs_dir)})
    env.update(UI_ENV)
    finished_run(home, env, LOCAL_DATE, "local")
    # The steps as tasks: about 15 s more on the local backend.
    finished_run(home, env, LOCAL_DATE, "local-steps", dag_id=STEPS_DAG_ID)
    emulator_url = finished_run_on_azure_ml(home, dags, tmp)

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    server_log = tmp / "api-server.log"
    with server_log.open("wb") as out:
        server = subprocess.Popen(
            [AIRFLOW, "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    browser = Chromium(executable, tmp / "chromium-profile", tmp / "chromium.log")
    try:
        wait_until_serving(base_url, server, server_log)
        token = get_json(f"{base_url}/auth/token")["access_token"]

        def api(path: str) -> Any:
            return get_json(f"{base_url}{path}", token)

        run_ids = finished_runs(api)
        browser.start()
        artifacts = Path(os.environ.get("AIRFLOW_KEDRO_AZUREML_ARTIFACTS") or DEFAULT_ARTIFACTS)
        yield Site(
            base_url=base_url,
            token=token,
            azure=task_run(api, run_ids[datetime.fromisoformat(AZURE_DATE)]),
            local=task_run(api, run_ids[datetime.fromisoformat(LOCAL_DATE)]),
            steps_run_id=the_steps_run(api),
            runs_dir=runs_dir,
            emulator_url=emulator_url,
            browser=browser,
            screenshots=tmp / "screenshots",
            artifacts=artifacts,
        )
    finally:
        browser.stop()
        stop_process_group(server)


@contextlib.contextmanager
def screenshot_on_failure(
    site: Site, page: Page, name: str, capsys: pytest.CaptureFixture[str]
) -> Iterator[None]:
    """On any failure inside, keep a screenshot of the page as it was."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):
            site.keep(page, f"{name}-failed.png", capsys)
        raise


def open_task_details(site: Site, page: Page, run: Run) -> dict[str, str]:
    """Open the task instance's Details tab; the extra links the page loaded for it."""
    page.send("Network.enable")
    page.navigate(site.task_url(run, "details"))
    url, status, body = page.response(f"/taskInstances/{TASK_ID}/links")
    if status != 200:
        pytest.fail(f"{url} answered {status}: {body}")
    page.wait_for(
        f"document.body.innerText.includes({json.dumps(run.run_id)})"
        " && document.body.innerText.includes('Task ID')",
        what="the task instance's details",
    )
    # The section is drawn only when the task has at least one extra link.
    page.wait_for(
        "[...document.querySelectorAll('h1,h2,h3,h4,h5,h6')]"
        ".some(h => h.innerText.trim() === 'Extra Links')",
        timeout=15,
        what="the 'Extra Links' section",
    )
    return dict(json.loads(body)["extra_links"])


LINK_BUTTONS = f"""[...document.querySelectorAll('a')]
    .filter(a => a.innerText.trim() === {json.dumps(LINK_NAME)})"""


def link_buttons(page: Page) -> list[dict[str, Any]]:
    """The links of the page named as the job link: attributes, box, and whether visible.

    The box is in page coordinates; visible means the link's middle is the link itself
    (or inside it) on screen, not something drawn over it.
    """
    return page.evaluate(
        f"""{LINK_BUTTONS}.map(a => {{
            a.scrollIntoView({{block: 'center'}});
            const box = a.getBoundingClientRect();
            const middle = document.elementFromPoint(
                box.x + box.width / 2, box.y + box.height / 2);
            return {{
                href: a.getAttribute('href'),
                target: a.getAttribute('target'),
                box: {{x: box.x + window.scrollX, y: box.y + window.scrollY,
                       width: box.width, height: box.height}},
                visible: box.width > 0 && box.height > 0 && a.contains(middle),
            }};
        }})"""
    )


def the_link_button(
    site: Site, page: Page, shot: str, capsys: pytest.CaptureFixture[str]
) -> dict[str, Any]:
    """The one "Azure ML Studio" button of the page, seen in the DOM and in a screenshot.

    A screenshot of just the button must show it drawn: dark text on a light background,
    anti-aliased (more than two colours), not an empty box.
    """
    page.wait_for(f"{LINK_BUTTONS}.length > 0", timeout=15, what=f"a link named {LINK_NAME!r}")
    time.sleep(0.5)  # what the page drew from the links it got
    found = link_buttons(page)
    with capsys.disabled():
        print(f"\nlinks named {LINK_NAME!r} on the page: {found}")
    assert len(found) == 1, found
    button = found[0]
    assert button["visible"], button
    time.sleep(0.3)  # the scroll
    site.keep(page, shot.replace(".png", "-page.png"), capsys)
    pixels = png_pixels(site.keep(page, shot, capsys, clip=button["box"]).read_bytes())
    colours = {pixel[:3] for row in pixels for pixel in row}
    dark = [colour for colour in colours if max(colour) < 120]
    light = [colour for colour in colours if min(colour) > 200]
    assert len(pixels) >= 10 and len(colours) > 2, (len(pixels), sorted(colours)[:10])
    assert dark and light, sorted(colours)[:10]
    return button


def test_the_task_page_links_to_its_job_in_azure_ml_studio(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    # The job's studio page (the emulator stands in for https://ml.azure.com).
    job_url = site.azure.job_url
    assert job_url.startswith(f"{site.emulator_url}/studio/runs/"), job_url
    assert job_url.startswith("https://")
    assert site.azure.links == {LINK_NAME: job_url}

    with site.browser.page() as page, screenshot_on_failure(site, page, "azure-ml", capsys):
        links = open_task_details(site, page, site.azure)
        assert links == {LINK_NAME: job_url}
        button = the_link_button(site, page, "azure-ml-studio-button.png", capsys)
        assert button["href"] == job_url
        # Another site: a new tab, as every extra link to elsewhere.
        assert button["target"] == "_blank"


def test_the_local_run_links_to_its_page_on_the_api_server(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    # On the local backend the job is the run folder: its file:// URL, kept in XCom.
    job_folder = Path(url2pathname(urlparse(site.local.job_url).path))
    assert site.local.job_url == job_folder.as_uri()
    assert job_folder.parent == site.runs_dir, (job_folder, site.runs_dir)
    assert job_folder.is_dir(), job_folder
    # The link: the API server's page of that run, on the UI's own origin.
    page_path = (
        f"{LOCAL_RUN_VIEW_PREFIX}/local-runs/{DAG_ID}/{quote(site.local.run_id, safe='')}/{TASK_ID}"
    )
    assert site.local.links == {LINK_NAME: page_path}

    with site.browser.page() as page, screenshot_on_failure(site, page, "local-run", capsys):
        links = open_task_details(site, page, site.local)
        assert links == {LINK_NAME: page_path}
        button = the_link_button(site, page, "local-run-button.png", capsys)
        assert button["href"] == page_path
        assert button["target"] == "_self"

        page.click(f"{LINK_BUTTONS}[0]", f"the {LINK_NAME!r} button")
        page.wait_for(
            f"location.pathname === {json.dumps(page_path)}"
            " && document.querySelector('h1')?.innerText.startsWith('Local run')",
            what="the local run's page",
        )
        site.keep(page, "local-run-page.png", capsys)
        heading = page.evaluate("document.querySelector('h1').innerText")
        status = page.evaluate("document.getElementById('status').innerText")
        steps = page.evaluate(
            "[...document.querySelectorAll('#steps tr')].slice(1).map(tr => "
            "[...tr.cells].slice(0, 2).map(td => td.innerText.trim()))"
        )
        logs = page.evaluate(
            "[...document.querySelectorAll('#steps a')].map(a => a.getAttribute('href'))"
        )
        with capsys.disabled():
            print(f"\nthe local run's page: {heading!r}, {status}, {len(steps)} steps")
        assert heading == f"Local run {job_folder.name}"
        assert status == "Completed"
        job_state = json.loads((job_folder / "job.json").read_text(encoding="utf-8"))
        assert steps == [[step["name"], "Completed"] for step in job_state["steps"]]
        assert logs == [
            f"{page_path}/files/{step['name']}/user_logs/std_log.txt" for step in job_state["steps"]
        ]

        # A step's log, as the page links it.
        first = job_state["steps"][0]["name"]
        page.navigate(f"{site.base_url}{logs[0]}")
        log = (job_folder / first / "user_logs" / "std_log.txt").read_text(encoding="utf-8")
        page.wait_for(
            f"document.body && document.body.innerText.trim() === {json.dumps(log.strip())}",
            what=f"the log of step {first}",
        )
        site.keep(page, "local-run-step-log.png", capsys)


def test_the_connection_form_shows_the_azure_ml_fields(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    with site.browser.page() as page, screenshot_on_failure(site, page, "connection", capsys):
        page.navigate(f"{site.base_url}/connections")
        add = "[...document.querySelectorAll('button')].find(b => b.innerText.trim() === '%s')"
        page.click(add % "Add Connection", "the 'Add Connection' button", timeout=60)
        page.click(
            "[...document.querySelectorAll('[role=dialog] *')].find(e => "
            "e.children.length === 0 && e.innerText?.trim() === 'Select Connection Type')",
            "the connection type list",
        )
        page.type_text(CONNECTION_TYPE)
        options = page.wait_for(
            "[...document.querySelectorAll('[role=option]')].map(o => o.innerText.trim())",
            what="the connection types matching azure_ml",
        )
        assert options == [HOOK_NAME]
        page.press_enter()
        page.click(
            "[...document.querySelectorAll('[role=dialog] button')]"
            ".find(b => b.innerText.trim() === 'Extra Fields')",
            "the 'Extra Fields' section",
        )
        page.wait_for(
            "document.querySelector('[role=dialog]').innerText.includes('Subscription ID')",
            what="the connection's extra fields",
        )
        time.sleep(0.5)  # the section's opening animation
        site.keep(page, "connection-form.png", capsys)
        labels = [
            label.replace("*", "").strip()
            for label in page.evaluate(
                "[...document.querySelectorAll('[role=dialog] label')].map(l => l.innerText)"
            )
        ]
        labels = [label for label in labels if label]
        page.evaluate(
            "[...document.querySelectorAll('[role=dialog] label')]"
            ".find(l => l.innerText.trim() === 'Backend').scrollIntoView({block: 'center'})"
        )
        time.sleep(0.3)
        site.keep(page, "connection-form-backend.png", capsys)
        with capsys.disabled():
            print(f"\nthe form's fields: {labels}")

    assert {"Subscription ID", "Workspace Name", "Tenant ID", "Backend"} <= set(labels)
    extras = [label for label in labels if label in {extra.label for extra in EXTRAS}]
    assert extras == [extra.label for extra in EXTRAS]
    # The standard fields: login and password relabelled, host, schema and port hidden.
    assert {"Client ID", "Client Secret"} <= set(labels)
    assert not {"Host", "Schema", "Port", "Login", "Password"} & set(labels), labels


GROUP_NODE = f".react-flow__node[data-id={json.dumps(GROUP_ID)}]"


def graph_nodes(page: Page) -> list[dict[str, Any]]:
    """Each node the graph draws: its id, the name on it, and the state badge on it."""
    return page.evaluate(
        """[...document.querySelectorAll('.react-flow__node')].map(node => ({
            id: node.getAttribute('data-id'),
            name: node.querySelector('a, p')?.innerText.trim() ?? null,
            state: node.querySelector('[data-testid=state-badge]')?.innerText.trim() ?? null,
        }))"""
    )


def graph_edges(page: Page) -> set[tuple[str, str]]:
    """Each edge the graph draws, as (upstream task id, downstream task id)."""
    labels = page.evaluate(
        "[...document.querySelectorAll('.react-flow__edge')].map(e => e.getAttribute('aria-label'))"
    )
    edges = set()
    for label in labels:
        words = str(label).split()
        assert words[:2] == ["Edge", "from"] and words[3] == "to" and len(words) == 5, label
        edges.add((words[2], words[4]))
    return edges


def element_box(page: Page, selector: str) -> dict[str, float]:
    """The element's box in page coordinates."""
    return dict(
        page.evaluate(
            f"""(() => {{
                const box = document.querySelector({json.dumps(selector)}).getBoundingClientRect();
                return {{x: box.x + window.scrollX, y: box.y + window.scrollY,
                         width: box.width, height: box.height}};
            }})()"""
        )
    )


def test_the_task_group_graph_shows_every_step_with_its_state(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = PipelineManifest.read(EXAMPLES / STEPS_MANIFEST)
    steps = {f"{GROUP_ID}.{step.name}" for step in manifest.steps}
    tasks = {*steps, f"{GROUP_ID}.submit"}
    step_edges = {
        (f"{GROUP_ID}.{upstream}", f"{GROUP_ID}.{step.name}")
        for step in manifest.steps
        for upstream in step.upstream
    }
    run_page = f"{site.base_url}/dags/{STEPS_DAG_ID}/runs/{quote(site.steps_run_id, safe='')}"

    with site.browser.page() as page, screenshot_on_failure(site, page, "task-group", capsys):
        try:
            page.navigate(run_page)
            page.click(
                "document.querySelector('button[aria-label^=\"Show Graph\"]')",
                "the 'Show Graph' button",
                timeout=60,
            )
            toggle = page.wait_for(
                f"document.querySelector({json.dumps(GROUP_NODE + ' button')})?.innerText.trim()",
                what="the task group's node in the graph",
            )
            if toggle.startswith("+"):  # drawn collapsed: expand it, as a user does
                page.click(
                    f"document.querySelector({json.dumps(GROUP_NODE + ' button')})",
                    "the task group's '+ N Tasks' button",
                )
            page.wait_for(
                f"document.querySelectorAll('.react-flow__node').length === {len(tasks) + 1}",
                what=f"the group's {len(tasks)} tasks in the graph",
            )
            # The graph alone, fitted to the page's width.
            page.click(
                "document.querySelector('button[aria-label=\"Collapse Details Panel\"]')",
                "the 'Collapse Details Panel' button",
            )
            time.sleep(0.5)
            page.click("document.querySelector('.react-flow__controls-fitview')", "'Fit View'")
            box, before = element_box(page, GROUP_NODE), None
            while box != before:  # the fit is animated: wait until the group stands still
                time.sleep(0.5)
                box, before = element_box(page, GROUP_NODE), box
            nodes = graph_nodes(page)
            edges = graph_edges(page)
            with capsys.disabled():
                print(f"\nthe graph draws {len(nodes)} nodes and {len(edges)} edges: {nodes}")
            site.keep(page, "task-group-graph-page.png", capsys)
            margin = 16
            clip = {
                "x": box["x"] - margin,
                "y": box["y"] - margin,
                "width": box["width"] + 2 * margin,
                "height": box["height"] + 2 * margin,
            }
            shot = site.keep(page, "task-group-graph.png", capsys, clip=clip)
        finally:
            # The view and the open groups are remembered by the browser: leave none behind.
            with contextlib.suppress(Exception):
                page.evaluate("localStorage.clear()")

    # The group and every task in it: the submit task and one task per compiled step,
    # each named as its step, each with the state of its task instance.
    assert {node["id"] for node in nodes} == {GROUP_ID, *tasks}
    for node in nodes:
        assert node["name"] == node["id"].rsplit(".", 1)[-1], node
        assert node["state"] == "success", node
    assert {"submit", "clean_sell_in", "forecast_demand"} <= {node["name"] for node in nodes}
    # Wired as the compiled steps; the submit task needs no edge (the step tasks wait for it).
    assert edges == step_edges
    # Drawn: the screenshot holds the green of the success badges and borders.
    pixels = png_pixels(shot.read_bytes())
    green = sum(
        1
        for row in pixels
        for pixel in row
        if pixel[1] > 90 and pixel[1] > 1.6 * max(pixel[0], pixel[2])
    )
    assert len(pixels) > 100 and len(pixels[0]) > 600, (len(pixels), len(pixels[0]))
    assert green > 1000, green
