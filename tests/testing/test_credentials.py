"""Tests of the emulator's credential: JWT shape and claims."""

from __future__ import annotations

import base64
import json
import time

import pytest

from airflow_kedro_azureml.testing.credentials import EmulatorCredential, make_unsigned_jwt


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.mark.timeout(10)
def test_token_is_a_three_part_jwt_whose_audience_is_the_scope() -> None:
    token = EmulatorCredential().get_token("https://ml.azure.com/.default")
    parts = token.token.split(".")
    assert len(parts) == 3 and all(parts)
    claims = _claims(token.token)
    assert claims["aud"] == "https://ml.azure.com"
    assert claims["tid"] and claims["oid"]
    assert claims["exp"] == token.expires_on > time.time()


@pytest.mark.timeout(10)
def test_token_info_and_tenant_override() -> None:
    credential = EmulatorCredential(tenant_id="tenant-x")
    info = credential.get_token_info("https://management.azure.com/.default")
    assert _claims(info.token)["aud"] == "https://management.azure.com"
    assert _claims(info.token)["tid"] == "tenant-x"
    other = credential.get_token("https://storage.azure.com/.default", tenant_id="tenant-y")
    assert _claims(other.token)["tid"] == "tenant-y"
    assert credential.calls == 2


@pytest.mark.timeout(10)
def test_unsigned_jwt_header_says_alg_none() -> None:
    header = make_unsigned_jwt({"a": 1}).split(".")[0]
    assert json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["alg"] == "none"


@pytest.mark.timeout(60)
def test_the_emulator_refuses_an_expired_token_as_resource_manager_does(azureml_emulator) -> None:
    from azure.core.exceptions import ClientAuthenticationError

    expired = EmulatorCredential(lifetime_seconds=-5)
    client = azureml_emulator.ml_client(credential=expired)
    with pytest.raises(ClientAuthenticationError, match="ExpiredAuthenticationToken"):
        client.compute.get("cpu-cluster")
    assert azureml_emulator.ml_client().compute.get("cpu-cluster").name == "cpu-cluster"


@pytest.mark.timeout(60)
@pytest.mark.azureml_emulator(token_lifetime=7)
def test_the_emulator_tenant_issues_tokens_of_the_lifetime_asked(azureml_emulator) -> None:
    from azure.identity import ClientSecretCredential

    tenant, client_id = "11111111-2222-3333-4444-555555555555", "c1"
    azureml_emulator.add_service_principal(tenant, client_id, "secret")
    credential = ClientSecretCredential(
        tenant, client_id, "secret", authority=azureml_emulator.url, disable_instance_discovery=True
    )
    token = credential.get_token("https://management.azure.com/.default")
    assert abs(_claims(token.token)["exp"] - time.time() - 7) <= 2


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "tenant", ["contoso.onmicrosoft.com", "ABCDEF01-2222-3333-4444-555555555555"]
)
def test_a_tenant_is_named_by_its_id_or_a_domain_as_in_entra_id(azureml_emulator, tenant) -> None:
    from azure.identity import ClientSecretCredential

    azureml_emulator.add_service_principal(tenant, "c1", "secret")
    credential = ClientSecretCredential(
        tenant, "c1", "secret", authority=azureml_emulator.url, disable_instance_discovery=True
    )
    assert credential.get_token("https://management.azure.com/.default").token
    assert azureml_emulator.ml_client(credential=credential).compute.get("cpu-cluster")
