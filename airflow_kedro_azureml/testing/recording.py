"""Recording of every request the emulator receives, for tests to inspect."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Headers and query keys that carry credentials: never kept in a recording. Authorization
# is dropped; the others keep their name (so a test can see they were sent) but not value.
_DROPPED_HEADERS = frozenset({"authorization"})
_SECRET_HEADERS = frozenset({"x-azureml-token", "x-ms-copy-source-authorization"})
_SECRET_QUERY_KEYS = frozenset({"sig"})
REDACTED = "<redacted>"


@dataclass(frozen=True)
class RecordedRequest:
    """One request and its answer, with credentials removed."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    status: int | None
    started_at: float
    duration: float
    fault: str | None = None
    sequence: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def json(self) -> Any:
        """The body parsed as JSON, or ``None`` when it is empty or not JSON."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def header(self, name: str) -> str | None:
        """A recorded header, looked up without regard to case."""
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Drop ``Authorization``; replace the values of other credential-bearing headers."""
    return {
        key: (REDACTED if key.lower() in _SECRET_HEADERS else value)
        for key, value in headers.items()
        if key.lower() not in _DROPPED_HEADERS
    }


def redact_query(query: Mapping[str, str]) -> dict[str, str]:
    """Replace SAS signatures in a query with a placeholder."""
    return {
        key: (REDACTED if key.lower() in _SECRET_QUERY_KEYS else value)
        for key, value in query.items()
    }


class RequestLog:
    """Thread-safe list of :class:`RecordedRequest`, filterable by method and path."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[RecordedRequest] = []
        self._sequence = 0

    def add(self, entry: RecordedRequest) -> RecordedRequest:
        """Append ``entry`` (numbered in arrival order) and return the stored copy."""
        with self._lock:
            self._sequence += 1
            stored = RecordedRequest(
                method=entry.method,
                path=entry.path,
                query=entry.query,
                headers=entry.headers,
                body=entry.body,
                status=entry.status,
                started_at=entry.started_at,
                duration=entry.duration,
                fault=entry.fault,
                sequence=self._sequence,
                extra=entry.extra,
            )
            self._entries.append(stored)
            return stored

    def select(
        self,
        method: str | None = None,
        path_regex: str | None = None,
        *,
        status: int | None = None,
        query: Mapping[str, str] | None = None,
    ) -> list[RecordedRequest]:
        """Requests matching every given filter, oldest first.

        ``path_regex`` is searched (``re.search``) in the decoded path, without the query;
        ``query`` requires each key to be present with exactly that value.
        """
        pattern = re.compile(path_regex) if path_regex else None
        with self._lock:
            entries = list(self._entries)
        found = []
        for entry in entries:
            if method and entry.method.upper() != method.upper():
                continue
            if pattern and not pattern.search(entry.path):
                continue
            if status is not None and entry.status != status:
                continue
            if query and any(entry.query.get(key) != value for key, value in query.items()):
                continue
            found.append(entry)
        return found

    def clear(self) -> None:
        """Forget every recorded request."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
