"""Crash-safe bookkeeping around a non-idempotent Azure call (crossplane-runtime's create journal).

Intent is saved before the call and the outcome after it, as annotations (status is not kept by
backup/restore tools such as Velero; annotations are). If the operator dies between the call and the
outcome, the next pass finds "pending newer than both outcomes" and stops instead of calling again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from azbackup.managed import JOURNAL_FAILED as FAILED
from azbackup.managed import JOURNAL_PENDING as PENDING
from azbackup.managed import JOURNAL_SUCCEEDED as SUCCEEDED
from azbackup.managed import Resource, create_incomplete

__all__ = ["FAILED", "PENDING", "SUCCEEDED", "Journal", "create_incomplete"]


class AnnotationWriter(Protocol):
    async def set_annotations(self, obj: Resource, values: Mapping[str, str], *, guarded: bool) -> Resource:
        """Patch annotations; with guarded=True the patch fails on a stale resourceVersion (409)."""
        ...


class Journal:
    """Records intent and outcome of a non-idempotent create on the object itself."""

    def __init__(self, writer: AnnotationWriter) -> None:
        self.writer = writer

    def create_incomplete(self, obj: Resource) -> bool:
        return create_incomplete(obj.annotations)

    async def mark_pending(self, obj: Resource, now: str) -> Resource:
        # Conflict-sensitive: if our copy is stale, another pass may already have sent the create;
        # the 409 stops this pass before the call instead of sending a second one.
        return await self.writer.set_annotations(obj, {PENDING: now}, guarded=True)

    async def mark_succeeded(self, obj: Resource, now: str) -> Resource:
        return await self.writer.set_annotations(obj, {SUCCEEDED: now}, guarded=False)

    async def mark_failed(self, obj: Resource, now: str) -> Resource:
        return await self.writer.set_annotations(obj, {FAILED: now}, guarded=False)
