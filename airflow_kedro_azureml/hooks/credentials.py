"""The credential an ``azure_ml`` connection describes: service principal, identity, or chain.

Order: client id + secret -> ``ClientSecretCredential``; client id + certificate ->
``CertificateCredential``; ``workload_identity`` -> ``WorkloadIdentityCredential``;
a managed identity -> ``ManagedIdentityCredential``; otherwise the default chain of
apache-airflow-providers-microsoft-azure. Never an interactive browser login.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from airflow_kedro_azureml.settings import request_timeouts

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

    from airflow_kedro_azureml.connection import ConnectionSettings


def credential_for(settings: ConnectionSettings, secret: str | None) -> TokenCredential:
    """The credential for ``settings``; ``secret`` is the connection's password (client secret)."""
    authority = settings.authority_host_url()
    # A token request that gets no answer fails (and is retried) instead of waiting forever.
    common: dict[str, Any] = request_timeouts()
    if authority:
        common["authority"] = authority
    if settings.disable_instance_discovery:
        common["disable_instance_discovery"] = True
    if settings.client_id and secret:
        from azure.identity import ClientSecretCredential

        tenant_id = settings.require("tenant_id", "a service principal with a client secret")
        return ClientSecretCredential(
            tenant_id=tenant_id,
            client_id=settings.client_id,
            client_secret=secret,
            **common,
        )
    if settings.client_id and (settings.certificate_path or settings.certificate_data):
        from azure.identity import CertificateCredential

        tenant_id = settings.require("tenant_id", "a service principal with a certificate")
        certificate: dict[str, Any] = (
            {"certificate_path": settings.certificate_path}
            if settings.certificate_path
            else {"certificate_data": (settings.certificate_data or "").encode("utf-8")}
        )
        return CertificateCredential(
            tenant_id=tenant_id, client_id=settings.client_id, **certificate, **common
        )
    if settings.workload_identity:
        from azure.identity import WorkloadIdentityCredential

        return WorkloadIdentityCredential(
            tenant_id=settings.tenant_id or os.environ.get("AZURE_TENANT_ID"),
            client_id=settings.client_id or os.environ.get("AZURE_CLIENT_ID"),
            token_file_path=settings.federated_token_file
            or os.environ.get("AZURE_FEDERATED_TOKEN_FILE"),
            **common,
        )
    if settings.managed_identity:
        from azure.identity import ManagedIdentityCredential

        timeouts: dict[str, Any] = request_timeouts()
        return ManagedIdentityCredential(client_id=settings.managed_identity_client_id, **timeouts)
    from airflow.providers.microsoft.azure.utils import get_sync_default_azure_credential

    return get_sync_default_azure_credential(
        managed_identity_client_id=settings.managed_identity_client_id,
        workload_identity_tenant_id=settings.tenant_id,
    )
