"""``kedro azureml ...`` commands: look at the compiled job, or run it with the local backend.

Kedro imports this module for every ``kedro`` command, so it imports only click
at module level; the compiler and the SDK are imported inside the commands.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Any

import click

_FILTER_HELP = "repeat or comma-separate"


@click.group(name="airflow-kedro-azureml")
def commands() -> None:
    """Commands of airflow-kedro-azureml."""


@commands.group(name="azureml")
def azureml() -> None:
    """Compile Kedro pipelines into Azure ML pipeline jobs."""


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(part for value in values for part in value.split(",") if part)


def _common_options(function: Any) -> Any:
    options = [
        click.option(
            "-p",
            "--pipeline",
            default="__default__",
            show_default=True,
            help="registered Kedro pipeline to compile",
        ),
        click.option("-e", "--env", default=None, help="Kedro config environment"),
        click.option("--params", "params_json", default="{}", help="runtime params as JSON"),
        click.option(
            "--allow-unknown-params",
            is_flag=True,
            help="accept params that are not in the project's parameters",
        ),
        click.option("--run-id", default=None, help="Kedro save version (default: now)"),
        click.option(
            "--node-grouping",
            type=click.Choice(["none", "namespace", "memory"]),
            help="nodes per step (default: execution.node_grouping of azureml.yml)",
        ),
        click.option("-n", "--nodes", "node_names", multiple=True, help=_FILTER_HELP),
        click.option("-t", "--tags", multiple=True, help=_FILTER_HELP),
        click.option("--from-nodes", multiple=True, help=_FILTER_HELP),
        click.option("--to-nodes", multiple=True, help=_FILTER_HELP),
        click.option("--from-inputs", multiple=True, help=_FILTER_HELP),
        click.option("--to-outputs", multiple=True, help=_FILTER_HELP),
        click.option("--namespaces", multiple=True, help=_FILTER_HELP),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _open(project_path: Path, options: dict[str, Any], run_id: str | None = None) -> Any:
    """The project, its config resolved with the runtime params the steps will get."""
    from airflow_kedro_azureml.compiler.kedro_project import open_project
    from airflow_kedro_azureml.compute.warning_filters import quiet_config_loader_warnings
    from airflow_kedro_azureml.errors import KedroAzureMLError

    quiet_config_loader_warnings()
    params = _runtime_params(options, run_id)
    try:
        return open_project(project_path, env=options["env"], runtime_params=params)
    except KedroAzureMLError as error:
        raise click.ClickException(str(error)) from None


def _runtime_params(options: dict[str, Any], run_id: str | None) -> dict[str, Any]:
    """The runtime params the steps will get: ``--params`` and the run's time."""
    from airflow_kedro_azureml.compute.run_time import step_runtime_params

    try:
        return step_runtime_params(_params(options), run_id)
    except ValueError as error:  # a --run-id that is not a save version
        raise click.BadParameter(str(error), param_hint="--run-id") from None


def _params(options: dict[str, Any]) -> dict[str, Any]:
    try:
        params = json.loads(options["params_json"])
    except json.JSONDecodeError as error:
        raise click.BadParameter(f"not JSON: {error}", param_hint="--params") from None
    if not isinstance(params, dict):
        raise click.BadParameter(
            "must be a JSON object, e.g. '{\"factor\": 3}'", param_hint="--params"
        )
    return params


def _run_id(options: dict[str, Any]) -> str:
    from datetime import UTC, datetime

    from airflow_kedro_azureml.identity import run_id_for

    return options["run_id"] or run_id_for(datetime.now(UTC))


def _compile_options(options: dict[str, Any], run_id: str) -> Any:
    """The ``CompileOptions`` the command's options ask for."""
    from airflow_kedro_azureml.compiler import CompileOptions
    from airflow_kedro_azureml.compiler.kedro_project import PipelineFilters

    filters = PipelineFilters(
        tags=_split(options["tags"]),
        node_names=_split(options["node_names"]),
        from_nodes=_split(options["from_nodes"]),
        to_nodes=_split(options["to_nodes"]),
        from_inputs=_split(options["from_inputs"]),
        to_outputs=_split(options["to_outputs"]),
        node_namespaces=_split(options["namespaces"]),
    )
    return CompileOptions(
        pipeline_name=options["pipeline"],
        filters=filters,
        run_id=run_id,
        params=_params(options),
        node_grouping=options["node_grouping"],
        allow_unknown_params=options["allow_unknown_params"],
    )


