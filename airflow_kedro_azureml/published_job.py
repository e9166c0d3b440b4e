"""A job's live state as the submit task of a ``KedroAzureMLTaskGroup`` publishes it in XCom.

The submit task is the group's one watcher: each time it looks at the job (one
job read and one listing of its steps per poll interval, whatever the number of
steps) it publishes what changed under the XCom key ``azureml_job_state``. The
step tasks and their trigger read that XCom and nothing else while the job runs,
so watching N steps costs Azure ML no more than watching one job.

Each step carries when it started and ended (Azure ML's times from the step's run
record; on the local backend, as the run reported its steps; otherwise when the
watcher first saw it start and end), its error and log tail if it
failed, and where its own log is (the step job's name on Azure ML, the log file
on the local backend).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from airflow_kedro_azureml import statuses
from airflow_kedro_azureml.statuses import JobState

JOB_STATE_XCOM_KEY = "azureml_job_state"
_NOT_YET_STARTED = frozenset({statuses.NOT_STARTED, statuses.QUEUED, ""})


@dataclass(frozen=True)
class PublishedStep:
    """One step as the watcher last saw it."""

    status: str
    started: float | None = None
    """Unix time the watcher first saw the step past ``NotStarted``/``Queued``."""
    ended: float | None = None
    """Unix time the watcher first saw the step ended."""
    error: str | None = None
    log_tail: str | None = None
    studio_url: str = ""
    reused: bool = False
    run_name: str = ""
    log_path: str = ""
    """The step's log file (local backend)."""

    @property
    def is_terminal(self) -> bool:
        """True when the step will not change any more in this job."""
        return statuses.is_terminal(self.status)

    @property
    def duration(self) -> float | None:
        """Seconds from start to end, where both were seen."""
        if self.started is None or self.ended is None:
            return None
        return max(self.ended - self.started, 0.0)


@dataclass(frozen=True)
class PublishedJob:
    """The job a group's submit task watches: its name, status, steps and where it runs."""

    job_name: str
    status: str | None
    studio_url: str = ""
    backend: str = "azure"
    """``azure`` or ``local``."""
    workspace: Mapping[str, str | None] | None = None
    """Subscription, resource group and workspace of the job (Azure ML)."""
    runs_dir: str | None = None
    """The folder of local runs (local backend)."""
    steps: Mapping[str, PublishedStep] = field(default_factory=dict)

    @property
    def is_terminal(self) -> bool:
        """True when the job has ended."""
        return statuses.is_terminal(self.status)

    def step(self, name: str) -> PublishedStep | None:
        """Step ``name``, or None when the job has not shown it yet."""
        return self.steps.get(name)

    def to_xcom(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        data = asdict(self)
        data["workspace"] = dict(self.workspace) if self.workspace else None
        data["steps"] = {name: asdict(step) for name, step in self.steps.items()}
        return data

    @classmethod
    def from_xcom(cls, data: Mapping[str, Any]) -> PublishedJob:
        """Reverse ``to_xcom``."""
        return cls(
            job_name=str(data["job_name"]),
            status=data.get("status"),
            studio_url=str(data.get("studio_url") or ""),
            backend=str(data.get("backend") or "azure"),
            workspace=data.get("workspace"),
            runs_dir=data.get("runs_dir"),
            steps={name: PublishedStep(**step) for name, step in (data.get("steps") or {}).items()},
        )


class JobStatePublisher:
    """Turns each look at the job into the XCom the step tasks read (only when it changed)."""

    def __init__(
        self,
        push: Any,
        backend: str,
        workspace: Mapping[str, str | None] | None = None,
        runs_dir: str | None = None,
        log_path_of: Callable[[str], str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``push(value)`` stores the XCom; ``log_path_of(step)`` is a step's log file (local)."""
        self._push = push
        self._backend = backend
        self._workspace = dict(workspace) if workspace else None
        self._runs_dir = runs_dir
        self._log_path_of = log_path_of
        self._clock = clock
        self._steps: dict[str, PublishedStep] = {}
        self._last: dict[str, Any] | None = None

    def publish(self, state: JobState) -> PublishedJob:
        """Record ``state`` (steps unknown this time keep their last state); push if changed."""
        now = self._clock()
        for seen in state.steps or ():
            self._steps[seen.name] = self._updated(self._steps.get(seen.name), seen, now)
        if state.is_terminal:
            # A step the job never started ends with it (Azure ML lists no child for it).
            for name, published in list(self._steps.items()):
                if not published.is_terminal:
                    self._steps[name] = replace(published, status=statuses.CANCELED, ended=now)
        job = PublishedJob(
            job_name=state.name,
            status=state.status,
            studio_url=state.studio_url,
            backend=self._backend,
            workspace=self._workspace,
            runs_dir=self._runs_dir,
            steps=dict(self._steps),
        )
        data = job.to_xcom()
        if data != self._last:
            self._push(data)
            self._last = data
        return job

    def _updated(
        self, before: PublishedStep | None, step: statuses.StepState, now: float
    ) -> PublishedStep:
        started = before.started if before is not None else None
        ended = before.ended if before is not None else None
        if step.started is not None:  # Azure ML's own times win over what was seen
            started = step.started
        elif started is None and step.status not in _NOT_YET_STARTED:
            started = now
        if step.ended is not None and statuses.is_terminal(step.status):
            ended = step.ended
        elif ended is None and statuses.is_terminal(step.status):
            ended = now
        return PublishedStep(
            status=step.status,
            started=started,
            ended=ended,
            error=step.error or (before.error if before else None),
            log_tail=step.log_tail or (before.log_tail if before else None),
            studio_url=step.studio_url,
            reused=step.reused,
            run_name=step.run_name,
            log_path=self._log_path_of(step.name) if self._log_path_of else "",
        )
