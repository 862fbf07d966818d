"""Microsoft.Network: NICs, NSGs (with the six default rules), VNets and subnets, effective NSGs of a
NIC, service tags."""

from __future__ import annotations

import hashlib
from typing import Any, TypeVar

from azure_emulator import errors, ids, netrules, resource_types
from azure_emulator.arm.base import Call, Reply, drop_none, page, ref, route, same
from azure_emulator.arm.vaults import SUB
from azure_emulator.lro import Operation
from azure_emulator.records import Nic, Nsg, Vnet
from azure_emulator.state import State, Subscription

RG = SUB + "/resourceGroups/{rg}/providers/Microsoft.Network"
N = "Microsoft.Network"
T = TypeVar("T")


def _dns_label(subnet_id: str) -> str:
    """A stable per-VNet label, shaped like Azure's (22 lower-case letters and digits)."""
    return ids.stable_uuid(subnet_id.split("/subnets/")[0]).replace("-", "")[:22]


def nic_json(nic: Nic) -> dict[str, Any]:
    configs = []
    for c in nic.ip_configs:
        props: dict[str, Any] = {
            "provisioningState": "Succeeded",
            "privateIPAddress": c.private_ip,
            "privateIPAllocationMethod": "Dynamic",
            "privateIPAddressVersion": "IPv4",
            "subnet": {"id": nic.subnet_id},
            "primary": c.primary,
        }
        if c.public_ip_id:
            props["publicIPAddress"] = {"id": c.public_ip_id}
        if c.lb_pool_ids:
            props["loadBalancerBackendAddressPools"] = [{"id": p} for p in c.lb_pool_ids]
        configs.append({"name": c.name, "id": f"{nic.id}/ipConfigurations/{c.name}", "properties": props})
    props = {
        "provisioningState": "Succeeded",
        "ipConfigurations": configs,
        "dnsSettings": {
            "dnsServers": [],
            "appliedDnsServers": [],
            # Azure-provided DNS names the VNet's hosts under a per-VNet internal suffix
            "internalDomainNameSuffix": f"{_dns_label(nic.subnet_id)}.ax.internal.cloudapp.net",
        },
        "macAddress": nic.mac,
        "enableAcceleratedNetworking": nic.accelerated_networking,
        "enableIPForwarding": False,
        "networkSecurityGroup": ref(nic.nsg_id),
        "primary": nic.primary,
        "virtualMachine": ref(nic.vm_id),
        "vnetEncryptionSupported": False,  # VNet encryption needs VM sizes the emulator does not single out
        "disableTcpStateTracking": False,
        "nicType": "Standard",
    }
    return {
        "name": nic.name,
        "id": nic.id,
        "type": f"{N}/networkInterfaces",
        "location": nic.location,
        "tags": dict(nic.tags),
        "properties": drop_none(props),
    }


def rule_json(nsg_id: str, rule: netrules.Rule, kind: str) -> dict[str, Any]:
    props: dict[str, Any] = {"provisioningState": "Succeeded"}
    if rule.description:
        props["description"] = rule.description
    props["protocol"] = rule.protocol
    for singular, plural, one, many in (
        ("sourcePortRange", "sourcePortRanges", rule.source_port_range, rule.source_port_ranges),
        ("destinationPortRange", "destinationPortRanges", rule.destination_port_range, rule.destination_port_ranges),
        ("sourceAddressPrefix", "sourceAddressPrefixes", rule.source_address_prefix, rule.source_address_prefixes),
        (
            "destinationAddressPrefix",
            "destinationAddressPrefixes",
            rule.destination_address_prefix,
            rule.destination_address_prefixes,
        ),
    ):
        if many:
            props[plural] = list(many)
        else:
            props[singular] = one
    props.update(access=rule.access, priority=rule.priority, direction=rule.direction)
    return {"name": rule.name, "id": f"{nsg_id}/{kind}/{rule.name}", "properties": props}


def nsg_json(nsg: Nsg) -> dict[str, Any]:
    return {
        "name": nsg.name,
        "id": nsg.id,
        "type": f"{N}/networkSecurityGroups",
        "location": nsg.location,
        "tags": dict(nsg.tags),
        "properties": {
            "provisioningState": "Succeeded",
            "securityRules": [rule_json(nsg.id, r, "securityRules") for r in nsg.rules],
            "defaultSecurityRules": [rule_json(nsg.id, r, "defaultSecurityRules") for r in netrules.DEFAULT_RULES],
        },
    }


