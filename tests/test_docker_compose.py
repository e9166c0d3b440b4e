"""docker-compose.yaml is a valid Compose file whose every reference exists.

No Docker engine runs here, so the deployment is checked without running it: against the
Compose specification's JSON schema (vendored by check-jsonschema), and for what a schema
cannot see: each service, build file, mounted folder and variable it names exists, and the
services Airflow 3 needs are there. Where a Compose v2 binary is on PATH,
``docker compose config`` checks it too.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yaml"
ENV_EXAMPLE = ROOT / "docker" / "airflow.env.example"
VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<default>:?-[^}]*)?\}")


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def test_the_compose_file_matches_the_compose_specification() -> None:
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("check-jsonschema")),
            "--builtin-schema",
            "vendor.compose-spec",
            str(COMPOSE),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_airflow_3_runs_whole_with_the_provider_installed() -> None:
    services = compose()["services"]
    commands = {str(service.get("command")) for service in services.values()}
    # The triggerer is what deferrable mode needs; the dag-processor is separate in Airflow 3.
    for needed in ("api-server", "scheduler", "dag-processor", "triggerer", "db migrate"):
        assert needed in commands, needed
    assert "postgres" in services
    for name, service in services.items():
        if name == "postgres":
            continue
        assert service["build"]["dockerfile"] == "docker/Dockerfile", name
        assert service["user"].startswith("${AIRFLOW_UID"), name  # can write run folders
        assert service["environment"]["AIRFLOW_CONN_AZURE_ML_DEFAULT"]


def test_every_service_file_folder_and_variable_it_names_exists() -> None:
    document = compose()
    services = document["services"]
    for name, service in services.items():
        for dependency, condition in (service.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on unknown service {dependency}"
            if condition.get("condition") == "service_healthy":
                assert services[dependency].get("healthcheck"), dependency
        build = service.get("build")
        if build:
            context = ROOT / build["context"]
            assert (context / build["dockerfile"]).is_file(), name
        for volume in service.get("volumes") or []:
            host = volume.split(":", 1)[0]
            if host.startswith("."):
                assert (ROOT / host).exists(), f"{name} mounts missing {host}"
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    for line in dockerfile.splitlines():
        if line.startswith("COPY"):
            for source in line.split()[1:-1]:
                if not source.startswith("--"):
                    assert (ROOT / source).exists(), f"Dockerfile copies missing {source}"
    listed = {
        line.split("=", 1)[0]
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line and not line.startswith("#")
    }
    for match in VARIABLE.finditer(COMPOSE.read_text()):
        assert match.group("default") or match.group("name") in listed, match.group(0)
        assert match.group("name") in listed, f"{match.group(0)} is not in {ENV_EXAMPLE.name}"


def compose_v2_available() -> bool:
    """Whether ``docker compose`` (the Compose v2 plugin) runs here."""
    if shutil.which("docker") is None:
        return False
    found = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30)
    return found.returncode == 0


@pytest.mark.skipif(not compose_v2_available(), reason="no Compose v2 (docker compose) here")
def test_docker_compose_config_accepts_it() -> None:
    result = subprocess.run(
        ["docker", "compose", "--env-file", str(ENV_EXAMPLE), "-f", str(COMPOSE), "config"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
