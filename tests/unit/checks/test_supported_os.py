from __future__ import annotations

import pytest
from azbackup.checks import supported_os
from azbackup.checks.facts import OSInfo
from azbackup.checks.result import CheckResult, Result
from azbackup.reasons import Reason

from .builders import CTX, image, linux, outcome, vm, windows

PASSED = (Result.PASSED, Reason.CHECK_PASSED)
UNSUPPORTED = (Result.FAILED, Reason.UNSUPPORTED_OS)
UNCERTAIN = (Result.WARNING, Reason.OS_SUPPORT_UNCERTAIN)
UNKNOWN = (Result.UNKNOWN, Reason.FACT_UNAVAILABLE)
NO_IMAGE = {"image": None, "name": None, "version": None}


@pytest.mark.parametrize(
    ("os", "want"),
    [
        pytest.param(windows(), PASSED, id="server-2019-passes"),
        pytest.param(windows(name="Windows Server 2025 Datacenter"), PASSED, id="server-2025-passes"),
        pytest.param(windows(name="Windows Server 2008 R2 Datacenter"), PASSED, id="server-2008-r2-passes"),
        pytest.param(
            windows(name="Windows Server 2008 Datacenter"), PASSED, id="server-2008-64bit-is-in-todays-matrix"
        ),
        pytest.param(windows(name="Windows Server 2003 Enterprise"), UNSUPPORTED, id="server-2003-fails-UnsupportedOS"),
        pytest.param(windows(name="Windows 10 Enterprise"), PASSED, id="windows-10-passes"),
        pytest.param(windows(name="Windows 11 Pro"), PASSED, id="windows-11-passes"),
        pytest.param(windows(name="Windows 7 Enterprise"), UNSUPPORTED, id="windows-7-left-todays-matrix"),
        pytest.param(windows(name="Windows 8.1 Pro"), UNSUPPORTED, id="windows-8.1-fails"),
        pytest.param(
            windows(name=None, image=image("MicrosoftWindowsServer", "WindowsServer", "2012-R2-Datacenter")),
            PASSED,
            id="server-sku-year-passes",
        ),
        pytest.param(
            windows(name=None, image=image("MicrosoftWindowsServer", "WindowsServer", "2008-R2-SP1")),
            PASSED,
            id="sku-2008-r2-sp1-passes",
        ),
        pytest.param(
            windows(
                name=None,
                image=image(
                    "MicrosoftWindowsServer", "WindowsServer", "datacenter-core-1809-with-containers-smalldisk"
                ),
            ),
            PASSED,
            id="semi-annual-sku-without-year-passes",
        ),
        pytest.param(
            windows(name=None, image=image("MicrosoftWindowsDesktop", "windows-11", "win11-23h2-pro")),
            PASSED,
            id="desktop-11-image-passes",
        ),
        pytest.param(
            windows(name=None, image=image("MicrosoftWindowsDesktop", "Windows-7", "win7-enterprise")),
            UNSUPPORTED,
            id="desktop-7-image-fails",
        ),
        pytest.param(windows(**NO_IMAGE | {"version": "10.0.20348"}), PASSED, id="kernel-10-is-supported-either-way"),
        pytest.param(windows(**NO_IMAGE | {"version": "5.2.3790"}), UNSUPPORTED, id="kernel-5-is-xp-or-2003"),
        pytest.param(windows(**NO_IMAGE | {"version": "6.1.7601"}), UNKNOWN, id="kernel-6.1-is-7-or-2008r2-so-unknown"),
        pytest.param(windows(**NO_IMAGE), UNKNOWN, id="nothing-known-about-windows-is-unknown"),
        pytest.param(linux(), PASSED, id="ubuntu-passes"),
        pytest.param(linux(name="redhat", image=image("RedHat", "RHEL", "9-lvm-gen2")), PASSED, id="rhel-passes"),
        pytest.param(linux(name="sles", image=image("SUSE", "sles-15-sp5", "gen2")), PASSED, id="sles-passes"),
        pytest.param(linux(name="almalinux", image=None), PASSED, id="alma-from-instance-view-passes"),
        pytest.param(
            linux(name=None, image=image("Debian", "debian-12", "12-gen2")), PASSED, id="debian-from-image-passes"
        ),
        pytest.param(linux(name="Oracle Linux Server", image=None), PASSED, id="oracle-linux-passes"),
        pytest.param(linux(name="rocky", image=None), PASSED, id="rocky-passes"),
        pytest.param(
            linux(name="coreos", image=image("CoreOS", "CoreOS", "Stable")),
            UNSUPPORTED,
            id="coreos-fails-UnsupportedOS",
        ),
        pytest.param(
            linux(name="flatcar", image=image("kinvolk", "flatcar-container-linux-free", "stable-gen2")),
            UNCERTAIN,
            id="flatcar-is-endorsed-but-uncertain",
        ),
        pytest.param(
            linux(name="opensuse-leap", image=image("SUSE", "opensuse-leap-15-5", "gen2")),
            UNCERTAIN,
            id="opensuse-is-not-endorsed",
        ),
        pytest.param(
            linux(name="centos", image=image("OpenLogic", "CentOS", "7_9")),
            UNCERTAIN,
            id="centos-is-no-longer-endorsed",
        ),
        pytest.param(linux(name="arch", image=None), UNCERTAIN, id="byo-distribution-warns"),
        pytest.param(linux(**NO_IMAGE), UNKNOWN, id="nothing-known-about-linux-is-unknown"),
        pytest.param(windows(type=None), UNKNOWN, id="unknown-os-type-is-unknown"),
    ],
)
def test_supported_os(os: OSInfo, want: tuple[Result, Reason]) -> None:
    assert outcome(supported_os.supported_os(vm(os=os), CTX)) == want


def test_windows_7_message_says_the_matrix_changed() -> None:
    assert supported_os.supported_os(vm(os=windows(name="Windows 7 Enterprise")), CTX) == CheckResult(
        "SupportedOS",
        Result.FAILED,
        Reason.UNSUPPORTED_OS,
        "VM vm-app runs Windows 7 Enterprise. Azure Backup supports Windows Server 2008 (64-bit) and newer, and of "
        "client versions only Windows 10 and 11 (64-bit); the 2018 guide still listed Windows 7, today's support "
        "matrix does not. Upgrade the OS to a supported version.",
    )


def test_old_server_message_names_the_floor() -> None:
    assert supported_os.supported_os(vm(os=windows(name="Windows Server 2003 Enterprise")), CTX) == CheckResult(
        "SupportedOS",
        Result.FAILED,
        Reason.UNSUPPORTED_OS,
        "VM vm-app runs Windows Server 2003 Enterprise. Azure Backup supports Windows Server 2008 (64-bit) and "
        "newer, and of client versions only Windows 10 and 11 (64-bit); older versions are not. Upgrade the OS to "
        "a supported version.",
    )


@pytest.mark.parametrize(("name", "changed"), [
    pytest.param("Windows Server 2008 Datacenter", True, id="server-2008-says-azure-changed-since-the-guide"),
    pytest.param("Windows Server 2008 R2 Datacenter", False, id="server-2008-r2-was-in-the-guide-already"),
])
def test_windows_server_2008_message(name: str, changed: bool) -> None:
    got = supported_os.supported_os(vm(os=windows(name=name, version="6.0.6002")), CTX)
    assert got.result is Result.PASSED
    assert ("Azure changed since the 2018 guide" in got.message) is changed
