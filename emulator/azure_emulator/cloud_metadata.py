"""The cloud metadata document of `GET /metadata/endpoints` (no token), pointing at the emulator.

`az cloud register --endpoint-resource-manager URL` reads `{URL}/metadata/endpoints?api-version=2022-09-01`
and maps it with `_arm_to_cli_mapper`; azure-identity and the Azure SDKs read the same document to
find a cloud's login endpoint and ARM audience. The keys are those ARM answers for the public cloud;
`resourceManager` and `authentication.loginEndpoint` are the emulator's own URL, the audiences stay
ARM's (the emulator accepts tokens for them). Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

from azure_emulator.apiversions import METADATA_VERSIONS

CLOUD_NAME = "AzureBackupEmulator"
AUDIENCES = ["https://management.core.windows.net/", "https://management.azure.com/"]


def document(base: str) -> dict[str, Any]:
    """The 2019-05-01 / 2020-06-01 / 2022-09-01 shape of one cloud, with the emulator at `base`."""
    return {
        "portal": base,
        "authentication": {
            "loginEndpoint": base,
            "audiences": list(AUDIENCES),
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "media": "https://rest.media.azure.net",
        "graphAudience": "https://graph.windows.net/",
        "graph": "https://graph.windows.net/",
        "name": CLOUD_NAME,
        "suffixes": {
            "azureDataLakeStoreFileSystem": "azuredatalakestore.net",
            "acrLoginServer": "azurecr.io",
            "sqlServerHostname": "database.windows.net",
            "azureDataLakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net",
            "keyVaultDns": "vault.azure.net",
            "storage": "core.windows.net",
            "azureFrontDoorEndpointSuffix": "azurefd.net",
            "storageSyncEndpointSuffix": "afs.azure.net",
            "mhsmDns": "managedhsm.azure.net",
            "mysqlServerEndpoint": "mysql.database.azure.com",
            "postgresqlServerEndpoint": "postgres.database.azure.com",
            "mariadbServerEndpoint": "mariadb.database.azure.com",
            "synapseAnalytics": "dev.azuresynapse.net",
            "attestationEndpoint": "attest.azure.net",
        },
        "batch": "https://batch.core.windows.net/",
        "resourceManager": base + "/",
        "vmImageAliasDoc": (
            "https://raw.githubusercontent.com/Azure/azure-rest-api-specs/main/arm-compute/quickstart-templates/aliases.json"
        ),
        "activeDirectoryDataLake": "https://datalake.azure.net/",
        "sqlManagement": "https://management.core.windows.net:8443/",
        "microsoftGraphResourceId": "https://graph.microsoft.com/",
        "appInsightsResourceId": "https://api.applicationinsights.io",
        "appInsightsTelemetryChannelResourceId": "https://dc.applicationinsights.azure.com/v2/track",
        "attestationResourceId": "https://attest.azure.net",
        "synapseAnalyticsResourceId": "https://dev.azuresynapse.net",
        "logAnalyticsResourceId": "https://api.loganalytics.io",
        "ossrDbmsResourceId": "https://ossrdbms-aad.database.windows.net",
    }


def legacy_document(base: str) -> dict[str, Any]:
    """The 2015-01-01 shape (what older SDKs and Azure Stack tooling read)."""
    return {
        "galleryEndpoint": "",
        "graphEndpoint": "https://graph.windows.net/",
        "portalEndpoint": base,
        "authentication": {"loginEndpoint": base, "audiences": list(AUDIENCES)},
    }


def answer(base: str, api_version: str | None) -> tuple[int, Any]:
    """`(status, body)` for an api-version: 2019-05-01 lists the clouds (here one), later versions
    answer the one cloud, 2015-01-01 the legacy shape; anything else is refused like ARM's own types."""
    if api_version is None:
        return 400, {
            "error": {
                "code": "MissingApiVersionParameter",
                "message": "The api-version query parameter (?api-version=) is required for all requests.",
            }
        }
    if api_version not in METADATA_VERSIONS:
        listed = ",".join(sorted(METADATA_VERSIONS, reverse=True))
        return 400, {
            "error": {
                "code": "InvalidApiVersionParameter",
                "message": f"The api-version '{api_version}' is invalid. The supported versions are '{listed}'.",
            }
        }
    if api_version == "2015-01-01":
        return 200, legacy_document(base)
    if api_version == "2019-05-01":
        return 200, [document(base)]
    return 200, document(base)
