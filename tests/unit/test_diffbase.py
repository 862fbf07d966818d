"""kopf's diff-base keeps the spec, labels and our own annotations, never a user's (possibly huge) ones."""

from __future__ import annotations

from typing import Any

import kopf
import pytest
from azbackup.controllers.diffbase import OwnAnnotationsDiffBase

JOURNAL = "azbackup.dev/external-create-pending"
STORAGE = OwnAnnotationsDiffBase(prefix="kopf.azbackup.dev", key="last-handled-configuration", own="azbackup.dev",
                                 ignored=(JOURNAL,))


def body(annotations: dict[str, str]) -> kopf.Body:
    return kopf.Body({"apiVersion": "azbackup.dev/v1alpha1", "kind": "BackupVault",
                      "metadata": {"name": "v", "labels": {"team": "a"}, "annotations": annotations},
                      "spec": {"location": "westeurope"}})


@pytest.mark.parametrize(("annotations", "expected"), [
    pytest.param({"example.com/notes": "x" * 200_000}, {"team": "a"},
                 id="a user's large annotation is not copied"),
    pytest.param({"azbackup.dev/reconcile-policy": "observe"}, {"team": "a"},
                 id="our reconcile-policy annotation is kept"),
    pytest.param({JOURNAL: "2026-01-01T00:00:00Z"}, {"team": "a"}, id="the journal is not part of it"),
])
def test_the_essence_keeps_only_our_annotations(annotations: dict[str, str], expected: dict[str, str]) -> None:
    essence: Any = STORAGE.build(body=body(annotations))
    kept = {k: v for k, v in annotations.items() if k == "azbackup.dev/reconcile-policy"}
    assert essence["spec"] == {"location": "westeurope"}
    assert essence["metadata"].get("labels") == expected
    assert essence["metadata"].get("annotations", {}) == kept


def versioned(generation: int, stored: str | None = None) -> kopf.Body:
    annotations = {"kopf.azbackup.dev/last-handled-configuration": stored} if stored else {}
    return kopf.Body({"apiVersion": "azbackup.dev/v1alpha1", "kind": "BackupVault",
                      "metadata": {"name": "v", "generation": generation, "annotations": annotations},
                      "spec": {"location": "westeurope"}})


@pytest.mark.parametrize(("body", "want"), [
    pytest.param(versioned(1), {"spec": {"location": "westeurope"}},
                 id="a-new-object-is-its-own-diff-base-so-kopf-writes-none"),
    pytest.param(versioned(2), None, id="a-changed-spec-without-one-is-handled-as-new-and-stored"),
    pytest.param(versioned(2, '{"spec":{"location":"northeurope"}}'), {"spec": {"location": "northeurope"}},
                 id="a-stored-one-is-read"),
])
def test_the_diff_base_of_an_unchanged_new_object_costs_no_write(body: kopf.Body, want: object) -> None:
    assert STORAGE.fetch(body=body) == want
