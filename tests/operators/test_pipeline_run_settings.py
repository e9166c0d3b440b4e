"""Every kind of compute and run setting, from azureml.yml and node tags, end to end.

Serverless compute with an instance type, queue settings (spot tier, priority), a
per-step timeout (``limits``), the identity a step runs as, a distributed step and
``continue_on_step_failure``: each reaches the job PUT body in Azure ML's own shape,
after the SDK's validation, and the emulator (and the local backend) honour the ones
a local run can: the timeout, continuing after a failed step, running a distributed
step once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.catalogs import pipeline_dataset
from tests.operators.task_thread import DagRunStub, TaskInstanceStub, operator_for, use_emulator
from tests.test_cli import kedro

NODES = """
import time


def prepare(raw):
    return [value + 1 for value in raw]


def train(values):
    return {"weights": values}


def score(model):
    return {"score": sum(model["weights"])}


def audit(raw):
    raise RuntimeError("audit failed on purpose")


def slow(raw):
    time.sleep(60)
    return raw
"""

REGISTRY = """
from kedro.pipeline import Pipeline, node
from {package} import nodes


def register_pipelines():
    main = Pipeline(
        [
            node(nodes.prepare, "raw", "prepared", name="prepare"),
            node(nodes.train, "prepared", "model", name="train", tags=["compute.ddp"]),
            node(nodes.score, "model", "score", name="score", tags=["compute.spot_gpu"]),
            node(nodes.audit, "raw", "audit_out", name="audit"),
        ]
    )
    slow = Pipeline([node(nodes.slow, "raw", "slow_out", name="slow", tags=["compute.short"])])
    return {{"__default__": main, "main": main, "slow": slow}}
"""

AZUREML = {
    "workspace": {
        "__default__": {"subscription_id": "sub-1", "resource_group": "rg-1", "name": "ws-1"}
    },
    "compute": {
        "__default__": {"cluster_name": "cpu-cluster", "queue_settings": {"priority": "high"}},
        "spot_gpu": {
            "serverless": True,
            "instance_type": "Standard_NC6s_v3",
            "shm_size": "8g",
            "queue_settings": {"job_tier": "spot"},
            "identity": {"type": "managed", "client_id": "0c1d2e3f-0000-4000-8000-000000000001"},
        },
        "ddp": {
            "cluster_name": "gpu-cluster",
            "instance_count": 2,
            "distribution": {"type": "pytorch", "process_count_per_instance": 2},
            "identity": {"type": "user_identity"},
        },
        "short": {"limits": {"timeout": 3}},
    },
    "execution": {"environment": "kedro-env@latest", "continue_on_step_failure": True},
}

CATALOG = {
    "raw": {"type": "json.JSONDataset", "filepath": "inputs/raw.json"},
    "score": pipeline_dataset("score.json"),
}


@pytest.fixture
def settings_project(make_project: Any) -> Path:
    return make_project(nodes=NODES, registry=REGISTRY, catalog=CATALOG, azureml=AZUREML)


def run_task(project: Path, pipeline: str) -> tuple[str, str | None]:
    operator = operator_for(project, pipeline, poll_interval=0.2)
    ti = TaskInstanceStub()
    try:
        operator.execute({"ti": ti, "dag_run": DagRunStub()})  # type: ignore[arg-type]
    except Exception as error:
        return str(ti.xcoms["azureml_job_name"]), str(error)
    return str(ti.xcoms["azureml_job_name"]), None


@pytest.mark.e2e
@pytest.mark.timeout(600)
@pytest.mark.azureml_emulator(computes=["cpu-cluster", "gpu-cluster"])
def test_run_settings_reach_the_job_body_and_the_emulator_honours_them(
    azureml_emulator, settings_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_emulator(azureml_emulator, monkeypatch)

    job, error = run_task(settings_project, "main")

    assert error is not None and "step 'audit' failed" in error
    body = azureml_emulator.job(job)["properties"]
    assert body["settings"]["continue_on_step_failure"] is True
    nodes = body["jobs"]
    assert nodes["prepare"]["queue_settings"] == {"priority": 3}
    assert "computeId" not in nodes["score"]  # serverless: no cluster
    assert nodes["score"]["resources"] == {"instance_type": "Standard_NC6s_v3", "shm_size": "8g"}
    # Nested settings merge with __default__'s: the spot tier keeps the default priority.
    assert nodes["score"]["queue_settings"] == {"job_tier": "Spot", "priority": 3}
    assert nodes["score"]["identity"] == {
        "identity_type": "Managed",
        "client_id": "0c1d2e3f-0000-4000-8000-000000000001",
    }
    assert nodes["train"]["distribution"] == {
        "distribution_type": "PyTorch",
        "process_count_per_instance": 2,
    }
    assert nodes["train"]["resources"] == {"instance_count": 2}
    assert nodes["train"]["identity"] == {"identity_type": "UserIdentity"}
    assert nodes["train"]["computeId"].endswith("/computes/gpu-cluster")
    # The distributed step ran as Azure ML runs it: 2 nodes x 2 processes, rank 0 saving.
    step_dir = azureml_emulator.job_run_dir(job) / "train"
    for rank in (1, 2, 3):
        log = (step_dir / "user_logs" / f"std_log_process_{rank}.txt").read_text()
        assert f"Rank {rank} of a distributed step, not rank 0" in log
    assert "not rank 0" not in azureml_emulator.job_log(job, "train")
    assert list((step_dir / "outputs" / "model").iterdir())  # rank 0 saved the model
    # continue_on_step_failure: audit failed, the rest of the pipeline still ran.
    assert azureml_emulator.step_statuses(job) == {
        "prepare": "Completed",
        "train": "Completed",
        "score": "Completed",
        "audit": "Failed",
    }


@pytest.mark.e2e
@pytest.mark.timeout(600)
@pytest.mark.azureml_emulator(computes=["cpu-cluster", "gpu-cluster"])
def test_a_step_running_past_its_timeout_is_stopped_and_fails(
    azureml_emulator, settings_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_emulator(azureml_emulator, monkeypatch)

    job, error = run_task(settings_project, "slow")

    assert error is not None
    assert "ran longer than its limits.timeout of 3 s and was stopped" in error
    assert azureml_emulator.job(job)["properties"]["jobs"]["slow"]["limits"]["timeout"] == "PT3S"


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_the_local_backend_runs_a_distributed_step_once_and_continues_after_a_failure(
    settings_project: Path,
) -> None:
    result = kedro(settings_project, "azureml", "run-local", "-p", "main")

    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "On Azure ML this step is distributed (pytorch, 2 node(s) x 2 process(es))" in output
    assert "here it runs once, as one process (rank 0)" in output
    runs = sorted((settings_project / ".azureml-local" / "runs").iterdir())
    score = list((runs[-1] / "score" / "outputs").rglob("score.json"))
    assert len(score) == 1, "score ran although audit failed (continue_on_step_failure)"
