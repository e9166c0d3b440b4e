"""Keep runtime params as data: text that looks like an OmegaConf interpolation stays text.

Kedro merges runtime params into the project's parameters with OmegaConf, which
would read ``"${HOME}"`` in a value as an interpolation (and fail, or put
something else in its place). A param is data sent from Airflow, so every
``${`` in a string is escaped the way OmegaConf reads back as a literal ``${``:
``n`` backslashes before it become ``2n + 1``.
"""

from __future__ import annotations

import re
from typing import Any

_BACKSLASHES_BEFORE_INTERPOLATION = re.compile(r"(\\*)\$\{")


def escape_interpolations(value: Any) -> Any:
    """``value`` with every string in it escaped for OmegaConf (dicts and lists walked)."""
    if isinstance(value, str):
        return _BACKSLASHES_BEFORE_INTERPOLATION.sub(
            lambda match: "\\" * (2 * len(match.group(1)) + 1) + "${", value
        )
    if isinstance(value, dict):
        return {key: escape_interpolations(item) for key, item in value.items()}
    if isinstance(value, list):
        return [escape_interpolations(item) for item in value]
    return value
