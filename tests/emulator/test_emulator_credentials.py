"""Entra ID: every credential type the operator may use gets a token the emulator's ARM accepts."""

from __future__ import annotations

import base64
import datetime
import json
import ssl
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ClientSecretCredential as SyncClientSecretCredential
from azure.identity.aio import CertificateCredential, WorkloadIdentityCredential
from azure.mgmt.compute.aio import ComputeManagementClient
from azure_emulator.inventory import DEFAULT_CLIENT_ID, DEFAULT_TENANT_ID
from azure_emulator.server import EmulatorProcess
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from emulator_support import SUB

ISSUER = "https://kubernetes.default.svc.cluster.local"
SUBJECT = "system:serviceaccount:azbackup-system:azbackup-operator"


def certificate(tmp_path: Path, name: str) -> tuple[Path, str]:
    """A self-signed RSA certificate: (path of key+cert PEM, PEM of the certificate)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    path = tmp_path / f"{name}.pem"
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        + cert_pem
    )
    return path, cert_pem.decode()


def service_account_token(subject: str = SUBJECT, lifetime: int = 3600) -> str:
    """An (unsigned) projected service-account token as Kubernetes writes it for workload identity."""

    def enc(d: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {"iss": ISSUER, "sub": subject, "aud": ["api://AzureADTokenExchange"], "iat": now, "exp": now + lifetime}
    return f"{enc({'alg': 'RS256', 'kid': 'k'})}.{enc(claims)}.c2ln"


async def vm_name(emu: EmulatorProcess, credential: Any) -> str:
    async with ComputeManagementClient(
        credential, SUB, base_url=emu.url, credential_scopes=[emu.url + "/.default"], connection_verify=emu.ca_bundle
    ) as client:
        return str((await client.virtual_machines.get("rg-web", "vm-web-01")).name)


async def test_client_certificate_credential(emu: EmulatorProcess, tmp_path: Path) -> None:
    path, pem = certificate(tmp_path, "operator")
    emu.admin.add_identity({"clientId": "44444444-4444-4444-4444-444444444444", "certificate": pem})
    async with CertificateCredential(
        DEFAULT_TENANT_ID,
        "44444444-4444-4444-4444-444444444444",
        str(path),
        authority=emu.url,
        disable_instance_discovery=True,
        connection_verify=emu.ca_bundle,
    ) as cred:
        assert await vm_name(emu, cred) == "vm-web-01"


async def test_unregistered_certificate_is_refused(emu: EmulatorProcess, tmp_path: Path) -> None:
    _, pem = certificate(tmp_path, "registered")
    other, _ = certificate(tmp_path, "other")
    emu.admin.add_identity({"clientId": "55555555-5555-5555-5555-555555555555", "certificate": pem})
    async with CertificateCredential(
        DEFAULT_TENANT_ID,
        "55555555-5555-5555-5555-555555555555",
        str(other),
        authority=emu.url,
        disable_instance_discovery=True,
        connection_verify=emu.ca_bundle,
    ) as cred:
        with pytest.raises(ClientAuthenticationError, match="AADSTS700027"):
            await vm_name(emu, cred)


async def test_workload_identity_credential(emu: EmulatorProcess, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(service_account_token())
    async with WorkloadIdentityCredential(
        tenant_id=DEFAULT_TENANT_ID,
        client_id=DEFAULT_CLIENT_ID,
        token_file_path=str(token_file),
        authority=emu.url,
        disable_instance_discovery=True,
        connection_verify=emu.ca_bundle,
    ) as cred:
        assert await vm_name(emu, cred) == "vm-web-01"


async def test_workload_identity_with_unknown_subject_is_refused(emu: EmulatorProcess, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(service_account_token(subject="system:serviceaccount:other:sa"))
    async with WorkloadIdentityCredential(
        tenant_id=DEFAULT_TENANT_ID,
        client_id=DEFAULT_CLIENT_ID,
        token_file_path=str(token_file),
        authority=emu.url,
        disable_instance_discovery=True,
        connection_verify=emu.ca_bundle,
    ) as cred:
        with pytest.raises(ClientAuthenticationError, match="AADSTS70021"):
            await vm_name(emu, cred)


def test_sync_msal_credential_reads_the_openid_configuration(emu: EmulatorProcess) -> None:
    cred = SyncClientSecretCredential(
        DEFAULT_TENANT_ID,
        DEFAULT_CLIENT_ID,
        "emulator-secret",
        authority=emu.url,
        disable_instance_discovery=True,
        connection_verify=emu.ca_bundle,
    )
    token = cred.get_token(emu.url + "/.default")
    assert token.token.count(".") == 2
    assert emu.admin.count("Entra_OpenIdConfiguration") >= 1


@pytest.mark.parametrize(
    ("tenant", "form", "status", "error"),
    [
        pytest.param(
            "99999999-9999-9999-9999-999999999999",
            {"client_id": DEFAULT_CLIENT_ID, "client_secret": "x"},
            400,
            "invalid_request",
            id="unknown-tenant",
        ),
        pytest.param(
            DEFAULT_TENANT_ID,
            {"client_id": "unknown", "client_secret": "x"},
            400,
            "unauthorized_client",
            id="unknown-client",
        ),
        pytest.param(DEFAULT_TENANT_ID, {"client_id": DEFAULT_CLIENT_ID}, 401, "invalid_client", id="no-credential"),
        pytest.param(
            DEFAULT_TENANT_ID,
            {
                "client_id": DEFAULT_CLIENT_ID,
                "client_secret": "emulator-secret",
                "scope": "https://management.azure.com/user_impersonation",
            },
            400,
            "invalid_scope",
            id="scope-without-default",
        ),
        pytest.param(
            DEFAULT_TENANT_ID,
            {"client_id": DEFAULT_CLIENT_ID, "client_secret": "emulator-secret", "grant_type": "password"},
            400,
            "unsupported_grant_type",
            id="wrong-grant",
        ),
    ],
)
async def test_token_endpoint_errors_use_the_entra_format(
    emu: EmulatorProcess, tenant: str, form: dict[str, str], status: int, error: str
) -> None:
    data = {"grant_type": "client_credentials", "scope": "https://management.azure.com/.default", **form}
    ctx = ssl.create_default_context(cafile=emu.ca_bundle)
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{emu.url}/{tenant}/oauth2/v2.0/token", data=data, ssl=ctx) as resp,
    ):
        body = await resp.json()
    assert (resp.status, body["error"]) == (status, error)
    assert body["error_description"].startswith("AADSTS")
