"""Fixtures for the emulator's tests: the ``azureml_emulator`` fixture and pipeline builders."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

STEP_SCRIPT = textwrap.dedent(
    """
    import argparse, pathlib, time

    parser = argparse.ArgumentParser()
    parser.add_argument("--out")
    parser.add_argument("--inp")
    parser.add_argument("--text", default="")
    parser.add_argument("--sleep", type=float, default=0.0)
    parser.add_argument("--fail", action="store_true")
    args = parser.parse_args()
    print("step started", flush=True)
    if args.inp:
        print("read:", (pathlib.Path(args.inp) / "data.txt").read_text(), flush=True)
    if args.out:
        (pathlib.Path(args.out) / "data.txt").write_text("payload " + args.text)
    time.sleep(args.sleep)
    if args.fail:
        raise SystemExit("step failed on purpose")
    print("step done", flush=True)
    """
)


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    """A code folder holding ``step.py``, the script the test pipelines run."""
    folder = tmp_path / "code"
    folder.mkdir()
    (folder / "step.py").write_text(STEP_SCRIPT)
    return folder


@pytest.fixture
def make_pipeline(code_dir: Path) -> Callable[..., Any]:
    """Build a fresh two-step pipeline job: ``produce`` writes a file, ``consume`` reads it.

    Components are built anew per call: the SDK rewrites them in place on submission.
    """

    def build(
        text: str = "hello",
        *,
        consume_sleep: float = 0.0,
        consume_fails: bool = False,
        compute: str = "cpu-cluster",
        code: Path | None = None,
    ) -> Any:
        from azure.ai.ml import Input, Output, command, dsl
        from azure.ai.ml.entities import Environment

        environment = Environment(image="mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04")
        folder = str(code or code_dir)
        produce_component = command(
            name="produce",
            command="python step.py --out ${{outputs.out}} --text ${{inputs.text}}",
            code=folder,
            environment=environment,
            inputs={"text": Input(type="string")},
            outputs={"out": Output(type="uri_folder")},
        )
        consume_command = f"python step.py --inp ${{{{inputs.inp}}}} --sleep {consume_sleep}"
        if consume_fails:
            consume_command += " --fail"
        consume_component = command(
            name="consume",
            command=consume_command,
            code=folder,
            environment=environment,
            inputs={"inp": Input(type="uri_folder")},
        )

        # No annotations: with postponed evaluation the DSL would see the string "str".
        @dsl.pipeline(compute=compute)
        def two_steps(text):  # type: ignore[no-untyped-def]
            # The DSL names each step after its variable.
            produce = produce_component(text=text)
            consume = consume_component(inp=produce.outputs.out)  # noqa: F841

        return two_steps(text=text)

    return build
