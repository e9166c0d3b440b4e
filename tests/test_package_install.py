"""The package installs from its own wheel, the way the install page tells a user to.

`python -m build` makes the wheel and the sdist; `twine check --strict` accepts both; the
sdist carries sources only (no virtualenv, Airflow home, docs build, local runs or caches).
Then the wheel goes into fresh virtualenvs, made with uv from the interpreter running the
tests:

- Airflow's environment (the wheel with its dependencies): Airflow lists the provider and
  knows the ``azure_ml`` connection type, and ``kedro azureml`` works in a Kedro project;
- an Azure ML compute image (the wheel with ``--no-deps``, plus Kedro, kedro-datasets and
  PyYAML at the package's own pins): no Airflow, and the step entry point runs a compiled
  step's nodes.

Each test prints what it installed (``uv pip freeze``) and how long each stage took; pytest
shows that output when a test fails.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import tarfile
import textwrap
import time
import zipfile
from collections.abc import Sequence
from email.parser import Parser
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
DISTRIBUTION = "airflow-kedro-azureml"
PACKAGE = "airflow_kedro_azureml"
VERSION = "0.1.0"
EXECUTE_MODULE = f"{PACKAGE}.compute.execute"
PROJECT_PACKAGE = "install_check"
RUN_ID = "2026-01-01T06.00.00.000Z"
# What the compute image gets besides the wheel: what the compute side imports.
COMPUTE_REQUIREMENTS = ("kedro", "kedro-datasets", "pyyaml")
# Paths that must never ship in the sdist: local state, secrets, build output and caches
# (each a whole path component).
SDIST_JUNK = (
    ".venv/",
    ".airflow-home/",
    "site/",
    ".azureml-local/",
    "__pycache__/",
    ".mypy_cache/",
    ".pytest_cache/",
    ".ruff_cache/",
    "dist/",
    "build/",
    ".git/",
    "sessions/",
    ".env/",
    ".idea/",
    ".vscode/",
    "htmlcov/",
    ".coverage/",
)
# Build, twine and the installs may fetch from the package index on a cold cache.
SLOW = 600


def find_uv() -> str | None:
    """uv next to the test interpreter (the project's .venv has it), else on PATH."""
    return shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")


UV = find_uv()
pytestmark = pytest.mark.skipif(UV is None, reason="uv is not installed next to the tests")


def run(
    command: Sequence[str | Path],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = SLOW,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``command``; with ``check``, fail showing its output unless it exits 0."""
    started = time.perf_counter()
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    seconds = time.perf_counter() - started
    shown = " ".join(str(part) if "\n" not in str(part) else "<script>" for part in command)
    print(f"$ {shown}  [{seconds:.1f}s, exit {result.returncode}]")
    if check:
        assert result.returncode == 0, (
            f"{command} exited {result.returncode}\n"
            f"--- stdout ---\n{result.stdout[-4000:]}\n--- stderr ---\n{result.stderr[-4000:]}"
        )
    return result


def uv_env() -> dict[str, str]:
    """The environment for uv: the caller's, without the virtualenv that runs the tests."""
    return {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}


def fresh_venv(path: Path) -> Path:
    """A new virtualenv at ``path`` on the tests' Python version; returns its python."""
    run([UV, "venv", "--quiet", "--python", sys.executable, path], env=uv_env())
    return path / "bin" / "python"


def uv_install(python: Path, *requirements: str | Path, no_deps: bool = False) -> str:
    """Install ``requirements`` into ``python``'s venv; return what uv printed."""
    command: list[str | Path] = [UV, "pip", "install", "--python", python]
    if no_deps:
        command.append("--no-deps")
    started = time.perf_counter()
    result = run([*command, *requirements], env=uv_env())
    print(f"installed in {time.perf_counter() - started:.1f}s")
    print(result.stderr)
    return result.stderr


def freeze(python: Path) -> str:
    """``uv pip freeze`` of ``python``'s venv, printed for the test output."""
    frozen = run([UV, "pip", "freeze", "--python", python], env=uv_env()).stdout
    print(f"--- installed in {python.parents[1]} ---\n{frozen}")
    return frozen


def isolated_env(venv_python: Path, airflow_home: Path) -> dict[str, str]:
    """An environment that sees only ``venv_python``'s venv and a throw-away AIRFLOW_HOME."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AIRFLOW", "PYTHON", "VIRTUAL_ENV", "CONDA", "KEDRO"))
    }
    env.update(
        PATH=os.pathsep.join([str(venv_python.parent), "/usr/local/bin", "/usr/bin", "/bin"]),
        VIRTUAL_ENV=str(venv_python.parents[1]),
        AIRFLOW_HOME=str(airflow_home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__UNIT_TEST_MODE="False",
        KEDRO_DISABLE_TELEMETRY="true",
        DO_NOT_TRACK="1",
        COLUMNS="200",
    )
    return env


def write_hello_project(root: Path) -> Path:
    """A two-node Kedro project (``make_numbers`` -> ``add_up``) with an azureml.yml."""
    source = root / "src" / PROJECT_PACKAGE
    source.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""\
            [tool.kedro]
            package_name = "{PROJECT_PACKAGE}"
            project_name = "{PROJECT_PACKAGE}"
            kedro_init_version = "1.7.0"
            source_dir = "src"
            """
        )
    )
    (source / "__init__.py").write_text("")
    (source / "settings.py").write_text("")
    (source / "pipeline_registry.py").write_text(
        textwrap.dedent(
            """\
            from kedro.pipeline import Pipeline, node


            def make_numbers(count):
                return list(range(1, count + 1))


            def add_up(numbers):
                return sum(numbers)


            def register_pipelines():
                pipeline = Pipeline(
                    [
                        node(make_numbers, "params:count", "numbers", name="make_numbers"),
                        node(add_up, "numbers", "total", name="add_up"),
                    ]
                )
                return {"__default__": pipeline}
            """
        )
    )
    base = root / "conf" / "base"
    base.mkdir(parents=True)
    (root / "conf" / "local").mkdir()
    (base / "catalog.yml").write_text("{}\n")
    (base / "parameters.yml").write_text("count: 4\n")
    azureml = {
        "workspace": {
            "__default__": {"subscription_id": "sub-1", "resource_group": "rg-1", "name": "ws-1"}
        },
        "compute": {"__default__": {"cluster_name": "cpu-cluster"}},
        "execution": {"environment": "kedro-env@latest"},
    }
    (base / "azureml.yml").write_text(yaml.safe_dump(azureml))
    return root


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The wheel and the sdist ``python -m build`` makes from the working tree."""
    out = tmp_path_factory.mktemp("dist")
    started = time.perf_counter()
    run([sys.executable, "-m", "build", "--wheel", "--sdist", "--outdir", out, ROOT], cwd=ROOT)
    print(f"built in {time.perf_counter() - started:.1f}s")
    wheels = sorted(out.glob("*.whl"))
    sdists = sorted(out.glob("*.tar.gz"))
    assert [path.name for path in wheels] == [f"{PACKAGE}-{VERSION}-py3-none-any.whl"]
    assert [path.name for path in sdists] == [f"{PACKAGE}-{VERSION}.tar.gz"]
    return wheels[0], sdists[0]


def wheel_metadata(wheel: Path) -> tuple[list[str], str, list[str]]:
    """The wheel's file names, its entry_points.txt, and its Requires-Dist lines."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        dist_info = f"{PACKAGE}-{VERSION}.dist-info"
        entry_points = archive.read(f"{dist_info}/entry_points.txt").decode()
        metadata = Parser().parsestr(archive.read(f"{dist_info}/METADATA").decode())
    return names, entry_points, metadata.get_all("Requires-Dist") or []


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_wheel_and_sdist_pass_twine_and_ship_sources_only(
    dists: tuple[Path, Path], tmp_path: Path
) -> None:
    wheel, sdist = dists
    checked = run([sys.executable, "-m", "twine", "check", "--strict", wheel, sdist])
    print(checked.stdout)
    assert checked.stdout.count("PASSED") == 2, checked.stdout

    names, entry_points, _ = wheel_metadata(wheel)
    strays = [name for name in names if not name.startswith((f"{PACKAGE}/", f"{PACKAGE}-"))]
    assert strays == [], f"the wheel carries more than the package: {strays}"
    for needed in ("__init__.py", "py.typed", "compute/execute.py", "hooks/azureml.py"):
        assert f"{PACKAGE}/{needed}" in names, needed
    assert f"provider_info = {PACKAGE}:get_provider_info" in entry_points
    assert f"azureml = {PACKAGE}.cli:commands" in entry_points
    assert f"kedro_azureml = {PACKAGE}.local_run_view:KedroAzureMLPlugin" in entry_points

    prefix = f"{PACKAGE}-{VERSION}/"
    with tarfile.open(sdist) as archive:
        members = [member.name.removeprefix(prefix) for member in archive.getmembers()]
        archive.extractall(tmp_path / "sdist", filter="data")
    junk = [name for name in members if any(f"/{part}" in f"/{name}/" for part in SDIST_JUNK)]
    assert junk == [], f"the sdist ships local state or build output: {junk[:20]}"
    for needed in ("PKG-INFO", "pyproject.toml", "README.md", f"{PACKAGE}/__init__.py"):
        assert needed in members, needed

    # What pip does with an sdist: build the wheel from it. It must hold the same files.
    rebuilt = tmp_path / "rebuilt"
    run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", rebuilt, tmp_path / "sdist" / prefix]
    )
    [from_sdist] = rebuilt.glob("*.whl")
    assert sorted(wheel_metadata(from_sdist)[0]) == sorted(names)


