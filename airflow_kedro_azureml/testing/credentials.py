"""A token credential for tests: hands out unsigned JWTs that the azure-ai-ml SDK accepts."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

DEFAULT_TENANT_ID = "00000000-0000-0000-0000-0000000000aa"
DEFAULT_OBJECT_ID = "00000000-0000-0000-0000-0000000000bb"
_TOKEN_LIFETIME_SECONDS = 3600


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_unsigned_jwt(claims: dict[str, Any]) -> str:
    """Encode ``claims`` as a JWT with ``alg: none`` and a dummy signature part."""
    header = {"alg": "none", "typ": "JWT"}
    parts = [
        _b64url(json.dumps(header, separators=(",", ":")).encode()),
        _b64url(json.dumps(claims, separators=(",", ":")).encode()),
        _b64url(b"emulator-signature"),
    ]
    return ".".join(parts)


def read_unsigned_jwt(token: str) -> dict[str, Any] | None:
    """The claims of a JWT (its signature is not checked), or None if it is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, UnicodeError):
        return None
    return claims if isinstance(claims, dict) else None


class EmulatorCredential:
    """Credential for the emulator: ``get_token`` gives an unsigned JWT whose ``aud`` is the scope.

    The SDK decodes the token of a pipeline submission (without checking the
    signature) and requires ``aud`` to equal the Azure ML resource id, so the
    audience is the requested scope without its ``/.default`` suffix.

    Example::

        credential = EmulatorCredential()
        token = credential.get_token("https://management.azure.com/.default")
    """

    def __init__(
        self,
        *,
        tenant_id: str = DEFAULT_TENANT_ID,
        object_id: str = DEFAULT_OBJECT_ID,
        lifetime_seconds: int = _TOKEN_LIFETIME_SECONDS,
    ) -> None:
        self.tenant_id = tenant_id
        self.object_id = object_id
        self.lifetime_seconds = lifetime_seconds
        self.calls = 0

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        """Return an ``azure.core.credentials.AccessToken`` for the first scope."""
        from azure.core.credentials import AccessToken

        self.calls += 1
        scope = scopes[0] if scopes else "https://management.azure.com/.default"
        audience = scope.removesuffix("/.default")
        now = int(time.time())
        expires_on = now + self.lifetime_seconds
        claims = {
            "aud": audience,
            "iss": f"https://sts.windows.net/{self.tenant_id}/",
            "iat": now,
            "nbf": now,
            "exp": expires_on,
            "tid": kwargs.get("tenant_id") or self.tenant_id,
            "oid": self.object_id,
            "sub": self.object_id,
            "appid": str(uuid.UUID(int=0)),
            "name": "emulator-user",
            "upn": "emulator-user@example.invalid",
        }
        return AccessToken(make_unsigned_jwt(claims), expires_on)

    def get_token_info(self, *scopes: str, options: dict[str, Any] | None = None) -> Any:
        """Return an ``AccessTokenInfo``, for clients that prefer the newer protocol."""
        from azure.core.credentials import AccessTokenInfo

        token = self.get_token(*scopes, **(options or {}))
        return AccessTokenInfo(token.token, token.expires_on)

    def close(self) -> None:
        """Nothing to release; present so the credential can be used as a context manager."""

    def __enter__(self) -> EmulatorCredential:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
