"""Runtime params stay data: OmegaConf reads the escaped text back as the original."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from airflow_kedro_azureml.compute.params_escaping import escape_interpolations

AWKWARD = [
    "${HOME}",
    "${oc.env:HOME}",
    "\\${HOME}",
    "\\\\${x}",
    "a\\b${ and } $ {",
    "plain",
    "",
]


@pytest.mark.parametrize("value", AWKWARD)
def test_omegaconf_reads_the_escaped_value_back_unchanged(value: str) -> None:
    config = OmegaConf.create({"p": escape_interpolations(value)})
    assert OmegaConf.to_container(config, resolve=True) == {"p": value}


def test_nested_values_are_escaped_and_other_types_kept() -> None:
    escaped = escape_interpolations({"a": ["${x}", 1, None, True], "b": {"c": "${y}"}})
    config = OmegaConf.create(escaped)
    assert OmegaConf.to_container(config, resolve=True) == {
        "a": ["${x}", 1, None, True],
        "b": {"c": "${y}"},
    }
