"""The one status vocabulary: Azure ML's job status words, what each means, and how to say it.

The hook, the operator, the local backend and the emulator all use these words
and sets; nobody else spells a status or decides what one means. ``JobState``
is what the hook returns when asked about a job: plain data (no SDK object) that
turns into JSON and back, so a trigger can hand it to an operator.

``Paused`` is terminal here, as in the SDK: a paused job does nothing until
someone resumes it in the studio, so a task that waited for it would wait
until its timeout. The task ends with a message that says so, and the job is
left as it is (never cancelled), so it can be resumed and watched again.

Stdlib only: the local backend and the emulator import it too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

NOT_STARTED = "NotStarted"
QUEUED = "Queued"
PREPARING = "Preparing"
STARTING = "Starting"
PROVISIONING = "Provisioning"
RUNNING = "Running"
FINALIZING = "Finalizing"
CANCEL_REQUESTED = "CancelRequested"
COMPLETED = "Completed"
FAILED = "Failed"
CANCELED = "Canceled"
NOT_RESPONDING = "NotResponding"
PAUSED = "Paused"

SUCCESS_STATUSES = frozenset({COMPLETED})
FAILURE_STATUSES = frozenset({FAILED, CANCELED, NOT_RESPONDING})
# Not a failure, but nothing more happens until someone acts: the wait ends.
PAUSED_STATUSES = frozenset({PAUSED})
TERMINAL_STATUSES = SUCCESS_STATUSES | FAILURE_STATUSES | PAUSED_STATUSES
ACTIVE_STATUSES = frozenset(
    {
        NOT_STARTED,
        QUEUED,
        PREPARING,
        STARTING,
        PROVISIONING,
        RUNNING,
        FINALIZING,
        CANCEL_REQUESTED,
    }
)
_KNOWN = {word.lower(): word for word in TERMINAL_STATUSES | ACTIVE_STATUSES}


def normalize(status: object) -> str | None:
    """The plain status word: the SDK gives enum members (``JobStatus.FAILED``) or strings."""
    if status is None:
        return None
    text = str(getattr(status, "value", status))
    return _KNOWN.get(text.lower(), text)


def is_terminal(status: str | None) -> bool:
    """True when a job in ``status`` will not change any more without someone acting."""
    return status in TERMINAL_STATUSES


def is_success(status: str | None) -> bool:
    """True when ``status`` means the job did what it was asked."""
    return status in SUCCESS_STATUSES


@dataclass(frozen=True)
class StepState:
    """One step job as seen from its parent: name, status, its error and log tail, its page."""

    name: str
    status: str
    error: str | None = None
    log_tail: str | None = None
    studio_url: str = ""
    reused: bool = False
    """Completed by reusing an earlier run of the same step (it did not run again)."""


@dataclass(frozen=True)
class JobState:
    """What a pipeline job is doing now: its status, its steps and where to see it.

    ``steps`` is None when the steps could not be listed this time (the status is
    still right); an empty tuple means the job has no step running yet.
    """

    name: str
    status: str | None
    studio_url: str = ""
    steps: tuple[StepState, ...] | None = None

    @property
    def is_terminal(self) -> bool:
        """True when the job will not change any more without someone acting."""
        return is_terminal(self.status)

    @property
    def is_success(self) -> bool:
        """True when the job completed."""
        return is_success(self.status)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (for a trigger event or XCom)."""
        steps = None
        if self.steps is not None:
            steps = [
                {
                    "name": step.name,
                    "status": step.status,
                    "error": step.error,
                    "log_tail": step.log_tail,
                    "studio_url": step.studio_url,
                    "reused": step.reused,
                }
                for step in self.steps
            ]
        return {
            "name": self.name,
            "status": self.status,
            "studio_url": self.studio_url,
            "steps": steps,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobState:
        """Reverse ``to_dict``."""
        steps = data.get("steps")
        return cls(
            name=str(data["name"]),
            status=data.get("status"),
            studio_url=str(data.get("studio_url") or ""),
            steps=None
            if steps is None
            else tuple(
                StepState(
                    s["name"],
                    s["status"],
                    s.get("error"),
                    s.get("log_tail"),
                    s.get("studio_url") or "",
                    bool(s.get("reused")),
                )
                for s in steps
            ),
        )


def progress_line(steps: Iterable[StepState], total: int) -> str:
    """E.g. ``3/7 steps completed (2 reused), running: train_model``.

    Steps that failed are listed apart from steps canceled because something
    upstream failed (or the job was canceled).
    """
    steps = list(steps)
    completed = sum(1 for step in steps if step.status == COMPLETED)
    line = f"{completed}/{total} steps completed"
    reused = sum(1 for step in steps if step.reused)
    if reused:
        line += f" ({reused} reused)"
    for label, words in (
        ("running", {RUNNING}),
        ("failed", {FAILED, NOT_RESPONDING}),
        ("canceled", {CANCELED, CANCEL_REQUESTED}),
    ):
        names = sorted(step.name for step in steps if step.status in words)
        if names:
            line += f", {label}: {', '.join(names)}"
    return line


def failure_message(job_name: str, status: str | None, steps: Iterable[StepState]) -> str:
    """Name the steps that failed, with their errors, for the task's exception."""
    if status in PAUSED_STATUSES:
        return (
            f"Azure ML job {job_name} is {status}: it does nothing until someone resumes it in "
            "the Azure ML studio. Resume it there and clear this task to watch it again, or "
            "cancel it; the job was left as it is"
        )
    failed = [step for step in steps if step.status == FAILED]
    if not failed:
        return f"Azure ML job {job_name} ended {status}"
    return f"Azure ML job {job_name} ended {status}: " + "; ".join(map(_step_failure, failed))


def _step_failure(step: StepState) -> str:
    text = f"step {step.name!r} failed" + (f": {step.error}" if step.error else "")
    if step.studio_url:
        text += f"\n  step in the studio: {step.studio_url}"
    if step.log_tail:
        indented = "\n".join(f"    {line}" for line in step.log_tail.splitlines())
        text += f"\n  last lines of its log:\n{indented}"
    return text
