"""The HTTPS server and request processing, spoken to with plain http.client."""

from __future__ import annotations

import http.client
import json
import ssl
import time
from collections.abc import Iterator

import pytest

from airflow_kedro_azureml.testing import AzureMLEmulator
from airflow_kedro_azureml.testing.credentials import EmulatorCredential
from airflow_kedro_azureml.testing.server import EmulatorRequestHandler

TOKEN = EmulatorCredential().get_token("https://management.azure.com/.default").token
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def connection(azureml_emulator: AzureMLEmulator) -> Iterator[http.client.HTTPSConnection]:
    context = ssl.create_default_context(cafile=str(azureml_emulator.ca_bundle))
    conn = http.client.HTTPSConnection("127.0.0.1", azureml_emulator.port, context=context)
    yield conn
    conn.close()


def _call(
    conn: http.client.HTTPSConnection,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    return response.status, dict(response.getheaders()), response.read()


@pytest.mark.timeout(30)
def test_workspace_over_tls_trusted_by_the_ca_bundle(
    azureml_emulator: AzureMLEmulator, connection: http.client.HTTPSConnection
) -> None:
    status, _, body = _call(connection, "GET", azureml_emulator.workspace_arm_id, headers=BEARER)
    assert status == 200
    workspace = json.loads(body)
    assert workspace["id"] == azureml_emulator.workspace_arm_id
    assert workspace["properties"]["discoveryUrl"].startswith(azureml_emulator.url)


@pytest.mark.timeout(30)
def test_keep_alive_requests_do_not_stall(
    azureml_emulator: AzureMLEmulator, connection: http.client.HTTPSConnection
) -> None:
    assert EmulatorRequestHandler.disable_nagle_algorithm is True
    path = azureml_emulator.workspace_arm_id + "/computes/cpu-cluster"
    _call(connection, "GET", path, headers=BEARER)
    started = time.monotonic()
    for _ in range(30):
        assert _call(connection, "GET", path, headers=BEARER)[0] == 200
    # With Nagle's algorithm on, each answer waits ~40 ms for a delayed ACK.
    assert time.monotonic() - started < 0.9


@pytest.mark.timeout(30)
def test_errors_are_azure_shaped_and_recorded_without_credentials(
    azureml_emulator: AzureMLEmulator, connection: http.client.HTTPSConnection
) -> None:
    ws = azureml_emulator.workspace_arm_id
    status, _, body = _call(connection, "GET", ws + "/computes/missing", headers=BEARER)
    assert status == 404 and json.loads(body)["error"]["code"] == "ResourceNotFound"
    status, _, body = _call(connection, "GET", ws + "/nothing/here", headers=BEARER)
    assert status == 404 and json.loads(body)["error"]["code"] == "NoRouteFound"
    assert [r.path for r in azureml_emulator.unrouted_requests()] == [ws + "/nothing/here"]
    status, headers, _ = _call(connection, "GET", ws)
    assert status == 401 and "WWW-Authenticate" in headers
    status, _, body = _call(connection, "GET", ws, headers={"Authorization": "Bearer not-a-jwt"})
    assert status == 401 and json.loads(body)["error"]["code"] == "InvalidAuthenticationToken"
    other = ws.replace(azureml_emulator.workspace_name, "other-ws")
    assert _call(connection, "GET", other + "/computes/cpu-cluster", headers=BEARER)[0] == 404
    secret = {"Authorization": "Bearer very-secret", "x-azureml-token": "also-secret"}
    _call(connection, "GET", ws, headers=secret)
    for recorded in azureml_emulator.requests():
        assert "very-secret" not in json.dumps(dict(recorded.headers))
        assert "also-secret" not in json.dumps(dict(recorded.headers))


@pytest.mark.timeout(30)
def test_blob_endpoints(
    azureml_emulator: AzureMLEmulator, connection: http.client.HTTPSConnection
) -> None:
    blob = "/emulatorstorage/box/folder/file.txt?sv=1&sig=s3cret"
    assert _call(connection, "HEAD", blob)[0] == 404
    put_headers = {"x-ms-blob-type": "BlockBlob", "If-None-Match": "*", "x-ms-meta-a": "1"}
    status, headers, _ = _call(connection, "PUT", blob, b"0123456789", put_headers)
    assert status == 201 and headers["ETag"]
    assert _call(connection, "PUT", blob, b"again", put_headers)[0] == 409
    metadata = "/emulatorstorage/box/folder/file.txt?comp=metadata&sig=s3cret"
    assert _call(connection, "PUT", metadata, b"", {"x-ms-meta-done": "yes"})[0] == 200
    status, headers, _ = _call(connection, "HEAD", blob)
    assert status == 200 and headers["x-ms-meta-done"] == "yes"
    assert headers["Content-Length"] == "10"
    status, headers, body = _call(connection, "GET", blob, headers={"x-ms-range": "bytes=2-4"})
    assert (status, body, headers["Content-Range"]) == (206, b"234", "bytes 2-4/10")
    listing = "/emulatorstorage/box?restype=container&comp=list&prefix=folder/&include=metadata"
    status, _, body = _call(connection, "GET", listing)
    assert status == 200 and b"<Name>folder/file.txt</Name>" in body and b"<done>yes</done>" in body
    assert all("s3cret" not in json.dumps(dict(r.query)) for r in azureml_emulator.requests())


@pytest.mark.timeout(30)
def test_drop_fault_closes_the_connection_without_an_answer(
    azureml_emulator: AzureMLEmulator, connection: http.client.HTTPSConnection
) -> None:
    azureml_emulator.inject_fault(kind="drop", method="GET", path_regex=r"/computes/")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        _call(connection, "GET", azureml_emulator.workspace_arm_id + "/computes/cpu-cluster")
    (dropped,) = azureml_emulator.requests("GET", r"/computes/")
    assert dropped.status is None and dropped.fault == "drop"