def subnet_json(vnet: Vnet, key: str) -> dict[str, Any]:
    s = vnet.subnets[key]
    props: dict[str, Any] = {"provisioningState": "Succeeded", "addressPrefix": s.address_prefix}
    if s.nsg_id:
        props["networkSecurityGroup"] = {"id": s.nsg_id}
    return {"name": s.name, "id": vnet.subnet_id(s.name), "type": f"{N}/virtualNetworks/subnets", "properties": props}


def vnet_json(vnet: Vnet) -> dict[str, Any]:
    return {
        "name": vnet.name,
        "id": vnet.id,
        "type": f"{N}/virtualNetworks",
        "location": vnet.location,
        "tags": dict(vnet.tags),
        "properties": {
            "provisioningState": "Succeeded",
            "addressSpace": {"addressPrefixes": list(vnet.address_prefixes)},
            "subnets": [subnet_json(vnet, k) for k in vnet.subnets],
        },
    }


def _find(call: Call, kind: resource_types.ResourceType[T], param: str) -> T:
    sub = call.sub()
    call.state.group(sub, call.params["rg"])
    found = sub.of(kind).get(call.params["rg"], call.params[param])
    if found is None:
        raise errors.resource_not_found(kind.arm_type, call.params[param], call.params["rg"])
    return found


def _in_group(call: Call, kind: resource_types.ResourceType[T]) -> list[T]:
    sub = call.sub()
    call.state.group(sub, call.params["rg"])
    return sub.of(kind).in_group(call.params["rg"])


def get_nic(call: Call) -> Reply:
    return Reply(200, nic_json(_find(call, resource_types.NICS, "nic")))


def delete_nic(call: Call) -> Reply:
    """A NIC still attached to a VM cannot be deleted (400 NicInUse, Azure's code); 204 when already gone."""
    sub = call.sub()
    call.state.group(sub, call.params["rg"])
    nic: Nic | None = sub.nics.get(call.params["rg"], call.params["nic"])
    if nic is None:
        return Reply(204)
    if nic.vm_id and call.state.vm_by_id(nic.vm_id) is not None:
        raise errors.ArmError(
            400,
            "NicInUse",
            f"Network Interface {nic.id} is used by existing resource {nic.vm_id}. In order to delete the "
            "network interface, it must be dissociated from the resource.",
        )
    sub.nics.pop(call.params["rg"], call.params["nic"])
    return Reply(200)


def list_nics(call: Call) -> Reply:
    return page(call, iter(_in_group(call, resource_types.NICS)), nic_json)


def list_all_nics(call: Call) -> Reply:
    return page(call, call.sub().nics.values(), nic_json)


def get_nsg(call: Call) -> Reply:
    return Reply(200, nsg_json(_find(call, resource_types.NSGS, "nsg")))


def list_nsgs(call: Call) -> Reply:
    return page(call, iter(_in_group(call, resource_types.NSGS)), nsg_json)


def list_all_nsgs(call: Call) -> Reply:
    return page(call, call.sub().nsgs.values(), nsg_json)


def _rules(call: Call, default: bool) -> tuple[Nsg, list[netrules.Rule]]:
    nsg: Nsg = _find(call, resource_types.NSGS, "nsg")
    return nsg, list(netrules.DEFAULT_RULES if default else nsg.rules)


def list_rules(call: Call) -> Reply:
    nsg, rules = _rules(call, default=False)
    return page(call, iter(rules), lambda r: rule_json(nsg.id, r, "securityRules"))


def list_default_rules(call: Call) -> Reply:
    nsg, rules = _rules(call, default=True)
    return page(call, iter(rules), lambda r: rule_json(nsg.id, r, "defaultSecurityRules"))


def _get_rule(call: Call, default: bool) -> Reply:
    nsg, rules = _rules(call, default)
    kind = "defaultSecurityRules" if default else "securityRules"
    rule = next((r for r in rules if same(r.name, call.params["rule"])), None)
    if rule is None:
        raise errors.resource_not_found(f"{N}/networkSecurityGroups/{kind}", call.params["rule"], call.params["rg"])
    return Reply(200, rule_json(nsg.id, rule, kind))


def get_rule(call: Call) -> Reply:
    return _get_rule(call, default=False)


def get_default_rule(call: Call) -> Reply:
    return _get_rule(call, default=True)


def get_vnet(call: Call) -> Reply:
    return Reply(200, vnet_json(_find(call, resource_types.VNETS, "vnet")))


def list_vnets(call: Call) -> Reply:
    return page(call, iter(_in_group(call, resource_types.VNETS)), vnet_json)