PROBE = """
import json
import sys
import warnings
from importlib.metadata import distribution, version

dist = distribution("airflow-kedro-azureml")
entry_points = [ep for ep in dist.entry_points if ep.group == "apache_airflow_provider"]
info = entry_points[0].load()() if len(entry_points) == 1 else {}

from airflow.providers_manager import ProvidersManager

manager = ProvidersManager()
provider = manager.providers.get("airflow-kedro-azureml")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Airflow 3.3 points hooks to the task SDK's manager
    hook = manager.hooks.get("azure_ml")
print("PROBE " + json.dumps({
    "python": sys.version.split()[0],
    "versions": {name: version(name) for name in (
        "airflow-kedro-azureml", "apache-airflow", "apache-airflow-providers-microsoft-azure",
        "kedro", "kedro-datasets", "azure-ai-ml", "azure-identity", "pydantic",
    )},
    "entry_points": [ep.value for ep in entry_points],
    "package_name": info.get("package-name"),
    "connection_types": [
        {key: entry[key] for key in ("connection-type", "hook-class-name", "hook-name")}
        for entry in info.get("connection-types", [])
    ],
    "manager_provider_version": provider.version if provider else None,
    "manager_hook": {
        "class": hook.hook_class_name, "package": hook.package_name, "name": hook.hook_name,
    } if hook else None,
    "form_widgets": sorted(key for key in manager.connection_form_widgets if "azure_ml" in key),
    "field_behaviours": manager.field_behaviours.get("azure_ml"),
}))
"""


