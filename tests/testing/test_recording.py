"""Tests of the request log: filters and removal of credentials."""

from __future__ import annotations

import pytest

from airflow_kedro_azureml.testing.recording import (
    REDACTED,
    RecordedRequest,
    RequestLog,
    redact_headers,
    redact_query,
)


def _entry(method: str, path: str, status: int = 200, **query: str) -> RecordedRequest:
    return RecordedRequest(method, path, query, {}, b'{"a": 1}', status, 0.0, 0.0)


@pytest.mark.timeout(10)
def test_select_filters_by_method_path_status_and_query() -> None:
    log = RequestLog()
    log.add(_entry("PUT", "/ws/jobs/a"))
    log.add(_entry("GET", "/ws/jobs/a"))
    log.add(_entry("PUT", "/ws/jobs/a/cancel", status=202))
    log.add(_entry("GET", "/ws/codes/x/versions", hash="abc"))
    assert [e.sequence for e in log.select("PUT", r"/jobs/[^/]+$")] == [1]
    assert [e.path for e in log.select(status=202)] == ["/ws/jobs/a/cancel"]
    assert len(log.select(query={"hash": "abc"})) == 1
    assert log.select()[0].json == {"a": 1}
    log.clear()
    assert len(log) == 0


@pytest.mark.timeout(10)
def test_credentials_are_never_recorded() -> None:
    headers = {"Authorization": "Bearer x", "x-azureml-token": "y", "Accept": "json"}
    assert redact_headers(headers) == {"x-azureml-token": REDACTED, "Accept": "json"}
    assert redact_query({"sig": "secret", "sv": "1"}) == {"sig": REDACTED, "sv": "1"}
