"""A storage fault during the code upload never hangs the task and never makes two jobs.

The SDK uploads the code snapshot file by file in threads; with its progress bar off
it never looked at a failed upload and waited forever. Each fault below is injected
once; the task must finish with exactly one completed job.
"""

from __future__ import annotations

import pytest

from tests.operators.task_thread import DagRunStub, TaskInstanceStub, operator_for, use_emulator

AZURE_CATALOG = {"raw": {"type": "json.JSONDataset", "filepath": "inputs/raw.json"}}
BLOB_PUT = r"^/emulatorstorage/pending-[^/]+/."


@pytest.mark.e2e
@pytest.mark.timeout(300)
@pytest.mark.azureml_emulator(computes=["cpu-cluster", "gpu-cluster"])
@pytest.mark.parametrize(
    ("kind", "method", "path_regex", "phase"),
    [
        ("429", "PUT", BLOB_PUT, "before"),
        ("drop", "PUT", BLOB_PUT, "after"),  # lost answer; the storage retry meets its blob
        ("drop", "POST", r"/startPendingUpload$", "before"),
        ("drop", "PUT", r"/codes/[^/]+/versions/1$", "before"),
    ],
)
def test_an_upload_fault_is_retried_and_makes_one_job(
    azureml_emulator, make_project, monkeypatch, kind, method, path_regex, phase
) -> None:
    use_emulator(azureml_emulator, monkeypatch)
    fault = azureml_emulator.inject_fault(
        kind=kind, method=method, path_regex=path_regex, phase=phase
    )
    project = make_project(catalog=AZURE_CATALOG)
    operator = operator_for(project, "toy", poll_interval=0.2)

    name = operator.execute({"ti": TaskInstanceStub(), "dag_run": DagRunStub()})

    assert fault.fired == 1
    assert azureml_emulator.jobs() == [name]
    assert azureml_emulator.job_status(name) == "Completed"
