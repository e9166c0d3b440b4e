"""Warnings that would flood every log of a step or a compile without telling the user anything."""

from __future__ import annotations

import warnings


def quiet_config_loader_warnings() -> None:
    """Hide OmegaConf's ``register_new_resolver() is deprecated`` warnings.

    Kedro's config loader calls that deprecated function several times each time it
    is created (once per step, once per compile); each call would put a multi-line
    warning into the log that the user can do nothing about.
    """
    warnings.filterwarnings("ignore", message=r"register_new_resolver\(\) is deprecated")
