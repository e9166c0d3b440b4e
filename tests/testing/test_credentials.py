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
