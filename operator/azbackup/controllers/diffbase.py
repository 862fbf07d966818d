"""kopf's diff-base (its last-handled configuration) without annotations that are not ours.

kopf copies an object's annotations into its own `last-handled-configuration` annotation. A user's large
annotation (a tool's 150 KB note) is then stored twice, the object passes Kubernetes' 256 KB limit on
annotations, and kopf's bookkeeping patch fails with 422 on every change. The operator acts on its spec,
its labels and its own `azbackup.dev/` annotations (reconcile-policy); nothing else needs to be in the
diff-base, so nothing else is copied.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any, cast

import kopf


def own_annotations(annotations: Mapping[str, str], prefix: str, ignored: Collection[str]) -> dict[str, str]:
    """The annotations worth tracking: under `prefix/`, minus the `ignored` ones (the journal)."""
    return {k: v for k, v in annotations.items() if k.startswith(f"{prefix}/") and k not in ignored}


class OwnAnnotationsDiffBase(kopf.AnnotationsDiffBaseStorage):
    def __init__(self, *, prefix: str, key: str, own: str, ignored: Collection[str]) -> None:
        super().__init__(prefix=prefix, key=key)
        self.own, self.ignored = own, frozenset(ignored)

    def build(self, *, body: kopf.Body, extra_fields: Iterable[Any] | None = None) -> kopf.BodyEssence:
        # kopf types the essence as a TypedDict of its own; it is JSON, edited here as a plain dict.
        essence = cast(dict[str, Any], super().build(body=body, extra_fields=extra_fields))
        metadata = essence.get("metadata") or {}
        if "annotations" in metadata:
            kept = own_annotations(metadata["annotations"], self.own, self.ignored)
            if kept:
                metadata["annotations"] = kept
            else:
                del metadata["annotations"]
            if not metadata:
                del essence["metadata"]
        return cast(kopf.BodyEssence, essence)

    def fetch(self, *, body: kopf.Body) -> kopf.BodyEssence | None:
        """The stored diff-base; for a new object (generation 1) without one, its essence as it is now.

        kopf stores a diff-base after the first handling of every object: one PATCH per object on top of
        the finalizer's, at every `kubectl apply` of a fleet. A spec that never changed needs none: the
        runtime sees the new object in the watch stream and reconciles it. The first spec change (generation
        2) finds no diff-base, so kopf calls the change handler as for a new object and stores one then.
        """
        stored = super().fetch(body=body)
        if stored is None and body.get("metadata", {}).get("generation") == 1:
            return self.build(body=body)
        return stored
