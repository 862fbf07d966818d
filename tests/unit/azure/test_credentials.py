"""A credential Secret whose values azure-identity refuses is SecretInvalid naming the key, never the value."""

from __future__ import annotations

import asyncio

import pytest
from azbackup.azure import errors
from azbackup.azure.credentials import CredentialSource
from azbackup.azure.gateway import AzureSettings, Gateway

PEM = "-----BEGIN CERTIFICATE-----\nc2VjcmV0LXBlbQ==\n-----END CERTIFICATE-----"
TENANT = "11111111-1111-1111-1111-111111111111"
CLIENT = "22222222-2222-2222-2222-222222222222"


def refused(data: dict[str, str]) -> errors.AzbackupError:
    async def go() -> errors.AzbackupError:
        gateway = Gateway(AzureSettings())
        await gateway.start()
        try:
            gateway.credential(CredentialSource.from_secret("team-a", "azure-creds", data))
        except errors.AzbackupError as err:
            return err
        finally:
            await gateway.close()
        raise AssertionError("the credential was accepted")

    return asyncio.run(go())


@pytest.mark.parametrize(("data", "key", "value"), [
    pytest.param({"AZURE_TENANT_ID": "not a tenant!", "AZURE_CLIENT_ID": CLIENT, "AZURE_CLIENT_SECRET": "s3cret-v4lue"},
                 "AZURE_TENANT_ID", "s3cret-v4lue", id="a garbage tenant id names AZURE_TENANT_ID"),
    pytest.param({"AZURE_TENANT_ID": TENANT, "AZURE_CLIENT_ID": CLIENT,
                  "AZURE_CLIENT_CERTIFICATE": PEM}, "AZURE_CLIENT_CERTIFICATE", "c2VjcmV0LXBlbQ",
                 id="a garbage certificate names AZURE_CLIENT_CERTIFICATE"),
])
def test_a_refused_secret_value_is_secret_invalid(data: dict[str, str], key: str, value: str) -> None:
    err = refused(data)
    assert isinstance(err, errors.SecretInvalid)
    assert "team-a/azure-creds" in err.message
    assert key in err.message
    assert value not in err.message
