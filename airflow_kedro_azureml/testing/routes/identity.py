"""Routes of a Microsoft Entra ID tenant: OpenID discovery and the client-credentials token.

Lets real ``azure.identity`` credentials (``ClientSecretCredential``) exchange a
service principal's secret for a token against the emulator, so tests can check
that the secret travels in that exchange and nowhere else. Point the credential
at the emulator with ``authority=emulator.url`` and ``disable_instance_discovery=True``.
"""

from __future__ import annotations

import threading
import time
import uuid
from urllib.parse import parse_qs

from airflow_kedro_azureml.testing.context import EmulatorContext
from airflow_kedro_azureml.testing.credentials import make_unsigned_jwt
from airflow_kedro_azureml.testing.http_messages import ApiRequest, ApiResponse
from airflow_kedro_azureml.testing.routing import Router

# A tenant is named by its id (a GUID) or one of its domains (contoso.onmicrosoft.com).
_TENANT = r"(?P<tenant>[A-Za-z0-9][A-Za-z0-9.-]*)"
TOKEN_PATH = rf"/{_TENANT}/oauth2/v2\.0/token"
DISCOVERY_PATH = rf"/{_TENANT}/v2\.0/\.well-known/openid-configuration"


def is_identity_path(path: str) -> bool:
    """Whether ``path`` is one of the tenant endpoints (they take no bearer token)."""
    parts = path.split("/")
    return (
        len(parts) >= 3
        and parts[1] not in ("subscriptions", "providers", "emulatorstorage", "studio")
        and parts[2] in ("oauth2", "v2.0")
    )


class IdentityRoutes:
    """A tenant's ``/{tenant}/v2.0/.well-known/openid-configuration`` and token endpoint."""

    def __init__(self, context: EmulatorContext) -> None:
        self.context = context
        self._lock = threading.Lock()
        self._secrets: dict[tuple[str, str], str] = {}
        self.tokens_issued = 0

    def register(self, router: Router) -> None:
        """Add this group's routes to ``router``."""
        router.add("GET", DISCOVERY_PATH, self.discovery)
        router.add("POST", TOKEN_PATH, self.token)

    def add_service_principal(self, tenant_id: str, client_id: str, secret: str) -> None:
        """Accept ``secret`` for ``client_id`` in ``tenant_id``."""
        with self._lock:
            self._secrets[(tenant_id.lower(), client_id.lower())] = secret

    def discovery(self, request: ApiRequest) -> ApiResponse:
        tenant = request.params["tenant"]
        base = f"{self.context.base_url}/{tenant}"
        return ApiResponse.json(
            200,
            {
                "issuer": f"{base}/v2.0",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "response_types_supported": ["code", "id_token", "token"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
                "tenant_region_scope": None,
            },
        )

    def token(self, request: ApiRequest) -> ApiResponse:
        tenant = request.params["tenant"].lower()
        form = {key: values[0] for key, values in parse_qs(request.body.decode("utf-8")).items()}
        client_id = (form.get("client_id") or "").lower()
        with self._lock:
            expected = self._secrets.get((tenant, client_id))
        if form.get("grant_type") != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type", "only client_credentials")
        if expected is None or form.get("client_secret") != expected:
            return _oauth_error(
                401, "invalid_client", "AADSTS7000215: Invalid client secret provided."
            )
        scope = (form.get("scope") or "").split()[0] if form.get("scope") else ""
        now = int(time.time())
        claims = {
            "aud": scope.removesuffix("/.default"),
            "iss": f"https://sts.windows.net/{tenant}/",
            "iat": now,
            "nbf": now,
            "exp": now + self.context.token_lifetime,
            "tid": tenant,
            "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, client_id)),
            "appid": client_id,
        }
        with self._lock:
            self.tokens_issued += 1
        return ApiResponse.json(
            200,
            {
                "token_type": "Bearer",
                "expires_in": self.context.token_lifetime,
                "ext_expires_in": self.context.token_lifetime,
                "access_token": make_unsigned_jwt(claims),
            },
        )


def _oauth_error(status: int, code: str, description: str) -> ApiResponse:
    return ApiResponse.json(status, {"error": code, "error_description": description})