def list_all_vnets(call: Call) -> Reply:
    return page(call, call.sub().vnets.values(), vnet_json)


def get_subnet(call: Call) -> Reply:
    vnet: Vnet = _find(call, resource_types.VNETS, "vnet")
    key = ids.key(call.params["subnet"])
    if key not in vnet.subnets:
        raise errors.resource_not_found(f"{N}/virtualNetworks/subnets", call.params["subnet"], call.params["rg"])
    return Reply(200, subnet_json(vnet, key))


def list_subnets(call: Call) -> Reply:
    vnet: Vnet = _find(call, resource_types.VNETS, "vnet")
    return page(call, iter(list(vnet.subnets)), lambda k: subnet_json(vnet, k))


# -- public IP addresses ---------------------------------------------------------------------------
# The inventory gives a NIC's first IP configuration a public IP (`publicIp: true` or a name); the
# resource is the one that configuration references (Standard SKU, static IPv4, as Azure creates for VMs).


def _public_ips(sub: Subscription) -> list[tuple[Nic, str]]:
    """Every (NIC, ipConfiguration name) that references a public IP, in NIC order."""
    return [(nic, c.name) for nic in sub.nics.values() for c in nic.ip_configs if c.public_ip_id]


def public_ip_address(pip_id: str) -> str:
    """A stable public address per resource id (synthetic, inside 20.0.0.0/8)."""
    digest = hashlib.sha256(ids.key(pip_id).encode()).digest()
    return f"20.{digest[0]}.{digest[1]}.{max(1, digest[2] % 255)}"


def public_ip_json(nic: Nic, config_name: str) -> dict[str, Any]:
    config = next(c for c in nic.ip_configs if c.name == config_name)
    pip_id = str(config.public_ip_id)
    ref = ids.parse_resource_id(pip_id)
    return {
        "name": ref.name if ref else pip_id.rsplit("/", 1)[-1],
        "id": pip_id,
        "etag": f'W/"{ids.stable_uuid(pip_id, "etag")}"',
        "type": f"{N}/publicIPAddresses",
        "location": nic.location,
        "tags": {},
        "sku": {"name": "Standard", "tier": "Regional"},
        "zones": [],
        "properties": {
            "provisioningState": "Succeeded",
            "resourceGuid": ids.stable_uuid(pip_id, "resourceGuid"),
            "ipAddress": public_ip_address(pip_id),
            "publicIPAddressVersion": "IPv4",
            "publicIPAllocationMethod": "Static",
            "idleTimeoutInMinutes": 4,
            "ipTags": [],
            "ipConfiguration": {"id": f"{nic.id}/ipConfigurations/{config_name}"},
        },
    }


def get_public_ip(call: Call) -> Reply:
    sub = call.sub()
    call.state.group(sub, call.params["rg"])
    for nic, config_name in _public_ips(sub):
        config = next(c for c in nic.ip_configs if c.name == config_name)
        ref = ids.parse_resource_id(str(config.public_ip_id))
        if ref and same(ref.resource_group, call.params["rg"]) and same(ref.name, call.params["pip"]):
            return Reply(200, public_ip_json(nic, config_name))
    raise errors.resource_not_found(f"{N}/publicIPAddresses", call.params["pip"], call.params["rg"])


def list_public_ips(call: Call) -> Reply:
    sub = call.sub()
    call.state.group(sub, call.params["rg"])
    rows = [
        (nic, name)
        for nic, name in _public_ips(sub)
        if (ref := ids.parse_resource_id(str(next(c for c in nic.ip_configs if c.name == name).public_ip_id)))
        and same(ref.resource_group, call.params["rg"])
    ]
    return page(call, iter(rows), lambda row: public_ip_json(*row))


def list_all_public_ips(call: Call) -> Reply:
    return page(call, iter(_public_ips(call.sub())), lambda row: public_ip_json(*row))


# -- service tags and effective rules ------------------------------------------------------------


def tag_prefixes(state: State) -> dict[str, list[str]]:
    """Synthetic address prefixes of the service tags the backup checks look at (not Azure's real ranges)."""
    tags: dict[str, list[str]] = {
        "Storage": [],
        "AzureBackup": [],
        "AzureActiveDirectory": ["20.190.128.0/18", "40.126.0.0/18"],
    }
    for i, region in enumerate(sorted(state.regions)):
        display = ids.REGION_DISPLAY.get(region, region)
        regional = [f"20.{60 + i}.0.0/16", f"52.{100 + i}.0.0/17"]
        tags[f"Storage.{display}"] = regional
        tags["Storage"].extend(regional)
        tags["AzureBackup"].append(f"20.{150 + i}.8.0/24")
    return tags


