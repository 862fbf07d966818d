"""ARM's own resources (Microsoft.Resources): subscriptions, resource groups, resource providers.

What a client needs around the backup work: `az login` lists and reads subscriptions, restore
targets need a resource group, and azure-mgmt-core registers a provider when ARM answers
`MissingSubscriptionRegistration`. Shapes follow azure-mgmt-resource's models (`Subscription`,
`ResourceGroup`, `Provider`, `ProviderResourceType`).
"""

from __future__ import annotations

from typing import Any

from azure_emulator import apiversions, ids, resource_types
from azure_emulator.arm.base import Call, Reply, page, route, tags_of
from azure_emulator.errors import ArmError
from azure_emulator.state import State, Subscription

SUB = "/subscriptions/{sub}"
GROUPS = SUB + "/resourcegroups"
GROUP = GROUPS + "/{rg}"
PROVIDERS = SUB + "/providers"
PROVIDER = PROVIDERS + "/{ns}"

#: The namespaces the emulator serves, as `GET /subscriptions/{id}/providers` lists them.
NAMESPACES = ("Microsoft.Compute", "Microsoft.Network", "Microsoft.RecoveryServices", "Microsoft.Storage")


# -- subscriptions --------------------------------------------------------------------------------


def subscription_json(state: State, sub: Subscription) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{sub.id}",
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "tags": {},
        "subscriptionId": sub.id,
        "tenantId": state.tenant_id,
        "displayName": sub.display_name,
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off",
        },
    }


def list_subscriptions(call: Call) -> Reply:
    return page(call, iter(list(call.state.subscriptions.values())), lambda s: subscription_json(call.state, s))


def get_subscription(call: Call) -> Reply:
    return Reply(200, subscription_json(call.state, call.sub()))


# -- resource groups ------------------------------------------------------------------------------


def group_json(sub: Subscription, name: str, location: str) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{sub.id}/resourceGroups/{name}",
        "name": name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": location,
        "tags": dict(sub.group_tags.get(ids.key(name), {})),
        "properties": {"provisioningState": "Succeeded"},
    }


def get_group(call: Call) -> Reply:
    sub = call.sub()
    name, location = call.state.group(sub, call.params["rg"])
    return Reply(200, group_json(sub, name, location))


def head_group(call: Call) -> Reply:
    """`CheckExistence`: 204 when the group exists, 404 (no body) when not."""
    sub = call.sub()
    return Reply(204 if ids.key(call.params["rg"]) in sub.groups else 404, None)


def list_groups(call: Call) -> Reply:
    sub = call.sub()
    return page(call, iter(list(sub.groups.values())), lambda g: group_json(sub, g[0], g[1]))


def put_group(call: Call) -> Reply:
    """Create (201) or update the tags of (200) a resource group; its location cannot change."""
    sub = call.sub()
    body = call.json_body()
    location = body.get("location")
    if not location:
        raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
    key = ids.key(call.params["rg"])
    existing = sub.groups.get(key)
    wanted = ids.norm_location(str(location))
    if existing is not None and existing[1] != wanted:
        raise ArmError(
            409,
            "InvalidResourceGroupLocation",
            f"Invalid resource group location '{wanted}'. The Resource group already exists in location "
            f"'{existing[1]}'.",
        )
    if existing is None:
        call.state.ensure_group(sub, call.params["rg"], wanted)
    sub.group_tags[key] = tags_of(body)
    name, loc = sub.groups[key]
    return Reply(200 if existing else 201, group_json(sub, name, loc))


def _holds_resources(sub: Subscription, rg: str) -> bool:
    return any(sub.of(kind).in_group(rg) for kind in resource_types.ALL)


def delete_group(call: Call) -> Reply:
    """Delete an empty resource group: 202 + Location (answered 200 at once); absent: 404.

    Azure deletes every resource in the group; the emulator refuses a group that still holds
    resources (documented choice), so it never has to tear down protection state behind a vault.
    """
    sub = call.sub()
    name, _ = call.state.group(sub, call.params["rg"])
    if _holds_resources(sub, name):
        raise ArmError(
            409,
            "ResourceGroupDeletionBlocked",
            f"Deletion of resource group '{name}' is not supported by the emulator while it holds resources.",
        )
    sub.groups.pop(ids.key(name), None)
    sub.group_tags.pop(ids.key(name), None)
    token = ids.new_id()
    location = call.url(f"/subscriptions/{sub.id}/operationresults/{token}")
    return Reply(202, None, {"Location": location, "Retry-After": str(call.state.settings.retry_after)})


def operation_result(call: Call) -> Reply:
    """The Location of a resource-group deletion: done (the emulator deletes at once)."""
    call.sub()
    return Reply(200, None)


# -- resource providers ---------------------------------------------------------------------------


