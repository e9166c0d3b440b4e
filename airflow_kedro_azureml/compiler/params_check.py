"""Find runtime params that the project does not have, with the nearest key it does have.

Kedro accepts any runtime param and merges it in, so a typo (``factr`` for
``factor``) is silently ignored and the node runs with the project's value.
Here every key of the runtime params, at every level, must name a parameter of
the project (``conf/<env>/parameters*.yml``), unless the caller opts in.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from airflow_kedro_azureml.errors import ParamsError


def unknown_params(
    params: Mapping[str, Any], known: Mapping[str, Any], prefix: str = ""
) -> list[str]:
    """A line per key of ``params`` that ``known`` lacks: the dotted key and the nearest one."""
    problems = []
    for key, value in params.items():
        dotted = f"{prefix}{key}"
        if key not in known:
            nearest = difflib.get_close_matches(str(key), [str(k) for k in known], n=1)
            hint = f" (did you mean {prefix + nearest[0]!r}?)" if nearest else ""
            problems.append(f"{dotted!r}{hint}")
            continue
        if isinstance(value, Mapping) and isinstance(known[key], Mapping):
            problems += unknown_params(value, known[key], f"{dotted}.")
    return problems


def check_params(params: Mapping[str, Any], known: Mapping[str, Any], where: str) -> None:
    """Raise ``ParamsError`` naming every unknown runtime param of ``params``."""
    problems = unknown_params(params, known)
    if problems:
        raise ParamsError(
            f"runtime params not in the project's parameters ({where}): "
            + ", ".join(problems)
            + "; fix the key, add it to parameters.yml, or allow unknown params "
            "(allow_unknown_params=True, or --allow-unknown-params)"
        )