def probe_line(stdout: str, marker: str) -> dict:
    """The JSON a probe printed after ``marker`` (Airflow may log around it)."""
    lines = [line for line in stdout.splitlines() if line.startswith(marker)]
    assert lines, f"no {marker!r} line in:\n{stdout[-4000:]}"
    return json.loads(lines[-1].removeprefix(marker))


def kedro_azureml_commands(help_text: str) -> set[str]:
    """The command names under ``Commands:`` in click's help."""
    _, _, listing = help_text.partition("\nCommands:\n")
    return {line.split()[0] for line in listing.splitlines() if line.startswith("  ")}


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_the_wheel_installs_as_an_airflow_provider(
    dists: tuple[Path, Path], tmp_path: Path
) -> None:
    wheel, _ = dists
    started = time.perf_counter()
    python = fresh_venv(tmp_path / "venv")
    uv_install(python, wheel)
    frozen = freeze(python)
    assert f"{DISTRIBUTION} @ file://" in frozen
    env = isolated_env(python, tmp_path / "airflow-home")

    probe = probe_line(run([python, "-c", PROBE], env=env, cwd=tmp_path).stdout, "PROBE ")
    print(json.dumps(probe, indent=2))
    assert probe["python"] == ".".join(map(str, sys.version_info[:3]))
    assert probe["versions"][DISTRIBUTION] == VERSION
    assert probe["entry_points"] == [f"{PACKAGE}:get_provider_info"]
    assert probe["package_name"] == DISTRIBUTION
    [connection] = probe["connection_types"]
    assert connection["connection-type"] == "azure_ml"
    assert connection["hook-class-name"] == f"{PACKAGE}.hooks.azureml.AzureMLHook"
    assert probe["manager_provider_version"] == VERSION
    assert probe["manager_hook"] == {
        "class": f"{PACKAGE}.hooks.azureml.AzureMLHook",
        "package": DISTRIBUTION,
        "name": connection["hook-name"],
    }
    assert "extra__azure_ml__workspace_name" in probe["form_widgets"]
    assert probe["field_behaviours"]["relabeling"]["login"] == "Client ID"

    listed = run(
        [python.parent / "airflow", "providers", "list", "-o", "json"], env=env, cwd=tmp_path
    ).stdout
    [table] = [line for line in listed.splitlines() if line.startswith("[")]
    providers = {entry["package_name"]: entry["version"] for entry in json.loads(table)}
    print(f"airflow providers list: {providers}")
    assert providers.get(DISTRIBUTION) == VERSION
    assert "apache-airflow-providers-microsoft-azure" in providers
    assert (tmp_path / "airflow-home" / "airflow.cfg").is_file()  # the isolated home was used

    project = write_hello_project(tmp_path / "hello_install")
    help_text = run([python.parent / "kedro", "azureml", "--help"], env=env, cwd=project).stdout
    print(help_text)
    commands = kedro_azureml_commands(help_text)
    assert {"compile", "run-local", "schedule"} <= commands, commands
    # The command group comes from the project-commands entry point: outside a project there
    # is no `kedro azureml`.
    outside = run(
        [python.parent / "kedro", "azureml", "--help"], env=env, cwd=tmp_path, check=False
    )
    assert outside.returncode != 0 and "No such command 'azureml'" in outside.stderr

    job_file = tmp_path / "job.yaml"
    run([python.parent / "kedro", "azureml", "compile", "-o", job_file], env=env, cwd=project)
    job = yaml.safe_load(job_file.read_text())
    assert set(job["jobs"]) == {"make_numbers", "add_up"}
    for step in job["jobs"].values():
        assert step["command"].startswith(f"python -m {EXECUTE_MODULE} "), step["command"]
    print(f"provider test took {time.perf_counter() - started:.1f}s")


