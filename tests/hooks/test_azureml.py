"""Tests for AzureMLHook: credential choice, workspace precedence, real requests to the emulator."""

from __future__ import annotations

import json
import time

import pytest

from airflow_kedro_azureml.connection import WorkspaceRef
from airflow_kedro_azureml.errors import AzureMLRequestError, TransientAzureMLError
from airflow_kedro_azureml.hooks.azureml import AzureMLHook
from airflow_kedro_azureml.statuses import JobState

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT_ID = "0a1b2c3d-0000-4000-8000-00000000c11e"
SECRET = "another-s3cret-for-hook-tests"


def use_connection(monkeypatch: pytest.MonkeyPatch, **connection: object) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_AZURE_ML_DEFAULT", json.dumps({"conn_type": "azure_ml", **connection})
    )


def emulator_connection(monkeypatch, emulator, secret: str = SECRET) -> None:
    connection = emulator.airflow_connection(TENANT, CLIENT_ID, SECRET)
    connection["password"] = secret
    monkeypatch.setenv("AIRFLOW_CONN_AZURE_ML_DEFAULT", json.dumps(connection))


@pytest.mark.timeout(120)
def test_test_connection_makes_a_real_request(monkeypatch, azureml_emulator) -> None:
    emulator_connection(monkeypatch, azureml_emulator)
    azureml_emulator.reset_requests()
    ok, message = AzureMLHook().test_connection()
    assert ok, message
    assert "ws-emulator" in message
    workspace_gets = azureml_emulator.requests(method="GET", path_regex=r"/workspaces/ws-emulator$")
    assert len(workspace_gets) == 1


@pytest.mark.timeout(120)
def test_test_connection_reports_a_wrong_secret(monkeypatch, azureml_emulator) -> None:
    emulator_connection(monkeypatch, azureml_emulator, secret="not-the-secret")
    ok, message = AzureMLHook().test_connection()
    assert not ok
    assert "AADSTS7000215" in message
    assert "not-the-secret" not in message


@pytest.mark.timeout(120)
def test_test_connection_reports_a_missing_workspace(monkeypatch, azureml_emulator) -> None:
    connection = azureml_emulator.airflow_connection(
        TENANT, CLIENT_ID, SECRET, workspace_name="no-such-workspace"
    )
    monkeypatch.setenv("AIRFLOW_CONN_AZURE_ML_DEFAULT", json.dumps(connection))
    ok, message = AzureMLHook().test_connection()
    assert not ok
    assert message


def test_service_principal_secret_gives_client_secret_credential(monkeypatch) -> None:
    from azure.identity import ClientSecretCredential

    use_connection(monkeypatch, login=CLIENT_ID, password=SECRET, extra={"tenant_id": TENANT})
    assert isinstance(AzureMLHook().get_credential(), ClientSecretCredential)


def test_secret_without_tenant_is_a_clear_error(monkeypatch) -> None:
    use_connection(monkeypatch, login=CLIENT_ID, password=SECRET, extra={})
    with pytest.raises(ValueError, match="needs the extra 'tenant_id'") as caught:
        AzureMLHook().get_credential()
    assert SECRET not in str(caught.value)


def test_managed_identity_and_default_chain(monkeypatch) -> None:
    from azure.identity import DefaultAzureCredential, ManagedIdentityCredential

    use_connection(monkeypatch, extra={"managed_identity_client_id": "mi-client"})
    assert isinstance(AzureMLHook().get_credential(), ManagedIdentityCredential)
    use_connection(monkeypatch, extra={})
    assert isinstance(AzureMLHook().get_credential(), DefaultAzureCredential)


def test_workload_identity(monkeypatch, tmp_path) -> None:
    from azure.identity import WorkloadIdentityCredential

    token_file = tmp_path / "token"
    token_file.write_text("federated")
    use_connection(
        monkeypatch,
        login=CLIENT_ID,
        extra={
            "workload_identity": "true",
            "tenant_id": TENANT,
            "federated_token_file": str(token_file),
        },
    )
    assert isinstance(AzureMLHook().get_credential(), WorkloadIdentityCredential)


