"""What happens to each request: fault injection, routing, workspace and token checks, recording."""

from __future__ import annotations

import logging
import threading
import time
import traceback
from typing import Any

from airflow_kedro_azureml.testing.credentials import read_unsigned_jwt
from airflow_kedro_azureml.testing.faults import Fault, FaultInjector
from airflow_kedro_azureml.testing.http_messages import ApiRequest, ApiResponse
from airflow_kedro_azureml.testing.recording import (
    RecordedRequest,
    RequestLog,
    redact_headers,
    redact_query,
)
from airflow_kedro_azureml.testing.routes.blobs import storage_error
from airflow_kedro_azureml.testing.routes.identity import is_identity_path
from airflow_kedro_azureml.testing.routing import Router
from airflow_kedro_azureml.testing.server import Outcome
from airflow_kedro_azureml.testing.state import WorkspaceIdentity

logger = logging.getLogger(__name__)

_FAULT_ERRORS = {
    "401": (
        "ExpiredAuthenticationToken",
        "The access token expiry UTC time is earlier than current UTC time "
        "(fault injected by the emulator).",
    ),
    "429": ("TooManyRequests", "Too many requests (fault injected by the emulator)."),
    "500": ("InternalServerError", "Internal server error (fault injected by the emulator)."),
    "503": ("ServiceUnavailable", "Service unavailable (fault injected by the emulator)."),
}


def _refused_token(authorization: str) -> ApiResponse | None:
    """The 401 Azure Resource Manager gives a missing, malformed or expired token; else None.

    Tokens are JWTs whose signature is not checked; ``exp`` is, with no clock skew allowed.
    """
    challenge = {"WWW-Authenticate": 'Bearer authorization_uri="https://login.invalid"'}
    if not authorization.startswith("Bearer "):
        return ApiResponse.error(
            401, "AuthenticationFailed", "The request has no bearer token.", challenge
        )
    claims = read_unsigned_jwt(authorization.removeprefix("Bearer ").strip())
    if claims is None:
        return ApiResponse.error(
            401, "InvalidAuthenticationToken", "The access token is invalid.", challenge
        )
    expires = claims.get("exp")
    now = time.time()
    if isinstance(expires, int | float) and expires < now:
        code, _ = _FAULT_ERRORS["401"]
        stamp = "%Y-%m-%dT%H:%M:%S.0000000Z"
        message = (
            f"The access token expiry UTC time '{time.strftime(stamp, time.gmtime(expires))}' "
            f"is earlier than current UTC time '{time.strftime(stamp, time.gmtime(now))}'."
        )
        return ApiResponse.error(401, code, message, _expired_challenge())
    return None


def _expired_challenge() -> dict[str, str]:
    return {
        "WWW-Authenticate": (
            'Bearer authorization_uri="https://login.microsoftonline.com/common", '
            'error="invalid_token", error_description="The access token has expired."'
        )
    }


class RequestProcessor:
    """Turns an ``ApiRequest`` into an ``Outcome`` and records both; called from many threads."""

    def __init__(
        self,
        *,
        router: Router,
        identity: WorkspaceIdentity,
        faults: FaultInjector,
        log: RequestLog,
        storage_account: str,
    ) -> None:
        self.router = router
        self.identity = identity
        self.faults = faults
        self.log = log
        self.storage_account = storage_account
        self._errors: list[str] = []
        self._errors_lock = threading.Lock()

    @property
    def errors(self) -> list[str]:
        """Tracebacks of handlers that raised."""
        with self._errors_lock:
            return list(self._errors)

    def __call__(self, request: ApiRequest) -> Outcome:
        started = time.time()
        clock = time.monotonic()
        fault = self.faults.take(request.method, request.path)
        extra: dict[str, Any] = {}
        if fault is None:
            outcome = Outcome(self.dispatch(request, extra))
        elif fault.kind == "slow":
            time.sleep(fault.delay)
            outcome = Outcome(self.dispatch(request, extra))
        elif fault.kind == "drop":
            if fault.phase == "after":
                self.dispatch(request, extra)
            outcome = Outcome(None, drop=True)
        else:
            outcome = Outcome(self._fault_response(fault, request))
        self.log.add(
            RecordedRequest(
                method=request.method,
                path=request.path,
                query=redact_query(request.query),
                headers=redact_headers(request.headers),
                body=request.body,
                status=None if outcome.response is None else outcome.response.status,
                started_at=started,
                duration=time.monotonic() - clock,
                fault=fault.kind if fault is not None else None,
                extra=extra,
            )
        )
        return outcome

    def is_storage_path(self, path: str) -> bool:
        """Whether ``path`` addresses the emulator's blob storage."""
        return path.startswith(f"/{self.storage_account}/")

    def _is_anonymous_path(self, path: str) -> bool:
        """Storage (SAS/SharedKey), the discovery document and log files need no bearer token."""
        return (
            self.is_storage_path(path)
            or path.startswith(("/discovery/", "/logs/"))
            or is_identity_path(path)
        )

    def _fault_response(self, fault: Fault, request: ApiRequest) -> ApiResponse:
        code, message = _FAULT_ERRORS[fault.kind]
        headers = {}
        if fault.kind == "401":
            headers.update(_expired_challenge())
        if fault.retry_after is not None:
            retry_after = float(fault.retry_after)
            headers["Retry-After"] = (
                str(int(retry_after)) if retry_after.is_integer() else str(retry_after)
            )
        if self.is_storage_path(request.path):
            response = storage_error(int(fault.kind), code, message)
            response.headers.update(headers)
            return response
        return ApiResponse.error(int(fault.kind), code, message, headers)

    def dispatch(self, request: ApiRequest, extra: dict[str, Any]) -> ApiResponse:
        """Route and handle one request (no faults, no recording)."""
        resolved = self.router.resolve(request.method, request.path)
        if resolved is None:
            extra["unrouted"] = True
            if self.router.allows_path(request.path):
                return ApiResponse.error(
                    405, "MethodNotAllowed", f"{request.method} is not supported on this path."
                )
            return ApiResponse.error(
                404,
                "NoRouteFound",
                f"The emulator has no route for {request.method} {request.path}.",
            )
        handler, params = resolved
        if "subscription" in params and not self.identity.matches(
            params["subscription"], params["resource_group"], params["workspace"]
        ):
            return ApiResponse.error(
                404,
                "ResourceNotFound",
                f"Workspace '{params['workspace']}' in resource group "
                f"'{params['resource_group']}' was not found.",
            )
        if not self._is_anonymous_path(request.path):
            refused = _refused_token(request.header("Authorization") or "")
            if refused is not None:
                return refused
        request.params = params
        try:
            return handler(request)
        except Exception:  # a bug in a handler must not kill the connection thread
            details = traceback.format_exc()
            with self._errors_lock:
                self._errors.append(details)
            logger.error(
                "emulator handler failed for %s %s\n%s", request.method, request.path, details
            )
            return ApiResponse.error(500, "EmulatorError", details.splitlines()[-1])
