"""The rules of watching a job, shared by the worker-mode wait and the trigger.

``JobWatch`` decides and remembers; it does no I/O and never sleeps, so the
operator (blocking, in the worker) and ``AzureMLJobTrigger`` (async, in the
triggerer) follow the same rules: back off while Azure ML answers with transient
errors (doubling up to ``MAX_POLL_BACKOFF``), poll at ``poll_interval`` otherwise,
log the progress line only when it changes, and stop at ``end_time``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from airflow_kedro_azureml.settings import MAX_POLL_BACKOFF
from airflow_kedro_azureml.statuses import JobState, progress_line


@dataclass
class JobWatch:
    """One wait for job ``job_name``: when to look next, what to log, when to give up."""

    job_name: str
    poll_interval: float
    total_steps: int | None = None
    end_time: float | None = None
    log: Any = field(default_factory=lambda: logging.getLogger(__name__))
    """Where progress and transient errors are logged (the task's or the trigger's log)."""
    _delay: float = field(init=False, default=0.0)
    _last_line: str = field(init=False, default="")

    def __post_init__(self) -> None:
        self._delay = self.poll_interval

    def timed_out(self) -> bool:
        """Whether ``end_time`` has passed."""
        return self.end_time is not None and time.time() >= self.end_time

    def after_transient_error(self, error: Exception) -> float:
        """Log that the look failed this time; the seconds to wait before the next one."""
        self.log.warning("Could not get job %s (%s); will try again", self.job_name, error)
        delay = self._delay
        self._delay = min(self._delay * 2, MAX_POLL_BACKOFF)
        return delay

    def after_look(self, state: JobState) -> float:
        """Log progress if it changed; the seconds to wait before the next look."""
        self._delay = self.poll_interval
        if state.steps is not None:
            line = progress_line(state.steps, self.total_steps or len(state.steps))
            if line != self._last_line:
                self.log.info("Job %s %s: %s", self.job_name, state.status, line)
                self._last_line = line
        return self.poll_interval