COMPUTE_PROBE = """
import importlib.util
import json

names = ("airflow", "azure", "pydantic", "kedro", "kedro_datasets", "yaml")
print("PROBE " + json.dumps({name: importlib.util.find_spec(name) is not None for name in names}))
"""


def compute_requirements(wheel: Path) -> list[str]:
    """The wheel's own pins of what the compute side imports (Kedro, kedro-datasets, PyYAML)."""
    picked = []
    for line in wheel_metadata(wheel)[2]:
        requirement = Requirement(line)
        if requirement.marker is None and requirement.name.lower() in COMPUTE_REQUIREMENTS:
            picked.append(str(requirement))
    assert len(picked) == len(COMPUTE_REQUIREMENTS), picked
    return picked


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_the_compute_image_needs_the_wheel_and_kedro_only(
    dists: tuple[Path, Path], tmp_path: Path
) -> None:
    wheel, _ = dists
    started = time.perf_counter()
    python = fresh_venv(tmp_path / "venv")
    uv_install(python, wheel, no_deps=True)
    requirements = compute_requirements(wheel)
    print(f"compute requirements: {requirements}")
    uv_install(python, *requirements)
    freeze(python)
    env = isolated_env(python, tmp_path / "airflow-home")

    found = probe_line(run([python, "-c", COMPUTE_PROBE], env=env).stdout, "PROBE ")
    print(f"importable in the compute venv: {found}")
    assert found == {
        "airflow": False,
        "azure": False,
        "pydantic": False,
        "kedro": True,
        "kedro_datasets": True,
        "yaml": True,
    }

    usage = run([python, "-m", EXECUTE_MODULE, "--help"], env=env, cwd=tmp_path).stdout
    assert f"python -m {EXECUTE_MODULE}" in usage and "--nodes" in usage, usage

    # The two steps `kedro azureml compile` makes of the project, as Azure ML runs them:
    # the first writes `numbers` to its output folder, the second reads it from there.
    project = write_hello_project(tmp_path / "hello_install")
    numbers, total, done = tmp_path / "numbers", tmp_path / "total", tmp_path / "done"
    step = [python, "-m", EXECUTE_MODULE, "--pipeline", "__default__", "--run-id", RUN_ID]
    finish = ["--output", "total", total, "--done", done]
    run([*step, "--nodes", "make_numbers", "--output", "numbers", numbers], env=env, cwd=project)
    run(
        [*step, "--nodes", "add_up", "--input", "numbers", numbers, *finish],
        env=env,
        cwd=project,
    )
    [saved] = [path for path in total.rglob("*") if path.is_file()]
    assert pickle.loads(saved.read_bytes()) == 1 + 2 + 3 + 4
    assert (done / "done").read_text().strip() == RUN_ID
    print(f"compute test took {time.perf_counter() - started:.1f}s")