def provider_json(state: State, sub: Subscription, namespace: str) -> dict[str, Any]:
    locations = [ids.REGION_DISPLAY.get(r, r) for r in sorted(state.regions)]
    types = []
    for rtype in apiversions.TYPES:
        ns, _, name = rtype.partition("/")
        if ns.lower() != namespace.lower():
            continue
        types.append(
            {
                "resourceType": name,
                "locations": locations,
                "apiVersions": sorted(apiversions.supported(rtype), reverse=True),
                "capabilities": "None",
            }
        )
    registered = namespace.lower() not in sub.unregistered
    return {
        "id": f"/subscriptions/{sub.id}/providers/{namespace}",
        "namespace": namespace,
        "registrationState": "Registered" if registered else "NotRegistered",
        "registrationPolicy": "RegistrationRequired",
        "resourceTypes": types,
    }


def _namespace(call: Call) -> str:
    wanted = call.params["ns"].lower()
    found = next((ns for ns in NAMESPACES if ns.lower() == wanted), None)
    if found is None:
        raise ArmError(
            404,
            "InvalidResourceNamespace",
            f"The resource namespace '{call.params['ns']}' is invalid.",
        )
    return found


def list_providers(call: Call) -> Reply:
    sub = call.sub()
    return page(call, iter(NAMESPACES), lambda ns: provider_json(call.state, sub, ns))


def get_provider(call: Call) -> Reply:
    sub = call.sub()
    return Reply(200, provider_json(call.state, sub, _namespace(call)))


def register_provider(call: Call) -> Reply:
    """Register a namespace for the subscription (at once: the answer already says Registered)."""
    sub = call.sub()
    namespace = _namespace(call)
    sub.unregistered.discard(namespace.lower())
    return Reply(200, provider_json(call.state, sub, namespace))


def unregister_provider(call: Call) -> Reply:
    sub = call.sub()
    namespace = _namespace(call)
    sub.unregistered.add(namespace.lower())
    return Reply(200, provider_json(call.state, sub, namespace))


def missing_registration(namespace: str) -> ArmError:
    """ARM's answer to a write in a namespace the subscription has not registered (mgmt-core reads
    the namespace from the message's last quoted string, reference §1.1)."""
    message = (
        f"The subscription is not registered to use namespace '{namespace}'. See https://aka.ms/rps-not-found for "
        "how to register subscriptions."
    )
    return ArmError(
        409,
        "MissingSubscriptionRegistration",
        message,
        target=namespace,
        details=[{"code": "MissingSubscriptionRegistration", "target": namespace, "message": message}],
    )


def check_registration(state: State, method: str, path: str) -> None:
    """Refuse a write (PUT/PATCH/POST/DELETE) in an unregistered namespace (reads pass: emulator choice)."""
    if method in ("GET", "HEAD"):
        return
    rtype = apiversions.resource_type(path)
    if rtype is None or rtype.startswith("Microsoft.Resources/"):
        return
    segs = [s for s in path.split("/") if s]
    sub = state.subscriptions.get(ids.key(segs[1])) if len(segs) > 1 else None
    namespace = rtype.split("/", 1)[0]
    if sub is not None and namespace.lower() in sub.unregistered:
        raise missing_registration(next((ns for ns in NAMESPACES if ns.lower() == namespace.lower()), namespace))


_R = "Microsoft.Resources"

ROUTES = [
    route("GET", "/subscriptions", "Subscriptions_List", f"{_R}/subscriptions/read", list_subscriptions),
    route("GET", SUB, "Subscriptions_Get", f"{_R}/subscriptions/read", get_subscription),
    route(
        "GET",
        SUB + "/operationresults/{op}",
        "ResourceGroupOperationResults_Get",
        f"{_R}/subscriptions/operationresults/read",
        operation_result,
    ),
    route("GET", GROUPS, "ResourceGroups_List", f"{_R}/subscriptions/resourceGroups/read", list_groups),
    route("GET", GROUP, "ResourceGroups_Get", f"{_R}/subscriptions/resourceGroups/read", get_group),
    route("HEAD", GROUP, "ResourceGroups_CheckExistence", f"{_R}/subscriptions/resourceGroups/read", head_group),
    route("PUT", GROUP, "ResourceGroups_CreateOrUpdate", f"{_R}/subscriptions/resourceGroups/write", put_group),
    route("DELETE", GROUP, "ResourceGroups_Delete", f"{_R}/subscriptions/resourceGroups/delete", delete_group),
    route("GET", PROVIDERS, "Providers_List", f"{_R}/subscriptions/providers/read", list_providers),
    route("GET", PROVIDER, "Providers_Get", f"{_R}/subscriptions/providers/read", get_provider),
    route("POST", PROVIDER + "/register", "Providers_Register", "*/register/action", register_provider),
    route("POST", PROVIDER + "/unregister", "Providers_Unregister", "*/unregister/action", unregister_provider),
]  # fmt: skip
