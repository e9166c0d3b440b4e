"""Throw-away TLS material for the emulator: a private CA and a server certificate for 127.0.0.1."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TlsMaterial:
    """A CA bundle file for clients and a server-side SSL context signed by that CA."""

    ca_bundle: Path
    server_context: ssl.SSLContext


def make_tls_material(folder: Path) -> TlsMaterial:
    """Make a CA and a certificate for ``127.0.0.1``/``localhost``; write the CA to ``folder``.

    The CA file is what ``REQUESTS_CA_BUNDLE`` must point at so that azure-core and
    azure-storage trust the emulator.
    """
    try:
        import trustme
    except ImportError as error:  # pragma: no cover - depends on the install
        raise ImportError(
            "the Azure ML emulator needs 'trustme': install airflow-kedro-azureml[testing]"
        ) from error
    authority = trustme.CA(organization_name="airflow-kedro-azureml emulator")
    server_cert = authority.issue_cert("127.0.0.1", "localhost")
    folder.mkdir(parents=True, exist_ok=True)
    ca_bundle = folder / "emulator-ca.pem"
    authority.cert_pem.write_to_path(str(ca_bundle))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_cert.configure_cert(context)
    return TlsMaterial(ca_bundle=ca_bundle, server_context=context)