def service_tags(call: Call) -> Reply:
    sub = call.sub()
    values = []
    for name, prefixes in tag_prefixes(call.state).items():
        region = ""
        if "." in name:
            display = name.split(".", 1)[1]
            region = next((r for r, d in ids.REGION_DISPLAY.items() if d == display), display.lower())
        values.append(
            {
                "name": name,
                "id": name,
                "serviceTagChangeNumber": "1",
                "properties": {
                    "changeNumber": "1",
                    "region": region,
                    "state": "GA",
                    "systemService": {"Storage": "AzureStorage"}.get(name.split(".")[0], name.split(".")[0]),
                    "addressPrefixes": prefixes,
                },
            }
        )
    return Reply(
        200,
        {
            "name": "Public",
            "id": f"/subscriptions/{sub.id}/providers/{N}/serviceTags/Public",
            "type": f"{N}/serviceTags",
            "changeNumber": "1",
            "cloud": "Public",
            "values": values,
        },
    )


def _effective_rule(state: State, rule: netrules.Rule, kind: str) -> dict[str, Any]:
    def port(r: str) -> str:
        return "0-65535" if r == "*" else (r if "-" in r else f"{r}-{r}")

    def prefix(p: str) -> str:
        return "0.0.0.0/0" if p == "*" else p

    tags = tag_prefixes(state)
    out: dict[str, Any] = {
        "name": f"{kind}/{rule.name}",
        "protocol": "All" if rule.protocol == "*" else rule.protocol,
        "sourcePortRange": port(rule.source_port_range),
        "destinationPortRange": port(rule.destination_port_range),
        "sourceAddressPrefix": prefix(rule.source_address_prefix),
        "destinationAddressPrefix": prefix(rule.destination_address_prefix),
        "access": rule.access,
        "priority": rule.priority,
        "direction": rule.direction,
    }
    if rule.destination_port_ranges:
        out["destinationPortRanges"] = [port(r) for r in rule.destination_port_ranges]
    if rule.destination_address_prefixes:
        out["destinationAddressPrefixes"] = list(rule.destination_address_prefixes)
    if rule.destination_address_prefix in tags:
        out["expandedDestinationAddressPrefix"] = list(tags[rule.destination_address_prefix])
    return out


def effective_nsgs(state: State, nic: Nic) -> dict[str, Any]:
    value = []
    subnet = state.subnet_of(nic)
    for nsg_id, association in (
        (nic.nsg_id, {"networkInterface": {"id": nic.id}}),
        (subnet.nsg_id if subnet else None, {"subnet": {"id": nic.subnet_id}}),
    ):
        nsg: Nsg | None = state.find(resource_types.NSGS, nsg_id)
        if nsg is None:
            continue
        rules = [
            _effective_rule(state, r, "defaultSecurityRules" if r.default else "securityRules")
            for r in netrules.ordered(nsg.rules)
        ]
        value.append(
            {
                "networkSecurityGroup": {"id": nsg.id},
                "association": association,
                "effectiveSecurityRules": rules,
                "tagMap": {},
            }
        )
    return {"value": value}


def list_effective_nsgs(call: Call) -> Reply:
    """200 with the rules, or (setting `effectiveNsgAsync`) 202 + Location answered later with them."""
    nic: Nic = _find(call, resource_types.NICS, "nic")
    if not call.state.settings.effective_nsg_async:
        return Reply(200, effective_nsgs(call.state, nic))
    op = Operation(
        ids.new_id(),
        "EffectiveNsg",
        call.now,
        call.state.scaled(call.state.settings.durations.effective_nsg),
        ids.key(f"/subscriptions/{call.params['sub']}"),
        target=nic.id,
    )
    call.state.operations[op.id] = op
    call.state.timeline.schedule(op.due, op.finish)
    location = f"/subscriptions/{call.params['sub']}/providers/{N}/locations/{nic.location}/operationResults/{op.id}"
    return Reply(202, None, {"Location": call.url(location), "Retry-After": str(call.state.settings.retry_after)})


def network_operation_result(call: Call) -> Reply:
    op = call.state.operations.get(call.params["op"])
    if op is None or op.kind != "EffectiveNsg" or op.scope != ids.key(f"/subscriptions/{call.params['sub']}"):
        raise errors.backup_resource_not_found("operation", call.params["op"])
    if not op.done:
        return Reply(202, None, {"Location": call.url(call.path), "Retry-After": str(call.state.settings.retry_after)})
    nic: Nic | None = call.state.find(resource_types.NICS, op.target)
    if nic is None:
        raise errors.backup_resource_not_found("network interface", str(op.target))
    return Reply(200, effective_nsgs(call.state, nic))


