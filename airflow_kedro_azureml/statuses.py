"""The one place that knows Azure ML job status words and what each means for a task."""

from __future__ import annotations

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
TERMINAL_STATUSES = SUCCESS_STATUSES | FAILURE_STATUSES


def normalize(status: object) -> str | None:
    """The plain status word: the SDK gives enum members (``JobStatus.FAILED``) or strings."""
    if status is None:
        return None
    value = getattr(status, "value", status)
    text = str(value)
    for known in TERMINAL_STATUSES | {NOT_STARTED, QUEUED, PREPARING, STARTING, RUNNING}:
        if text.lower() == known.lower():
            return known
    return text


def is_terminal(status: str | None) -> bool:
    """True when a job in ``status`` will not change any more."""
    return status in TERMINAL_STATUSES


def is_success(status: str | None) -> bool:
    """True when ``status`` means the job did what it was asked."""
    return status in SUCCESS_STATUSES