def test_connection_workspace_wins_over_config(monkeypatch) -> None:
    use_connection(monkeypatch, extra={"workspace_name": "from-connection"})
    hook = AzureMLHook(workspace=WorkspaceRef("sub", "rg", "from-config"))
    assert hook.workspace == WorkspaceRef("sub", "rg", "from-connection")


def test_incomplete_workspace_names_what_is_missing(monkeypatch) -> None:
    use_connection(monkeypatch, extra={"workspace_name": "w"})
    with pytest.raises(ValueError, match="no subscription_id, resource_group"):
        AzureMLHook().workspace  # noqa: B018


@pytest.mark.timeout(300)
@pytest.mark.azureml_emulator(computes=["cpu-cluster", "gpu-cluster"], execute_jobs=False)
def test_schedule_lifecycle(monkeypatch, azureml_emulator, make_project) -> None:
    from azure.ai.ml.entities import CronTrigger, Environment, JobSchedule

    from airflow_kedro_azureml.azure.pipeline_job import to_pipeline_job
    from airflow_kedro_azureml.compiler import CompileOptions, compile_pipeline
    from airflow_kedro_azureml.compiler.kedro_project import open_project

    emulator_connection(monkeypatch, azureml_emulator)
    hook = AzureMLHook()
    hook.client.environments.create_or_update(
        Environment(name="kedro-env", version="1", image="python:3.11-slim")
    )
    project = make_project(catalog={"raw": {"type": "json.JSONDataset", "filepath": "in/r.json"}})
    compiled = compile_pipeline(
        open_project(project),
        CompileOptions(pipeline_name="toy", run_id="2026-11-10T06.00.00.000Z"),
    )
    schedule = JobSchedule(
        name="monthly_training",
        trigger=CronTrigger(expression="0 6 10 * *", time_zone="UTC"),
        create_job=to_pipeline_job(compiled),
    )
    assert hook.get_schedule("monthly_training") is None
    created = hook.create_or_update_schedule(schedule)
    assert created.name == "monthly_training" and created.is_enabled
    assert hook.get_schedule("monthly_training").trigger.expression == "0 6 10 * *"
    assert not hook.disable_schedule("monthly_training").is_enabled
    assert hook.enable_schedule("monthly_training").is_enabled
    hook.delete_schedule("monthly_training")
    assert hook.get_schedule("monthly_training") is None


@pytest.mark.timeout(300)
def test_job_state_names_steps_status_and_studio_url(azureml_emulator, tmp_path) -> None:
    from azure.ai.ml import command
    from azure.ai.ml.entities import Environment, PipelineJob

    hook = azureml_emulator.hook()
    hook.client.environments.create_or_update(Environment(name="env", version="1", image="py"))
    (tmp_path / "fail.py").write_text("raise SystemExit('the step failed on purpose')\n")
    commands = {"ok": "python -c 'print(1)'", "broken": "python fail.py"}
    steps = {
        name: command(
            name=name,
            command=line,
            code=str(tmp_path),
            environment="azureml:env:1",
            compute="cpu-cluster",
        )
        for name, line in commands.items()
    }
    hook.client.jobs.create_or_update(PipelineJob(jobs=steps, name="state_job"))
    assert azureml_emulator.wait_for_job("state_job", timeout=120) == "Failed"

    state = hook.get_job_state("state_job", with_step_errors=True)

    assert (state.name, state.status, state.is_terminal) == ("state_job", "Failed", True)
    assert "state_job" in state.studio_url
    by_name = {step.name: step for step in state.steps or ()}
    assert by_name["ok"].status == "Completed" and by_name["ok"].error is None
    assert by_name["broken"].status == "Failed"
    assert "the step failed on purpose" in (by_name["broken"].error or "")
    # the end of the step's own log, and its page in the studio
    assert "the step failed on purpose" in (by_name["broken"].log_tail or "")
    assert by_name["broken"].studio_url.startswith(azureml_emulator.url)
    assert hook.find_job_state("state_job") == JobState(
        "state_job", "Failed", state.studio_url, None
    )