# -- storage accounts ------------------------------------------------------------------------


NIC = RG + "/networkInterfaces/{nic}"
NSG = RG + "/networkSecurityGroups/{nsg}"
VNET = RG + "/virtualNetworks/{vnet}"

ROUTES = [
    route("GET", NIC, "NetworkInterfaces_Get", f"{N}/networkInterfaces/read", get_nic),
    route("DELETE", NIC, "NetworkInterfaces_Delete", f"{N}/networkInterfaces/delete", delete_nic),
    route("GET", RG + "/networkInterfaces", "NetworkInterfaces_List", f"{N}/networkInterfaces/read", list_nics),
    route(
        "GET",
        SUB + "/providers/Microsoft.Network/networkInterfaces",
        "NetworkInterfaces_ListAll",
        f"{N}/networkInterfaces/read",
        list_all_nics,
    ),
    route(
        "POST",
        NIC + "/effectiveNetworkSecurityGroups",
        "NetworkInterfaces_ListEffectiveNetworkSecurityGroups",
        f"{N}/networkInterfaces/effectiveNetworkSecurityGroups/action",
        list_effective_nsgs,
    ),
    route(
        "GET",
        SUB + "/providers/Microsoft.Network/locations/{location}/operationResults/{op}",
        "NetworkOperationResults_Get",
        f"{N}/locations/operationResults/read",
        network_operation_result,
    ),
    route("GET", NSG, "NetworkSecurityGroups_Get", f"{N}/networkSecurityGroups/read", get_nsg),
    route(
        "GET", RG + "/networkSecurityGroups", "NetworkSecurityGroups_List", f"{N}/networkSecurityGroups/read", list_nsgs
    ),
    route(
        "GET",
        SUB + "/providers/Microsoft.Network/networkSecurityGroups",
        "NetworkSecurityGroups_ListAll",
        f"{N}/networkSecurityGroups/read",
        list_all_nsgs,
    ),
    route(
        "GET", NSG + "/securityRules", "SecurityRules_List", f"{N}/networkSecurityGroups/securityRules/read", list_rules
    ),
    route(
        "GET",
        NSG + "/securityRules/{rule}",
        "SecurityRules_Get",
        f"{N}/networkSecurityGroups/securityRules/read",
        get_rule,
    ),
    route(
        "GET",
        NSG + "/defaultSecurityRules",
        "DefaultSecurityRules_List",
        f"{N}/networkSecurityGroups/defaultSecurityRules/read",
        list_default_rules,
    ),
    route(
        "GET",
        NSG + "/defaultSecurityRules/{rule}",
        "DefaultSecurityRules_Get",
        f"{N}/networkSecurityGroups/defaultSecurityRules/read",
        get_default_rule,
    ),
    route("GET", VNET, "VirtualNetworks_Get", f"{N}/virtualNetworks/read", get_vnet),
    route("GET", RG + "/virtualNetworks", "VirtualNetworks_List", f"{N}/virtualNetworks/read", list_vnets),
    route(
        "GET",
        SUB + "/providers/Microsoft.Network/virtualNetworks",
        "VirtualNetworks_ListAll",
        f"{N}/virtualNetworks/read",
        list_all_vnets,
    ),
    route(
        "GET", RG + "/publicIPAddresses/{pip}", "PublicIPAddresses_Get", f"{N}/publicIPAddresses/read", get_public_ip
    ),
    route("GET", RG + "/publicIPAddresses", "PublicIPAddresses_List", f"{N}/publicIPAddresses/read", list_public_ips),
    route(
        "GET",
        SUB + "/providers/Microsoft.Network/publicIPAddresses",
        "PublicIPAddresses_ListAll",
        f"{N}/publicIPAddresses/read",
        list_all_public_ips,
    ),
    route("GET", VNET + "/subnets/{subnet}", "Subnets_Get", f"{N}/virtualNetworks/subnets/read", get_subnet),
    route("GET", VNET + "/subnets", "Subnets_List", f"{N}/virtualNetworks/subnets/read", list_subnets),
    route(
        "GET",
        SUB + "/providers/Microsoft.Network/locations/{location}/serviceTags",
        "ServiceTags_List",
        f"{N}/locations/serviceTags/read",
        service_tags,
    ),
]
