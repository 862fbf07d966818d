"""The Kubernetes writer: the plural from the kinds' table, merge patches, 404 and 409 as the loop expects."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from azbackup.managed import Resource
from azbackup.reconcile.kube import Conflict, Kube
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

VAULT = Resource("BackupVault", "ns", "v", resource_version="7")


class FakeApi:
    """Records each call as (method, positional arguments, keyword arguments); raises or answers as told."""

    def __init__(self, answer: Any = None, status: int | None = None) -> None:
        self.answer, self.status, self.calls = answer, status, list[tuple[str, tuple[Any, ...], dict[str, Any]]]()

    def __getattr__(self, method: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((method, args, kwargs))
            if self.status is not None:
                raise ApiException(status=self.status)
            return self.answer
        return call


@pytest.fixture
def kube() -> Iterator[Kube]:
    k = Kube(k8s.ApiClient(k8s.Configuration()), threads=1)
    yield k
    k.close()


def test_status_is_merge_patched_under_the_kinds_plural(kube: Kube) -> None:
    kube.custom = FakeApi({"metadata": {"resourceVersion": "8"}})  # type: ignore[assignment]
    assert asyncio.run(kube.patch_status(VAULT, {"phase": "x"})) == "8"
    method, args, kwargs = kube.custom.calls[0]  # type: ignore[attr-defined]
    assert (method, args[2:5], args[5], kwargs) == ("patch_namespaced_custom_object_status",
                                                    ("ns", "backupvaults", "v"), {"status": {"phase": "x"}},
                                                    {"_content_type": "application/merge-patch+json"})


@pytest.mark.parametrize(("status", "want"), [
    pytest.param(404, None, id="a-deleted-object-is-no-error"),
])
def test_status_of_a_gone_object(kube: Kube, status: int, want: None) -> None:
    kube.custom = FakeApi(status=status)  # type: ignore[assignment]
    assert asyncio.run(kube.patch_status(VAULT, {})) is want


def test_a_guarded_annotation_write_names_the_version_and_a_409_is_a_conflict(kube: Kube) -> None:
    kube.custom = FakeApi(status=409)  # type: ignore[assignment]
    with pytest.raises(Conflict):
        asyncio.run(kube.set_annotations(VAULT, {"a": "b"}, guarded=True))
    body = kube.custom.calls[0][1][5]  # type: ignore[attr-defined]
    assert body == {"metadata": {"annotations": {"a": "b"}, "resourceVersion": "7"}}


@pytest.mark.parametrize(("status", "raises"), [
    pytest.param(None, False, id="deleted"),
    pytest.param(404, False, id="already-gone-is-success"),
    pytest.param(500, True, id="a-server-error-propagates"),
])
def test_delete(kube: Kube, status: int | None, raises: bool) -> None:
    kube.custom = FakeApi(status=status)  # type: ignore[assignment]
    if raises:
        with pytest.raises(ApiException):
            asyncio.run(kube.delete("VMRestore", "ns", "r"))
    else:
        asyncio.run(kube.delete("VMRestore", "ns", "r"))
    assert kube.custom.calls[0][1][2:5] == ("ns", "vmrestores", "r")  # type: ignore[attr-defined]


def test_secret_data_is_decoded_and_a_missing_secret_is_none(kube: Kube) -> None:
    data = {"clientSecret": base64.b64encode(b"s3").decode(), "notText": base64.b64encode(b"\xff").decode()}
    secret = SimpleNamespace(data=data, string_data={"tenantId": "t"})
    kube.core = FakeApi(secret)  # type: ignore[assignment]
    assert asyncio.run(kube.secret_data("ns", "cred")) == {"clientSecret": "s3", "tenantId": "t"}
    kube.core = FakeApi(status=404)  # type: ignore[assignment]
    assert asyncio.run(kube.secret_data("ns", "cred")) is None
