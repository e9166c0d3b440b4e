"""The operator's schedule mode: manage a native Azure ML schedule instead of running a job.

With ``azureml_schedule`` (or a ``schedule_action``), ``KedroAzureMLPipelineOperator``
compiles the pipeline as usual and then, instead of submitting one job:

- ``create_or_update`` (the default): creates the schedule, updates it if its timing or
  job changed, or leaves it as it is; the log says which;
- ``enable`` / ``disable``: turns the schedule on or off (it keeps its definition);
- ``delete``: removes the schedule (the jobs it fired stay);
- ``trigger``: fires it once now; the job's name goes to XCom like a submitted job's.

The schedule's job has the run id ``${{creation_context.trigger_time}}``: every firing
gets its own Kedro save version. Templated arguments (``kedro_params``...) are
rendered once, when the task runs, and stay fixed in the schedule's job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, get_args

from airflow_kedro_azureml.schedules.spec import AzureMLSchedule, CronSchedule, RecurrenceSchedule

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_kedro_azureml.compiler.kedro_project import KedroProject
    from airflow_kedro_azureml.compiler.spec import CompiledPipeline
    from airflow_kedro_azureml.hooks.azureml import AzureMLHook

ScheduleAction = Literal["create_or_update", "enable", "disable", "delete", "trigger"]
SCHEDULE_ACTIONS: tuple[str, ...] = get_args(ScheduleAction)
SCHEDULE_NAME_XCOM_KEY = "azureml_schedule_name"


def checked_schedule_arguments(
    schedule: AzureMLSchedule | str | None, action: str | None
) -> str | None:
    """The action the task takes (None: run one job); a ``ValueError`` for a bad combination."""
    if schedule is not None and not isinstance(schedule, CronSchedule | RecurrenceSchedule | str):
        raise TypeError(
            "azureml_schedule must be a CronSchedule, a RecurrenceSchedule (from "
            "airflow_kedro_azureml.schedules) or the name of a schedule in azureml.yml, "
            f"got {type(schedule).__name__}"
        )
    if action is None:
        return None if schedule is None else "create_or_update"
    if action not in SCHEDULE_ACTIONS:
        raise ValueError(f"schedule_action {action!r} is not one of {', '.join(SCHEDULE_ACTIONS)}")
    if action == "create_or_update" and schedule is None:
        raise ValueError(
            "schedule_action='create_or_update' needs azureml_schedule (a CronSchedule, a "
            "RecurrenceSchedule or the name of a schedule in azureml.yml)"
        )
    return action


def resolved_schedule(schedule: AzureMLSchedule | str, project: KedroProject) -> AzureMLSchedule:
    """``schedule`` itself, or the one azureml.yml names ``schedule`` under ``schedules``."""
    if not isinstance(schedule, str):
        return schedule
    from airflow_kedro_azureml.schedules.from_config import named_schedule

    return named_schedule(project.config, schedule, f"azureml.yml of {project.path}")


def run_schedule_action(
    operator: Any,
    context: Context,
    hook: AzureMLHook,
    project: KedroProject,
    compiled: CompiledPipeline | None,
    action: str,
    name: str,
) -> str:
    """Carry out ``action`` on schedule ``name``; push its name (and a job's) to XCom.

    ``compiled`` is the schedule's job (run id ``TRIGGER_TIME_RUN_ID``), needed for
    ``create_or_update`` only.
    """
    ti = context["ti"]
    log = operator.log
    if action == "create_or_update":
        assert compiled is not None
        return _create_or_update(operator, context, hook, project, compiled, name)
    from airflow_kedro_azureml.azure.schedule_launch import act_on_schedule

    job = act_on_schedule(hook, name, action)
    ti.xcom_push(key=SCHEDULE_NAME_XCOM_KEY, value=name)
    operator.studio_url = None if action == "delete" else hook.schedule_studio_url(name)
    if action == "enable":
        log.info("Schedule %s enabled: it fires again from its next time on", name)
    elif action == "disable":
        log.info("Schedule %s disabled: it keeps its definition and fires no more", name)
    elif action == "delete":
        log.info("Schedule %s deleted; the jobs it fired stay in the workspace", name)
    elif job is not None:
        from airflow_kedro_azureml.links import JOB_URL_XCOM_KEY
        from airflow_kedro_azureml.operators.pipeline import JOB_NAME_XCOM_KEY

        url = hook.get_job_state(job).studio_url
        operator.studio_url = url
        ti.xcom_push(key=JOB_NAME_XCOM_KEY, value=job)
        ti.xcom_push(key=JOB_URL_XCOM_KEY, value=url)
        log.info("Schedule %s fired once now: job %s (%s)", name, job, url)
        return job
    return name


def _create_or_update(
    operator: Any,
    context: Context,
    hook: AzureMLHook,
    project: KedroProject,
    compiled: CompiledPipeline,
    name: str,
) -> str:
    from airflow_kedro_azureml.azure.schedule_launch import apply_schedule
    from airflow_kedro_azureml.links import JOB_URL_XCOM_KEY

    schedule = resolved_schedule(operator.azureml_schedule, project)
    outcome = apply_schedule(
        hook, compiled, schedule, name, operator._schedule_identity(compiled), log=operator.log
    )
    ti = context["ti"]
    operator.studio_url = outcome.studio_url
    ti.xcom_push(key=SCHEDULE_NAME_XCOM_KEY, value=name)
    ti.xcom_push(key=JOB_URL_XCOM_KEY, value=outcome.studio_url)
    state = "enabled" if outcome.enabled else "disabled"
    firings = ", ".join(moment.isoformat() for moment in outcome.next_firings) or "none"
    operator.log.info(
        "Schedule %s %s (%s, %s): fires %d step(s) of pipeline %r; next firings (UTC): %s",
        name,
        outcome.change,
        schedule.describe(),
        state,
        len(compiled.steps),
        operator.pipeline,
        firings,
    )
    operator.log.info("Schedule %s: %s", name, outcome.studio_url)
    return name


def describe_dry_run(
    operator: Any,
    project: KedroProject,
    compiled: CompiledPipeline | None,
    action: str,
    name: str,
) -> str:
    """On the local backend: say what Azure ML would be asked to do (the job is compiled)."""
    detail = ""
    if action == "create_or_update":
        assert compiled is not None
        schedule = resolved_schedule(operator.azureml_schedule, project)
        detail = f" ({schedule.describe()}, {len(compiled.steps)} step(s))"
    operator.log.info(
        "The local backend has no schedules: nothing was created or changed. On Azure ML "
        "this task would %s schedule %s%s.",
        action.replace("_", " "),
        name,
        detail,
    )
    return name
