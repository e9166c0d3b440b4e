"""Tests for parsing an azure_ml connection."""

from __future__ import annotations

import pytest

from airflow_kedro_azureml.connection import parse_connection


def test_defaults_to_azure_ml_backend() -> None:
    settings = parse_connection("c", None, {})
    assert settings.backend == "azureml" and not settings.is_local


def test_local_backend_and_workspace_fields() -> None:
    settings = parse_connection(
        "c",
        "client-id",
        {"backend": "LOCAL", "subscription_id": "s", "extra__azure_ml__resource_group": "r"},
    )
    assert settings.is_local
    assert (settings.subscription_id, settings.resource_group, settings.client_id) == (
        "s",
        "r",
        "client-id",
    )


@pytest.mark.parametrize(
    ("extras", "message"),
    [
        ({"backend": "cloud"}, "extra 'backend' is 'cloud'"),
        ({"local_max_parallel": "many"}, "must be a whole number"),
        ({"local_max_parallel": 0}, ">= 1"),
    ],
)
def test_bad_values_name_connection_and_field(extras: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        parse_connection("my_conn", None, extras)
    assert "'my_conn'" in str(caught.value)
