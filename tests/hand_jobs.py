"""Jobs submitted by hand with the SDK (not by the operator), for the trigger and sensor tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def submit_hand_job(emulator: Any, code: Path, name: str, script: str) -> str:
    """A one-step pipeline job ``name`` running ``script`` (Python source) on cpu-cluster."""
    from azure.ai.ml import command
    from azure.ai.ml.entities import Environment, PipelineJob

    client = emulator.ml_client()
    client.environments.create_or_update(Environment(name="hand-env", version="1", image="py"))
    code.mkdir(parents=True, exist_ok=True)
    (code / "step.py").write_text(script)
    step = command(
        name="work",
        command="python step.py",
        code=str(code),
        environment="azureml:hand-env:1",
        compute="cpu-cluster",
    )
    client.jobs.create_or_update(PipelineJob(jobs={"work": step}, name=name))
    return name


NAP = "import time\nprint('napping', flush=True)\ntime.sleep({seconds})\n"
# Runs until the file ``release`` exists (at most 5 minutes).
UNTIL_RELEASED = (
    "import os, time\nprint('waiting for release', flush=True)\n"
    "deadline = time.time() + 300\n"
    "while not os.path.exists({release!r}) and time.time() < deadline:\n"
    "    time.sleep(0.1)\n"
)
FAIL = "raise SystemExit('the hand job failed on purpose')\n"
