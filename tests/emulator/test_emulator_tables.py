"""The emulator's tables: admin routes contributed by modules, the request steps, the resource types."""

from __future__ import annotations

from azure_emulator import admin_api, pipeline, resource_types
from azure_emulator.state import Subscription


def test_every_admin_module_contributes_routes_and_no_route_is_registered_twice() -> None:
    assert all(module.ROUTES for module in admin_api.MODULES)
    keys = [(r.method, r.path) for r in admin_api.routes()]
    assert len(keys) == len(set(keys))
    assert all(path.startswith("/_admin/") for _, path in keys)


def test_arm_refusals_come_in_arm_order() -> None:
    assert [step.__name__ for step in pipeline.STEPS] == [
        "authenticate",
        "throttle",
        "require_api_version",
        "require_route",
        "accept_api_version",
        "require_registration",
        "authorize",
        "parse_body",
    ]


def test_a_subscription_has_one_index_per_resource_type_and_the_old_names_read_them() -> None:
    names = [kind.name for kind in resource_types.ALL]
    assert len(names) == len(set(names))
    sub = Subscription("s", "S")
    assert set(sub.indexes) == set(names)
    assert sub.nics is sub.of(resource_types.NICS)
    assert sub.vaults is sub.of(resource_types.VAULTS)
