"""The CRD generator: one source of truth, descriptions everywhere, and the patterns it promises."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from azbackup import cli, kinds
from azbackup.api import crds, render, schema

REPO = Path(__file__).resolve().parents[3]


def test_committed_crds_match_the_code() -> None:
    assert render.stale_files(REPO / "crds", kinds.crds()) == [], "run `make crds` and commit crds/"


def test_the_charts_crds_and_kind_rbac_match_the_kinds_table() -> None:
    chart = REPO / "charts" / "azbackup-operator"
    rbac = chart / "templates" / "_kinds.tpl"
    assert cli.main(["crds", "--check", "--dir", str(chart / "crds"), "--rbac", str(rbac)]) == 0, "run `make crds`"


@pytest.mark.parametrize("crd", kinds.crds(), ids=lambda c: c["spec"]["names"]["kind"])
def test_every_field_has_a_description(crd: dict) -> None:
    root = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    undocumented = [path for path, node in schema.walk(root)
                    if path not in ("", "metadata") and not node.get("description")]
    assert undocumented == []


@pytest.mark.parametrize("crd", kinds.crds(), ids=lambda c: c["spec"]["names"]["kind"])
def test_every_kind_has_status_subresource_category_and_ready_columns(crd: dict) -> None:
    version = crd["spec"]["versions"][0]
    columns = [c["name"] for c in version["additionalPrinterColumns"]]
    assert (version["subresources"], crd["spec"]["names"]["categories"]) == ({"status": {}}, ["azbackup"])
    assert columns[-3:] == ["Ready", "Reason", "Age"]


def test_short_names_are_unique() -> None:
    names = [n for c in kinds.crds() for n in c["spec"]["names"]["shortNames"]]
    assert len(names) == len(set(names))


def test_a_node_without_description_is_refused() -> None:
    with pytest.raises(ValueError, match="description"):
        schema.string("  ")


@pytest.mark.parametrize(("name", "ok"), [
    pytest.param("ab", True, id="2-chars"),
    pytest.param("a" * 50, True, id="50-chars"),
    pytest.param("a", False, id="1-char"),
    pytest.param("a" * 51, False, id="51-chars"),
    pytest.param("1vault", False, id="starts-with-digit"),
    pytest.param("-vault", False, id="starts-with-hyphen"),
    pytest.param("vault-01", True, id="hyphen-and-digits"),
    pytest.param("vault_01", False, id="underscore"),
    pytest.param("vault.01", False, id="period"),
])
def test_vault_name_pattern(name: str, ok: bool) -> None:
    assert bool(re.fullmatch(crds.VAULT_NAME_PATTERN, name)) is ok


@pytest.mark.parametrize(("vm_id", "ok"), [
    pytest.param("/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-app/providers/"
                 "Microsoft.Compute/virtualMachines/web-01", True, id="canonical"),
    pytest.param("/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/RG_App/providers/"
                 "microsoft.compute/virtualmachines/web-01", True, id="case-insensitive"),
    pytest.param("/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm",
                 False, id="bad-subscription"),
    pytest.param("/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/"
                 "Microsoft.Compute/disks/d", False, id="a-disk"),
    pytest.param("web-01", False, id="bare-name"),
])
def test_vm_id_pattern(vm_id: str, ok: bool) -> None:
    assert bool(re.fullmatch(crds.VM_ID_PATTERN, vm_id)) is ok


# Kinds that only write Kubernetes objects (a selector's ProtectedVMs, a drill's VMRestores) start none.
@pytest.mark.parametrize("crd", [c for c in kinds.crds()
                                 if c["spec"]["names"]["kind"] not in ("VMBackupSelector", "RestoreDrill")],
                         ids=lambda c: c["spec"]["names"]["kind"])
def test_every_kind_that_starts_azure_operations_can_store_one(crd: dict) -> None:
    # The apiserver prunes undeclared status fields: an operation URL it dropped would be written again.
    status = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"]
    assert "url" in status["properties"]["operation"]["properties"]
