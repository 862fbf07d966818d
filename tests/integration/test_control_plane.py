"""The local control plane from hack/: two at once and two in a row do not clash, and stop leaves nothing."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from azbackup.devtools import control_plane


def _start(workdir: Path) -> control_plane.ControlPlane:
    return control_plane.ControlPlane(bin_dir=control_plane.tool_dir(), workdir=workdir).start()


def test_two_control_planes_at_once_and_in_a_row(tmp_path: Path,
                                                 control_plane_instance: control_plane.ControlPlane) -> None:
    for round_ in range(2):  # in a row: the second round reuses nothing of the first
        with ThreadPoolExecutor(2) as pool:
            planes = list(pool.map(_start, [tmp_path / f"r{round_}-a", tmp_path / f"r{round_}-b"]))
        try:
            servers = {p.server for p in planes} | {control_plane_instance.server}
            assert len(servers) == 3
            for plane in planes:
                version = json.loads(plane.kubectl("version", "-o", "json").stdout)
                assert version["serverVersion"]["gitVersion"].startswith("v1.")
                # kube-controller-manager runs: a namespace deletion completes (namespace controller).
                plane.kubectl("create", "namespace", "gone")
                plane.kubectl("delete", "namespace", "gone", "--timeout=60s")
        finally:
            procs = [proc for plane in planes for _, proc in plane.processes]
            for plane in planes:
                plane.stop()
        assert all(proc.poll() is not None for proc in procs)
        assert not any((tmp_path / f"r{round_}-{x}").exists() for x in "ab")
