"""Name one pipeline job per Airflow task run, the same on every retry of that run.

A retry after a worker crash derives the same name, so it can re-attach to the
job that is still running instead of submitting a second one.
"""

from __future__ import annotations

import hashlib
import re

_MAX_PREFIX = 60


def job_name_for(dag_id: str, task_id: str, dag_run_id: str, map_index: int | None) -> str:
    """A valid Azure ML job name unique to (dag, run, task, map index)."""
    index = -1 if map_index is None else map_index
    key = f"{dag_id}\n{dag_run_id}\n{task_id}\n{index}"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    prefix = re.sub(r"[^a-z0-9_]+", "_", f"{dag_id}_{task_id}".lower()).strip("_")
    prefix = prefix[:_MAX_PREFIX].rstrip("_") or "kedro"
    if not prefix[0].isalpha():
        prefix = "kedro_" + prefix
    return f"{prefix}_{digest}"
