"""The step entry point: run the Kedro nodes of one pipeline-job step.

``python -m airflow_kedro_azureml.compute.execute ...`` is the command every
compiled step runs, on Azure ML compute and in the local backend alike. It opens
a KedroSession whose save version is the run id (so every versioned dataset of
every step of one run shares a version), points
the step's datasets at the folders Azure ML mounted, and runs the step's nodes
with Kedro's runner, so the project's hooks fire as in ``kedro run``. A failing
node makes the process exit non-zero, with the node name and traceback logged.

It imports only what a step needs: no Airflow, no azure.ai.ml, no pydantic.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from airflow_kedro_azureml.compute import EXECUTE_MODULE
from airflow_kedro_azureml.compute.arg_codec import decode_json, decode_value
from airflow_kedro_azureml.compute.mlflow_tracking import step_tracking
from airflow_kedro_azureml.compute.ranks import process_rank, saves_outputs
from airflow_kedro_azureml.compute.run_time import save_version, step_runtime_params
from airflow_kedro_azureml.compute.warning_filters import quiet_config_loader_warnings

logger = logging.getLogger(EXECUTE_MODULE)
# Each step says which nodes and run id it runs, at INFO, under any logging config that
# does not name this logger itself (Kedro's default leaves unnamed loggers at WARNING).
logger.setLevel(logging.INFO)
DONE_FILE = "done"


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    """Parse the step command's arguments (values may be ``b64:``-encoded)."""
    parser = argparse.ArgumentParser(
        prog=f"python -m {EXECUTE_MODULE}",
        description="Run the Kedro nodes of one Azure ML pipeline step.",
    )
    parser.add_argument("--pipeline", required=True, type=decode_value)
    parser.add_argument("--env", default=None, type=decode_value)
    parser.add_argument("--nodes", required=True, type=decode_value, help="comma-separated")
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--params", default="{}", type=decode_json)
    parser.add_argument(
        "--params-file", default=None, type=Path, help="JSON file of params too long for --params"
    )
    parser.add_argument("--project-path", default=".", type=Path)
    parser.add_argument(
        "--input", nargs=2, action="append", default=[], metavar=("DATASET", "FOLDER")
    )
    parser.add_argument(
        "--output", nargs=2, action="append", default=[], metavar=("DATASET", "FOLDER")
    )
    parser.add_argument("--done", default=None, help="folder to mark when the step succeeded")
    arguments = parser.parse_args(argv)
    try:
        save_version(arguments.run_id)
    except ValueError as error:
        parser.error(f"--run-id: {error}")
    if arguments.params_file is not None:
        arguments.params = _read_params_file(parser, arguments.params_file)
    if not isinstance(arguments.params, dict):
        parser.error("--params must be a JSON object")
    return arguments


def _read_params_file(parser: argparse.ArgumentParser, path: Path) -> Any:
    """The params a ``--params-file`` holds (a file, or a folder holding one file)."""
    if path.is_dir():
        files = [child for child in path.iterdir() if child.is_file()]
        if len(files) != 1:
            parser.error(f"--params-file folder {path} must hold exactly one file")
        path = files[0]
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        parser.error(f"--params-file {path}: {error}")


def run_step(arguments: argparse.Namespace) -> dict[str, Any]:
    """Run the step described by ``arguments`` in a fresh KedroSession."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    from airflow_kedro_azureml.compute.runner import MountedFoldersRunner

    project_path = arguments.project_path.resolve()
    bootstrap_project(project_path)
    folders = {decode_value(name): folder for name, folder in arguments.input + arguments.output}
    node_names = [name for name in arguments.nodes.split(",") if name]
    version = save_version(arguments.run_id)
    runtime_params = step_runtime_params(arguments.params, arguments.run_id)
    session = KedroSession.create(
        project_path=project_path,
        env=arguments.env,
        runtime_params=runtime_params,
        save_on_close=False,
    )
    _use_run_id_as_save_version(session, version)
    with session:
        logger.info(
            "Running step of pipeline %r: nodes %s, run id %s",
            arguments.pipeline,
            node_names,
            version,
        )
        if not saves_outputs():
            logger.info(
                "Rank %s of a distributed step, not rank 0: the nodes run, their outputs stay "
                "in memory (rank 0 saves them)",
                process_rank(),
            )
        with step_tracking(arguments.pipeline, node_names, version):
            return session.run(
                pipeline_names=[arguments.pipeline],
                node_names=node_names,
                runner=MountedFoldersRunner(folders, saves_outputs=saves_outputs()),
            )


def _use_run_id_as_save_version(session: Any, run_id: str) -> None:
    """Make ``run_id`` the session id, which Kedro uses as every dataset's save version."""
    session.session_id = run_id
    session._store["session_id"] = run_id


def use_plain_logging(project_path: Path) -> None:
    """Log plain lines (not Kedro's rich console) unless the user or project chose a config.

    Step logs are files read in the studio or the Airflow task log, where rich's
    terminal layout wraps every line at 80 columns.
    """
    if os.environ.get("KEDRO_LOGGING_CONFIG"):
        return
    if any((project_path / "conf" / f"logging{suffix}").exists() for suffix in (".yml", ".yaml")):
        return
    spec = importlib.util.find_spec("kedro")
    if spec is None or spec.origin is None:
        return
    plain = Path(spec.origin).parent / "framework" / "project" / "default_logging.yml"
    if plain.exists():
        os.environ["KEDRO_LOGGING_CONFIG"] = str(plain)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the step, mark it done, and return the exit code."""
    os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
    quiet_config_loader_warnings()
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    use_plain_logging(arguments.project_path.resolve())
    try:
        run_step(arguments)
    except Exception:
        logger.exception("Step of nodes %s failed", arguments.nodes)
        return 1
    if arguments.done and saves_outputs():
        done = Path(arguments.done)
        done.mkdir(parents=True, exist_ok=True)
        (done / DONE_FILE).write_text(save_version(arguments.run_id) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
