"""Entra ID through the admin API: identities, their denied actions, and tokens minted for tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from azure_emulator import ids, inventory
from azure_emulator.admin_base import AdminError, AdminRoute, Answer, body
from azure_emulator.records import Denial, Identity

if TYPE_CHECKING:
    from azure_emulator.app import Emulator


def _find(emu: Emulator, client_id: str) -> Identity:
    identity = emu.state.identity_by_client(client_id)
    if identity is None:
        raise AdminError(404, f"no identity with client id {client_id}")
    return identity


async def list_identities(emu: Emulator, request: web.Request) -> Answer:
    return {
        "identities": [
            {
                "clientId": i.client_id,
                "tenantId": i.tenant_id,
                "objectId": i.object_id,
                "name": i.display_name,
                "deny": [vars(d) for d in i.deny],
            }
            for i in emu.state.identities.values()
        ]
    }


async def add_identity(emu: Emulator, request: web.Request) -> Answer:
    seed = inventory.parse_inventory({"tenantId": emu.state.tenant_id, "identities": [await body(request)]})
    identity = seed.identities[0]
    emu.state.identities[(ids.key(identity.tenant_id), ids.key(identity.client_id))] = identity
    return {"clientId": identity.client_id, "objectId": identity.object_id, "tenantId": identity.tenant_id}


async def delete_identity(emu: Emulator, request: web.Request) -> Answer:
    identity = _find(emu, request.match_info["client"])
    del emu.state.identities[(ids.key(identity.tenant_id), ids.key(identity.client_id))]
    return None


async def put_authorization(emu: Emulator, request: web.Request) -> Answer:
    identity = _find(emu, request.match_info["client"])
    doc = await body(request)
    identity.deny = [
        Denial(str(d)) if isinstance(d, str) else Denial(str(d.get("action", "*")), d.get("scope"))
        for d in doc.get("deny") or []
    ]
    return {"clientId": identity.client_id, "deny": [vars(d) for d in identity.deny]}


async def mint_token(emu: Emulator, request: web.Request) -> Answer:
    doc = await body(request)
    identity = _find(emu, str(doc["clientId"]))
    audience = str(doc.get("audience") or emu.url)
    now = emu.clock.now()
    return {"accessToken": emu.tokens.issue(identity, audience, now, float(doc.get("lifetime", 3600)))}


ROUTES = [
    AdminRoute("GET", "/_admin/identities", list_identities),
    AdminRoute("POST", "/_admin/identities", add_identity),
    AdminRoute("DELETE", "/_admin/identities/{client}", delete_identity),
    AdminRoute("PUT", "/_admin/identities/{client}/authorization", put_authorization),
    AdminRoute("POST", "/_admin/tokens", mint_token),
]
