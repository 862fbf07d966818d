"""The names of every kind: the one place a plural or a short name is written.

The CRDs, the Kubernetes writer and kopf's registration all read them from here, so a kind cannot be
served under one plural and watched under another. Which kinds exist is the table `kinds.KINDS`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KindName:
    kind: str
    plural: str
    short_names: tuple[str, ...]


VAULT = KindName("BackupVault", "backupvaults", ("bvault", "bv"))
POLICY = KindName("BackupPolicy", "backuppolicies", ("bpolicy", "bpol"))
PROTECTED_VM = KindName("ProtectedVM", "protectedvms", ("pvm",))
SELECTOR = KindName("VMBackupSelector", "vmbackupselectors", ("vmsel", "vbs"))
ON_DEMAND = KindName("OnDemandBackup", "ondemandbackups", ("odb",))
VM_RESTORE = KindName("VMRestore", "vmrestores", ("vmr",))
RESTORE_DRILL = KindName("RestoreDrill", "restoredrills", ("drill",))



@dataclass(frozen=True)
class KubeAccess:
    """A Kubernetes write a kind makes besides its own status; the chart's RBAC is generated from these."""

    target: KindName
    verbs: tuple[str, ...]
    why: str  # one line, written above the rule in the chart
