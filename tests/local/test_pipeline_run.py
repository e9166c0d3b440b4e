"""Tests for the local backend: order, parallelism, failures, cancel, substitution."""

from __future__ import annotations

import shlex
import sys
import threading
import time
from pathlib import Path

import pytest

from airflow_kedro_azureml.errors import CompileError
from airflow_kedro_azureml.local.pipeline_run import LocalPipelineRun
from airflow_kedro_azureml.local.steps import LocalStep, order_steps

PY = shlex.quote(sys.executable)
WRITE = (
    "import sys, pathlib; pathlib.Path(sys.argv[1], 'v').write_text(sys.argv[2]); print('wrote')"
)
READ = "import sys, pathlib; print('read', pathlib.Path(sys.argv[1], 'v').read_text())"


def step(name: str, script: str, inputs=None, outputs=()) -> LocalStep:
    return LocalStep(
        name=name,
        command=f"{PY} -c {shlex.quote(script)}",
        inputs=inputs or {},
        outputs=tuple(outputs),
    )


def run(steps, tmp_path: Path, **kwargs) -> LocalPipelineRun:
    lines: list[tuple[str, str]] = []
    pipeline = LocalPipelineRun(
        steps,
        pipeline_inputs=kwargs.pop("pipeline_inputs", {}),
        code_dir=tmp_path,
        run_dir=tmp_path / "run",
        on_log=lambda s, line: lines.append((s, line)),
        **kwargs,
    )
    pipeline.lines = lines  # type: ignore[attr-defined]
    return pipeline


def test_outputs_flow_to_inputs_and_logs_are_named(tmp_path: Path) -> None:
    writer = LocalStep(
        "writer",
        f"{PY} -c {shlex.quote(WRITE)} ${{{{outputs.out}}}} ${{{{inputs.word}}}}",
        inputs={"word": "${{parent.inputs.word}}"},
        outputs=("out",),
    )
    reader = LocalStep(
        "reader",
        f"{PY} -c {shlex.quote(READ)} ${{{{inputs.data}}}}",
        inputs={"data": "${{parent.jobs.writer.outputs.out}}"},
    )
    pipeline = run([reader, writer], tmp_path, pipeline_inputs={"word": "it's ü"})
    assert pipeline.run() == "Completed"
    assert ("writer", "wrote") in pipeline.lines
    assert ("reader", "read it's ü") in pipeline.lines
    assert pipeline.log_path("reader").read_text().strip() == "read it's ü"


def test_failed_step_stops_downstream_and_names_the_step(tmp_path: Path) -> None:
    steps = [
        step("bad", "import sys; print('about to fail'); sys.exit(3)", outputs=["o"]),
        step("after_bad", "print('never')", inputs={"i": "${{parent.jobs.bad.outputs.o}}"}),
    ]
    pipeline = run(steps, tmp_path)
    assert pipeline.run() == "Failed"
    assert pipeline.step_statuses == {"bad": "Failed", "after_bad": "Canceled"}
    message = pipeline.failure_message()
    assert "step 'bad' failed" in message and "about to fail" in message and "code 3" in message
    assert not any(s == "after_bad" for s, _ in pipeline.lines)


def test_independent_steps_run_in_parallel_up_to_the_limit(tmp_path: Path) -> None:
    marker = tmp_path / "parallel"
    marker.mkdir()
    script = (
        "import os, sys, time, pathlib; d = pathlib.Path(sys.argv[1]); "
        "p = d / sys.argv[2]; p.touch(); time.sleep(0.5); "
        "print(len(list(d.iterdir()))); p.unlink()"
    )
    steps = [LocalStep(f"s{i}", f"{PY} -c {shlex.quote(script)} {marker} s{i}") for i in range(4)]
    pipeline = run(steps, tmp_path, max_parallel=2)
    assert pipeline.run() == "Completed"
    seen = [int(line) for _, line in pipeline.lines]
    assert max(seen) == 2


def test_cancel_stops_running_steps(tmp_path: Path) -> None:
    steps = [
        step("slow", "import time; print('started', flush=True); time.sleep(60)", outputs=["o"]),
        step("next", "print('never')", inputs={"i": "${{parent.jobs.slow.outputs.o}}"}),
    ]
    pipeline = run(steps, tmp_path)
    pipeline.start()
    deadline = time.monotonic() + 20
    while ("slow", "started") not in pipeline.lines and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()
    pipeline.cancel()
    assert pipeline.wait(timeout=20) == "Canceled"
    assert time.monotonic() - started < 15
    assert pipeline.step_statuses == {"slow": "Canceled", "next": "Canceled"}


def test_order_steps_rejects_unknown_and_looping_steps() -> None:
    with pytest.raises(CompileError, match="unknown step"):
        order_steps([LocalStep("a", "true", inputs={"x": "${{parent.jobs.zz.outputs.o}}"})])
    with pytest.raises(CompileError, match="loop"):
        order_steps(
            [
                LocalStep(
                    "a", "true", inputs={"x": "${{parent.jobs.b.outputs.o}}"}, outputs=("o",)
                ),
                LocalStep(
                    "b", "true", inputs={"x": "${{parent.jobs.a.outputs.o}}"}, outputs=("o",)
                ),
            ]
        )


def test_undeclared_placeholder_fails_the_step(tmp_path: Path) -> None:
    pipeline = run([LocalStep("a", "echo ${{inputs.nothing}}")], tmp_path)
    assert pipeline.run() == "Failed"
    assert "does not declare" in pipeline.failure_message()


def test_start_twice_is_refused(tmp_path: Path) -> None:
    pipeline = run([step("a", "pass")], tmp_path)
    pipeline.start()
    with pytest.raises(RuntimeError, match="already started"):
        pipeline.start()
    assert pipeline.wait(timeout=30) == "Completed"
    assert threading.active_count() >= 1


def test_steps_get_no_airflow_connection_variable_or_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "a-client-secret-that-must-stay-home"
    monkeypatch.setenv("AIRFLOW_CONN_AZURE_ML_DEFAULT", f'{{"password": "{secret}"}}')
    monkeypatch.setenv("AIRFLOW_VAR_TOKEN", secret)
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"postgresql://u:{secret}@db/x")
    monkeypatch.setenv("KEDRO_ENV_FOR_TEST", "kept")
    show = "import os; print(sorted(k for k in os.environ if 'AIRFLOW' in k or 'KEDRO_ENV' in k))"
    step = LocalStep(name="show_env", command=f'{shlex.quote(sys.executable)} -c "{show}"')
    pipeline = run([step], tmp_path)
    assert pipeline.run() == "Completed"
    log = pipeline.log_path("show_env").read_text()
    assert "KEDRO_ENV_FOR_TEST" in log
    assert "AIRFLOW_CONN" not in log and "AIRFLOW_VAR" not in log and "AIRFLOW__" not in log
    assert secret not in log
