from __future__ import annotations

from typing import Any

import pytest
from azbackup.checks import disk_encryption_supported
from azbackup.checks.facts import AdeFlavour, CheckContext, DiskSelection, PolicyType, VMFacts
from azbackup.checks.result import CheckResult, Result
from azbackup.reasons import Reason

from .builders import CTX, ade_extension, ctx, data_disks, disk, linux, outcome, vm

PASSED = (Result.PASSED, Reason.CHECK_PASSED)
UNSUPPORTED = (Result.FAILED, Reason.DISK_ENCRYPTION_UNSUPPORTED)
UNKNOWN = (Result.UNKNOWN, Reason.FACT_UNAVAILABLE)
NEW = AdeFlavour.WITHOUT_AAD_APP
OLD = AdeFlavour.WITH_AAD_APP


def encrypted_vm(size_gb: int | None = 128, flavour: AdeFlavour | None = NEW, **changes: object) -> VMFacts:
    settings: dict[str, Any] = {"ade_encrypted": True, "ade_flavour": flavour}
    return vm(
        **{
            "os_disk": disk(**settings),
            "data_disks": (disk("vm-app-data0", 0, size_gb=size_gb, **settings), disk("vm-app-data1", 1, **settings)),
            "extensions": (ade_extension("2.2"),),
            **changes,
        }
    )


@pytest.mark.parametrize(
    ("subject", "context", "want"),
    [
        pytest.param(vm(), CTX, PASSED, id="unencrypted-vm-passes"),
        pytest.param(encrypted_vm(), CTX, PASSED, id="ade-vm-passes"),
        pytest.param(encrypted_vm(size_gb=4096), CTX, PASSED, id="encrypted-disk-of-exactly-4tb-passes"),
        pytest.param(encrypted_vm(size_gb=4097), CTX, UNSUPPORTED, id="encrypted-disk-over-4tb-fails"),
        pytest.param(
            vm(data_disks=data_disks(1, size_gb=8192)),
            CTX,
            PASSED,
            id="large-unencrypted-disk-is-not-this-checks-business",
        ),
        pytest.param(
            encrypted_vm(),
            ctx(disk_selection=DiskSelection(exclude_luns=(1,))),
            UNSUPPORTED,
            id="exclusion-with-standard-policy-fails",
        ),
        pytest.param(
            encrypted_vm(),
            ctx(disk_selection=DiskSelection(os_disk_only=True)),
            UNSUPPORTED,
            id="os-disk-only-with-standard-policy-fails",
        ),
        pytest.param(
            encrypted_vm(),
            ctx(disk_selection=DiskSelection(include_luns=(0, 1))),
            PASSED,
            id="include-list-naming-every-disk-excludes-nothing",
        ),
        pytest.param(
            encrypted_vm(),
            ctx(disk_selection=DiskSelection(exclude_luns=(7,))),
            PASSED,
            id="excluding-an-absent-lun-excludes-nothing",
        ),
        pytest.param(
            encrypted_vm(),
            ctx(disk_selection=DiskSelection(exclude_luns=(1,)), policy_type=PolicyType.ENHANCED),
            PASSED,
            id="exclusion-with-enhanced-policy-passes",
        ),
        pytest.param(
            encrypted_vm(),
            ctx(disk_selection=DiskSelection(exclude_luns=(1,)), policy_type=None),
            UNKNOWN,
            id="exclusion-with-unknown-policy-is-unknown",
        ),
        pytest.param(
            encrypted_vm(flavour=OLD, extensions=(ade_extension("1.1"),)), CTX, PASSED, id="ade-with-aad-app-passes"
        ),
        pytest.param(encrypted_vm(flavour=OLD), CTX, UNSUPPORTED, id="aad-disks-with-single-pass-extension-fail"),
        pytest.param(
            encrypted_vm(flavour=NEW, extensions=(ade_extension("0.1", "AzureDiskEncryptionForLinux"),), os=linux()),
            CTX,
            UNSUPPORTED,
            id="linux-aad-extension-with-new-schema-disks-fails",
        ),
        pytest.param(
            encrypted_vm(flavour=None, extensions=(ade_extension("1.1", "AzureDiskEncryptionForLinux"),), os=linux()),
            CTX,
            PASSED,
            id="linux-ade-dm-crypt-passes",
        ),
        pytest.param(encrypted_vm(flavour=None, extensions=None), CTX, PASSED, id="unknown-flavour-is-no-mismatch"),
        pytest.param(vm(os_disk=disk(ade_encrypted=None)), CTX, UNKNOWN, id="unknown-encryption-is-unknown"),
        pytest.param(encrypted_vm(size_gb=None), CTX, UNKNOWN, id="unknown-size-of-encrypted-disk-is-unknown"),
        pytest.param(vm(data_disks=None), CTX, UNKNOWN, id="unread-disks-are-unknown"),
    ],
)
def test_disk_encryption_supported(subject: VMFacts, context: CheckContext, want: tuple[Result, Reason]) -> None:
    assert outcome(disk_encryption_supported.disk_encryption_supported(subject, context)) == want


def test_every_cause_is_named() -> None:
    got = disk_encryption_supported.disk_encryption_supported(
        encrypted_vm(size_gb=5000), ctx(disk_selection=DiskSelection(exclude_luns=(1,)))
    )
    assert got == CheckResult(
        "DiskEncryptionSupported",
        Result.FAILED,
        Reason.DISK_ENCRYPTION_UNSUPPORTED,
        "VM vm-app uses Azure Disk Encryption, which Azure Backup supports, but disk vm-app-data0 is 5000 GB, and "
        "encrypted disks over 4 TB (4096 GB) cannot be backed up: split its data onto smaller disks; and the disk "
        "selection excludes LUN 1, and a Standard policy cannot exclude disks of an encrypted VM "
        "(UserErrorEncryptedVmNotSupportedWithDiskEx): back up all disks, or use an Enhanced policy.",
    )
