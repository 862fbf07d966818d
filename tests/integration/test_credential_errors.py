"""A wrong credential reaches the condition message with Entra's error and AADSTS code, never the secret."""

from __future__ import annotations

import asyncio
from typing import Any

from azbackup.azure import errors
from azbackup.azure.credentials import CredentialSource
from azbackup.azure.gateway import AzureSettings, Gateway
from azure_emulator.inventory import DEFAULT_CLIENT_ID, DEFAULT_TENANT_ID

from tests.integration.harness import SUB


def test_a_wrong_client_secret_names_entras_error_code(emulator: Any) -> None:
    wrong = "definitely-not-the-secret"

    async def go() -> errors.AzbackupError:
        gateway = Gateway(AzureSettings(arm_endpoint=emulator.url, authority_host=emulator.url,
                                        ca_bundle=emulator.ca_bundle))
        await gateway.start()
        source = CredentialSource.from_secret("team-a", "azure-creds", {
            "AZURE_TENANT_ID": DEFAULT_TENANT_ID, "AZURE_CLIENT_ID": DEFAULT_CLIENT_ID, "AZURE_CLIENT_SECRET": wrong})
        try:
            with errors.guard():
                await gateway.clients(SUB, source).vaults.vaults.get("rg-backup", "vault-a")
        except errors.AzbackupError as err:
            return err
        finally:
            await gateway.close()
        raise AssertionError("a wrong secret was accepted")

    err = asyncio.run(go())
    assert isinstance(err, errors.AuthFailed)
    assert "invalid_client" in err.message, err.message
    assert "AADSTS" in err.message, err.message
    assert wrong not in err.message
