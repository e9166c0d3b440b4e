"""The request and response objects that the emulator's route handlers take and return."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ApiRequest:
    """One HTTP request as a route handler sees it: decoded path, first value of each query key."""

    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        """The body parsed as JSON (``None`` for an empty body)."""
        if not self.body:
            return None
        return json.loads(self.body)

    def header(self, name: str, default: str | None = None) -> str | None:
        """A header value, looked up without regard to case."""
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return default

    def query_value(self, name: str, default: str | None = None) -> str | None:
        """A query parameter value, looked up without regard to case."""
        wanted = name.lower()
        for key, value in self.query.items():
            if key.lower() == wanted:
                return value
        return default


@dataclass
class ApiResponse:
    """One HTTP answer: status, headers and body bytes."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(
        cls, status: int, payload: Any, headers: Mapping[str, str] | None = None
    ) -> ApiResponse:
        """An answer whose body is ``payload`` as JSON."""
        all_headers = {"Content-Type": "application/json; charset=utf-8"}
        all_headers.update(headers or {})
        return cls(status, json.dumps(payload).encode("utf-8"), all_headers)

    @classmethod
    def empty(cls, status: int, headers: Mapping[str, str] | None = None) -> ApiResponse:
        """An answer without a body."""
        return cls(status, b"", dict(headers or {}))

    @classmethod
    def error(
        cls,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
    ) -> ApiResponse:
        """An answer with an Azure-style error body ``{"error": {"code", "message"}}``."""
        return cls.json(status, azure_error_body(code, message), headers)


def azure_error_body(code: str, message: str) -> dict[str, Any]:
    """The error body Azure Resource Manager services answer with."""
    return {"error": {"code": code, "message": message, "details": [], "additionalInfo": []}}


def not_found(kind: str, name: str) -> ApiResponse:
    """A 404 answer naming the missing resource."""
    return ApiResponse.error(404, "ResourceNotFound", f"{kind} {name!r} was not found.")
