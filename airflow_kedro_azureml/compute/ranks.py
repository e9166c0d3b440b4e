"""Which process of a distributed step this is: only rank 0 saves the step's outputs.

Azure ML starts a distributed step's command once per process and tells each its
place through the framework's own variables: ``RANK`` (PyTorch), ``OMPI_COMM_WORLD_RANK``
or ``PMI_RANK`` (MPI), ``TF_CONFIG`` (TensorFlow: the chief, or worker 0 when there is
no chief, is rank 0). Every process runs the step's nodes, so a node can take part in
the distributed work; the others keep their outputs in memory and save nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

_RANK_VARIABLES = ("RANK", "OMPI_COMM_WORLD_RANK", "PMI_RANK")


def process_rank(environ: Mapping[str, str] | None = None) -> int | None:
    """This process's rank in a distributed step; None when the step is not distributed."""
    env = os.environ if environ is None else environ
    for name in _RANK_VARIABLES:
        value = env.get(name, "").strip()
        if value.isdigit():
            return int(value)
    return _tensorflow_rank(env.get("TF_CONFIG"))


def _tensorflow_rank(text: str | None) -> int | None:
    if not text:
        return None
    try:
        config = json.loads(text)
        task = config["task"]
        kind, index = str(task["type"]), int(task["index"])
    except (ValueError, KeyError, TypeError):
        return None
    has_chief = bool((config.get("cluster") or {}).get("chief"))
    if kind == "chief":
        return 0
    if kind == "worker":
        return index + 1 if has_chief else index
    return 1 + index + len((config.get("cluster") or {}).get("worker") or [])  # ps, evaluator


def saves_outputs(environ: Mapping[str, str] | None = None) -> bool:
    """Whether this process saves the step's outputs: not distributed, or rank 0."""
    return process_rank(environ) in (None, 0)
