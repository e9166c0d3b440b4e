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


def test_form_and_parser_share_one_list_of_extras() -> None:
    from dataclasses import fields

    from airflow_kedro_azureml import get_provider_info
    from airflow_kedro_azureml.connection import EXTRAS, ConnectionSettings

    form = get_provider_info()["connection-types"][0]["conn-fields"]
    assert list(form) == [extra.name for extra in EXTRAS]
    samples = {"text": "value-1", "secret": "value-2", "flag": True, "integer": 3}
    extras = {extra.name: samples[extra.kind] for extra in EXTRAS}
    extras["backend"], extras["cloud"] = "local", "AzureChinaCloud"
    settings = parse_connection("c", "client", extras)
    defaults = ConnectionSettings()
    # every extra of the form is read into the settings...
    for extra in EXTRAS:
        assert getattr(settings, extra.name) != getattr(defaults, extra.name), extra.name
    # ...and every setting comes from an extra, the login, or the connection id
    assert {f.name for f in fields(ConnectionSettings)} == {e.name for e in EXTRAS} | {
        "conn_id",
        "client_id",
    }