@pytest.mark.timeout(120)
def test_a_missing_job_is_none_or_a_final_error(azureml_emulator) -> None:
    hook = azureml_emulator.hook()
    assert hook.find_job_state("no_such_job") is None
    with pytest.raises(AzureMLRequestError) as caught:
        hook.get_job_state("no_such_job")
    assert caught.value.status_code == 404
    assert "get job no_such_job" in str(caught.value)


def azure_core_error(name: str) -> Exception:
    from azure.core import exceptions

    return getattr(exceptions, name)("connection dropped")


def http_error(status: int) -> Exception:
    from azure.core.exceptions import HttpResponseError

    error = HttpResponseError(message=f"status {status}")
    error.status_code = status
    return error


@pytest.mark.parametrize(
    ("make_error", "transient", "answer_lost"),
    [
        (lambda: azure_core_error("ServiceRequestError"), True, False),
        (lambda: azure_core_error("ServiceResponseError"), True, True),
        (lambda: http_error(429), True, False),
        (lambda: http_error(503), True, True),
        (lambda: http_error(403), False, False),
        (lambda: http_error(404), False, False),
    ],
)
def test_sdk_errors_are_sorted_into_transient_or_final(make_error, transient, answer_lost) -> None:
    from airflow_kedro_azureml.hooks.request_errors import classify

    error = classify(make_error(), "get job j")
    if transient:
        assert isinstance(error, TransientAzureMLError) and error.answer_lost == answer_lost
    else:
        assert isinstance(error, AzureMLRequestError)
    assert str(error).startswith("get job j: ")


def test_sdk_validation_is_final_and_other_errors_are_left_alone() -> None:
    from azure.ai.ml.exceptions import ValidationException

    from airflow_kedro_azureml.hooks.request_errors import classify

    refused = ValidationException(message="no compute", no_personal_data_message="no compute")
    assert isinstance(classify(refused, "submit job j"), AzureMLRequestError)
    assert classify(ValueError("a bug"), "submit job j") is None


@pytest.mark.timeout(120)
def test_a_look_at_a_running_job_costs_two_requests(azureml_emulator, tmp_path) -> None:
    import time

    from tests.hand_jobs import NAP, submit_hand_job

    hook = azureml_emulator.hook()
    submit_hand_job(azureml_emulator, tmp_path / "code", "watched", NAP.format(seconds=30))
    deadline = time.monotonic() + 60
    while azureml_emulator.job_status("watched") != "Running" and time.monotonic() < deadline:
        time.sleep(0.1)
    hook.get_job_state("watched")
    azureml_emulator.reset_requests()

    states = [hook.get_job_state("watched") for _ in range(5)]

    assert all(state.status == "Running" and state.steps for state in states)
    assert len(azureml_emulator.requests()) == 10  # the job, and its steps
    hook.cancel_job("watched")


@pytest.mark.timeout(120)
def test_a_request_that_gets_no_answer_is_sent_again_after_the_request_timeout(
    monkeypatch, azureml_emulator
) -> None:
    emulator_connection(monkeypatch, azureml_emulator)
    monkeypatch.setenv("AIRFLOW__KEDRO_AZUREML__REQUEST_TIMEOUT", "1")
    hook = AzureMLHook()
    assert hook.compute_exists("cpu-cluster")  # token and client ready
    stall = azureml_emulator.inject_fault(
        kind="slow", method="GET", path_regex=r"/computes/cpu-cluster$", delay=30
    )
    started = time.monotonic()
    assert hook.compute_exists("cpu-cluster")
    # Answered by the second GET while the first still waits in the emulator.
    assert time.monotonic() - started < 30
    assert stall.remaining == 0


@pytest.mark.parametrize("value", ["0", "-5"])
def test_a_request_timeout_that_is_not_positive_is_a_clear_error(monkeypatch, value) -> None:
    from airflow_kedro_azureml.errors import ConfigError
    from airflow_kedro_azureml.settings import request_timeouts

    monkeypatch.setenv("AIRFLOW__KEDRO_AZUREML__REQUEST_TIMEOUT", value)
    with pytest.raises(ConfigError, match=r"\[kedro_azureml\] request_timeout must be .* above 0"):
        request_timeouts()
