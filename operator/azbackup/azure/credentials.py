"""Which Azure identity an object uses: the operator's own, or a credentialRef Secret's.

The Secret's values stay inside `CredentialSource`, whose repr hides them, so a source can be logged,
put in an exception or compared without leaking anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from azbackup.azure import errors

TENANT, CLIENT_ID = "AZURE_TENANT_ID", "AZURE_CLIENT_ID"
CLIENT_SECRET, CERTIFICATE = "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE"
CERTIFICATE_PASSWORD, TOKEN_FILE = "AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_FEDERATED_TOKEN_FILE"


@dataclass(frozen=True)
class CredentialSource:
    """An identity: `default` (DefaultAzureCredential) or one read from a Secret."""

    kind: str  # default | secret | certificate | workload
    key: str = "default"  # cache key: namespace/name and a digest of the values
    tenant_id: str = ""
    client_id: str = ""
    secret: str = field(default="", repr=False)
    certificate: bytes = field(default=b"", repr=False)
    certificate_password: str = field(default="", repr=False)
    token_file: str = ""

    @classmethod
    def default(cls) -> CredentialSource:
        return cls("default")

    @classmethod
    def from_secret(cls, namespace: str, name: str, data: Mapping[str, str]) -> CredentialSource:
        """From decoded Secret data; raises SecretInvalid naming the missing keys (never the values)."""
        tenant, client = data.get(TENANT, "").strip(), data.get(CLIENT_ID, "").strip()
        missing = [k for k, v in ((TENANT, tenant), (CLIENT_ID, client)) if not v]
        if missing:
            raise errors.SecretInvalid(f"Secret {namespace}/{name} lacks {', '.join(missing)}")
        digest = hashlib.sha256(repr(sorted(data.items())).encode()).hexdigest()[:16]
        key = f"{namespace}/{name}#{digest}"
        if data.get(CLIENT_SECRET):
            return cls("secret", key, tenant, client, secret=data[CLIENT_SECRET])
        if data.get(CERTIFICATE):
            return cls("certificate", key, tenant, client, certificate=data[CERTIFICATE].encode(),
                       certificate_password=data.get(CERTIFICATE_PASSWORD, ""))
        if data.get(TOKEN_FILE):
            return cls("workload", key, tenant, client, token_file=data[TOKEN_FILE])
        raise errors.SecretInvalid(
            f"Secret {namespace}/{name} has none of {CLIENT_SECRET}, {CERTIFICATE} or {TOKEN_FILE}")


def invalid_secret(source: CredentialSource, exc: ValueError) -> errors.SecretInvalid:
    """azure-identity's refusal of a Secret's value (a garbage tenant id, an unreadable certificate) as
    SecretInvalid naming the key. The value itself is never quoted; azure-identity's text does not hold it."""
    where = source.key.split("#", 1)[0]
    text = str(exc).lower()
    if "tenant" in text:
        key = TENANT
    elif source.kind == "certificate":
        key = f"{CERTIFICATE} (or {CERTIFICATE_PASSWORD})" if "password" in text else CERTIFICATE
    elif "client" in text and "id" in text:
        key = CLIENT_ID
    else:
        key = {"secret": CLIENT_SECRET, "workload": TOKEN_FILE}.get(source.kind, "a credential key")
    reason = errors.first_sentence(str(exc))
    return errors.SecretInvalid(f"Secret {where}: {key} is not valid ({reason})")