def _compile(project_path: Path, options: dict[str, Any], project: Any = None) -> Any:
    from airflow_kedro_azureml.compiler import compile_pipeline
    from airflow_kedro_azureml.errors import KedroAzureMLError

    run_id = _run_id(options)
    compile_options = _compile_options(options, run_id)
    project = project or _open(project_path, options, run_id)
    try:
        compiled = compile_pipeline(project, compile_options)
    except KedroAzureMLError as error:
        raise click.ClickException(str(error)) from None
    _promotion_note(compiled)
    return project, compiled


def _promotion_note(compiled: Any) -> None:
    note = compiled.promotion_note()
    if note:
        click.echo(note, err=True)


def _local_files_warning(compiled: Any) -> None:
    report = compiled.local_files_report()
    if report is not None:
        click.echo(f"Warning: {report}", err=True)


@azureml.command(name="compile")
@_common_options
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="YAML file to write (default: stdout, unless --manifest is given)",
)
@click.option(
    "--manifest",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="also write the steps and their edges as JSON, for a KedroAzureMLTaskGroup "
    "(e.g. dags/<package>_manifest.json); no YAML on stdout then",
)
@click.pass_obj
def compile_command(
    metadata: Any, output: Path | None, manifest: Path | None, **options: Any
) -> None:
    """Write the pipeline job as YAML that azure.ai.ml.load_job reads (stdout if no -o)."""
    from airflow_kedro_azureml.azure.job_yaml import to_yaml
    from airflow_kedro_azureml.azure.pipeline_job import write_params_file

    if output is None:
        # The YAML alone goes to stdout: Kedro's and this package's log lines go to stderr.
        with contextlib.redirect_stdout(sys.stderr):
            _, compiled = _compile(Path(metadata.project_path), options)
    else:
        _, compiled = _compile(Path(metadata.project_path), options)
    if manifest is not None:
        _write_manifest(manifest, compiled, options)
        if output is None:
            return
    report = compiled.local_files_report()
    if report is not None:
        raise click.ClickException(report)
    target_dir = (output.parent if output else Path.cwd()).resolve()
    params_file = None
    if compiled.params_file_text is not None:
        # Too long for a command line: the job reads them from a file next to the YAML
        # (or, on stdout, from a temporary file named by their hash).
        folder = target_dir if output is not None else None
        params_file = write_params_file(compiled.params_file_text, folder)
    text = to_yaml(compiled, target_dir, params_file=params_file)
    if output is None:
        click.echo(text, nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    click.echo(
        f"Wrote {len(compiled.steps)} step(s) of pipeline {options['pipeline']!r} to {output}"
        + (f" and its params to {params_file}" if params_file else "")
    )


def _write_manifest(path: Path, compiled: Any, options: dict[str, Any]) -> None:
    """Write the manifest of ``compiled`` to ``path`` and say so (on stderr)."""
    from airflow_kedro_azureml.compiler.manifest import manifest_of

    selection = {
        "node_names": _split(options["node_names"]),
        "node_tags": _split(options["tags"]),
        "from_nodes": _split(options["from_nodes"]),
        "to_nodes": _split(options["to_nodes"]),
        "from_inputs": _split(options["from_inputs"]),
        "to_outputs": _split(options["to_outputs"]),
        "node_namespaces": _split(options["namespaces"]),
    }
    manifest_of(compiled, options["node_grouping"], selection).write(path)
    click.echo(
        f"Wrote the manifest of {len(compiled.steps)} step(s) of pipeline "
        f"{compiled.pipeline_name!r} to {path}",
        err=True,
    )


@azureml.command(name="run-local")
@_common_options
@click.option(
    "--max-parallel",
    type=int,
    default=None,
    help="steps run at once (default: execution.local.max_parallel)",
)
@click.option(
    "--fork-server/--no-fork-server",
    default=None,
    help="fork steps from a warm process (default: execution.local.fork_server)",
)
@click.pass_obj
def run_local_command(
    metadata: Any, max_parallel: int | None, fork_server: bool | None, **options: Any
) -> None:
    """Run the compiled job on this machine with the local backend."""
    from airflow_kedro_azureml.errors import KedroAzureMLError
    from airflow_kedro_azureml.identity import local_job_name
    from airflow_kedro_azureml.local.job import LocalJob

    options["run_id"] = _run_id(options)
    # This process has started Kedro for the project already: compiling here and forking
    # the steps' warm server from it imports nothing twice.
    project, compiled = _compile(Path(metadata.project_path), options)
    job = LocalJob.already_compiled(
        project,
        compiled,
        local_job_name(options["run_id"]),
        on_log=lambda step, line: click.echo(f"[{step}] {line}"),
        on_progress=click.echo,
        max_parallel=max_parallel,
        fork_server=fork_server,
    )
    _local_files_warning(compiled)
    tags = {
        "kedro_pipeline": compiled.pipeline_name,
        "kedro_env": compiled.env or "",
        "kedro_run_id": compiled.run_id,
    }
    try:
        outcome = job.run(compiled, run_tags=tags)
    except KedroAzureMLError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Job {job.job_name}: {outcome.status}")
    for line in job.summary_lines(compiled):
        click.echo(f"  {line}")
    if not outcome.succeeded:
        raise click.ClickException(outcome.failure_message())


@azureml.command(name="schedule")
@_common_options
@click.option(
    "-j",
    "--job",
    default=None,
    help="a job under 'jobs' in azureml.yml: its pipeline, filters, params and schedule(s)",
)
@click.option("-s", "--schedule", "schedule_ref", default=None, help="a schedule under 'schedules'")
@click.option("--name", default=None, help="the schedule's name (one schedule only)")
@click.option(
    "--action",
    type=click.Choice(
        ["create_or_update", "enable", "disable", "delete", "trigger"], case_sensitive=False
    ),
    default="create_or_update",
    show_default=True,
)
@click.option(
    "--azureml-conn-id",
    default="azure_ml_default",
    show_default=True,
    help="the azure_ml connection (e.g. from an AIRFLOW_CONN_AZURE_ML_DEFAULT variable)",
)
@click.pass_obj
def schedule_command(
    metadata: Any,
    job: str | None,
    schedule_ref: str | None,
    name: str | None,
    action: str,
    azureml_conn_id: str,
    **options: Any,
) -> None:
    """Create, update, enable, disable, delete or fire native Azure ML schedules."""
    from airflow_kedro_azureml.errors import KedroAzureMLError

    if (job is None) == (schedule_ref is None):
        raise click.UsageError("give either --job (from azureml.yml 'jobs') or --schedule")
    project_path = Path(metadata.project_path)
    project = _open(project_path, options)
    try:
        targets = _schedule_targets(project, job, schedule_ref, name, options)
        hook = _schedule_hook(project, azureml_conn_id)
        for schedule_name, schedule, job_options in targets:
            click.echo(
                _apply_cli_schedule(hook, project, schedule_name, schedule, job_options, action)
            )
    except KedroAzureMLError as error:
        raise click.ClickException(str(error)) from None


def _schedule_targets(
    project: Any,
    job: str | None,
    schedule_ref: str | None,
    name: str | None,
    options: dict[str, Any],
) -> list[tuple[str, Any, dict[str, Any]]]:
    """``(schedule name, schedule, compile options)`` of every schedule the command manages."""
    from airflow_kedro_azureml.identity import validate_schedule_name
    from airflow_kedro_azureml.schedules.from_config import job_schedules, named_schedule

    source = f"azureml.yml of {project.path}"
    base = f"kedro-{project.package_name}".replace("_", "-")
    if schedule_ref is not None:
        schedule = named_schedule(project.config, schedule_ref, source)
        return [
            (validate_schedule_name(name or f"{base}-{schedule_ref}", "--name"), schedule, options)
        ]
    assert job is not None
    found = job_schedules(project.config, job, source)
    if not found:
        raise click.ClickException(f"{source}: jobs.{job} has no schedule")
    if name is not None and len(found) > 1:
        raise click.UsageError(f"jobs.{job} has {len(found)} schedules: --name names only one")
    entry = project.config.jobs[job]
    selection = entry.pipeline
    job_options = {
        **options,
        "pipeline": selection.pipeline_name,
        "tags": tuple(selection.tags or ()),
        "node_names": tuple(selection.node_names or ()),
        "from_nodes": tuple(selection.from_nodes or ()),
        "to_nodes": tuple(selection.to_nodes or ()),
        "from_inputs": tuple(selection.from_inputs or ()),
        "to_outputs": tuple(selection.to_outputs or ()),
        "namespaces": tuple(selection.node_namespaces or ()),
        "params_json": json.dumps(entry.params or {}),
        "experiment_name": entry.experiment_name,
        "display_name": entry.display_name,
        "description": entry.description,
    }
    targets = []
    for label, schedule in found:
        default = f"{base}-{job}" if len(found) == 1 else f"{base}-{job}-{label}"
        targets.append((validate_schedule_name(name or default, "--name"), schedule, job_options))
    return targets


def _schedule_hook(project: Any, conn_id: str) -> Any:
    from airflow_kedro_azureml.connection import WorkspaceRef
    from airflow_kedro_azureml.hooks.azureml import AzureMLHook

    configured = project.config.workspace.resolve() if project.config.workspace else None
    workspace = None
    if configured is not None:
        workspace = WorkspaceRef(
            configured.subscription_id, configured.resource_group, configured.name
        )
    return AzureMLHook(azureml_conn_id=conn_id, workspace=workspace)


def _apply_cli_schedule(
    hook: Any, project: Any, name: str, schedule: Any, options: dict[str, Any], action: str
) -> str:
    """Carry out ``action`` on schedule ``name``; one line saying what happened."""
    from airflow_kedro_azureml.azure.pipeline_job import JobIdentity
    from airflow_kedro_azureml.azure.schedule_launch import act_on_schedule, apply_schedule
    from airflow_kedro_azureml.compiler.spec import TRIGGER_TIME_RUN_ID

    if action != "create_or_update":
        job = act_on_schedule(hook, name, action)
        if job is not None:
            return f"Schedule {name} fired once now: job {job}"
        return f"Schedule {name}: {action}d"
    options = {**options, "run_id": TRIGGER_TIME_RUN_ID}
    _, compiled = _compile(project.path, options, project)
    identity = JobIdentity(
        experiment_name=options.get("experiment_name") or compiled.experiment_name,
        display_name=options.get("display_name"),
        description=options.get("description"),
        tags={"kedro_pipeline": options["pipeline"], "kedro_env": options["env"] or ""},
    )
    outcome = apply_schedule(hook, compiled, schedule, name, identity)
    firings = ", ".join(moment.isoformat() for moment in outcome.next_firings) or "none"
    return (
        f"Schedule {name} {outcome.change} ({schedule.describe()}): {len(compiled.steps)} "
        f"step(s) of pipeline {options['pipeline']!r}; next firings (UTC): {firings}"
    )


@azureml.command(name="init")
@click.option("--subscription-id", default=None, help="Azure subscription of the workspace")
@click.option("--resource-group", default=None, help="resource group of the workspace")
@click.option("--workspace", default=None, help="Azure ML workspace name")
@click.option("--compute", default=None, help="compute cluster every step runs on by default")
@click.option(
    "--environment",
    default=None,
    help="Azure ML environment, e.g. my-env@latest (default: built from requirements.txt)",
)
@click.option(
    "-p", "--pipeline", default="__default__", show_default=True, help="pipeline the DAG runs"
)
@click.option("--dag-id", default=None, help="the DAG's id (default: the package name)")
@click.option(
    "--dags-folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="where the DAG file goes (default: <project>/dags)",
)
@click.option("--force", is_flag=True, help="overwrite azureml.yml and the DAG file if they exist")
@click.pass_obj
def init_command(
    metadata: Any,
    subscription_id: str | None,
    resource_group: str | None,
    workspace: str | None,
    compute: str | None,
    environment: str | None,
    pipeline: str,
    dag_id: str | None,
    dags_folder: Path | None,
    force: bool,
) -> None:
    """Write a commented conf/base/azureml.yml and an Airflow DAG for this project.

    Values not given as options are asked for when a terminal is attached (placeholders
    otherwise); the DAG runs on the local backend with `airflow dags test` as it is.
    """
    from airflow_kedro_azureml.errors import KedroAzureMLError
    from airflow_kedro_azureml.project_init import (
        LOCAL_CONNECTION,
        InitAnswers,
        default_dag_id,
        write_init_files,
    )

    defaults = InitAnswers()
    asking = sys.stdin.isatty()

    def answer(given: str | None, question: str, default: str) -> str:
        if given is not None:
            return given
        return str(click.prompt(question, default=default)) if asking else default

    project_path = Path(metadata.project_path)
    answers = InitAnswers(
        subscription_id=answer(subscription_id, "Subscription id", defaults.subscription_id),
        resource_group=answer(resource_group, "Resource group", defaults.resource_group),
        workspace_name=answer(workspace, "Workspace name", defaults.workspace_name),
        cluster_name=answer(compute, "Compute cluster", defaults.cluster_name),
        environment=answer(environment, "Environment (empty: built from requirements)", "") or None,
        pipeline=pipeline,
        dag_id=dag_id or default_dag_id(metadata.package_name),
    )
    folder = dags_folder if dags_folder is not None else project_path / "dags"
    try:
        written = write_init_files(project_path, answers, folder, force=force)
    except KedroAzureMLError as error:
        raise click.ClickException(str(error)) from None
    for path in written:
        click.echo(f"Wrote {path}")
    click.echo(
        "Try the DAG offline on the local backend:\n"
        f"  export AIRFLOW__CORE__DAGS_FOLDER={folder.resolve()}\n"
        f"  export AIRFLOW_CONN_{answers.conn_id.upper()}={LOCAL_CONNECTION}\n"
        f"  airflow dags test {answers.dag_id}"
    )
