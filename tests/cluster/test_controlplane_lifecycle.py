"""`modelops controlplane up / status / env / down` as a user runs them.

Each test starts its own small control plane (etcd + kube-apiserver, about
five seconds) in a temporary state directory, separate from the session
fixture's, and checks it is reachable with the printed kubeconfig and that
`down` leaves none of its processes behind.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from kubernetes import client

from modelops_cli.controlplane import ControlPlane, MissingBinariesError, StartupError, discover
from modelops_cli.controlplane.assets import Assets
from modelops_cli.controlplane.processes import is_alive
from tests.plugins.controlplane import api_client_for

CLI = [sys.executable, "-m", "modelops_cli.main", "controlplane"]


@pytest.fixture(scope="module")
def core_assets():
    try:
        return discover(controllers=False)
    except MissingBinariesError as exc:
        problem = str(exc)
    pytest.fail(problem, pytrace=False)


def run_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_cli_up_env_status_down(core_assets, tmp_path):
    state = str(tmp_path / "state")
    up = run_cli("up", "--state-dir", state)
    try:
        exported = shlex.split(up.stdout.strip())
        assert exported[0] == "export" and exported[1].startswith("KUBECONFIG=")
        kubeconfig = exported[1].split("=", 1)[1]
        assert run_cli("env", "--state-dir", state).stdout.strip() == up.stdout.strip()

        # The printed kubeconfig is all a client needs.
        with api_client_for(kubeconfig) as api_client:
            names = {n.metadata.name for n in client.CoreV1Api(api_client).list_namespace().items}
        assert {"default", "kube-system"} <= names

        status = run_cli("status", "--state-dir", state).stdout
        assert "etcd" in status and "kube-apiserver" in status and "DEAD" not in status

        again = run_cli("up", "--state-dir", state, check=False)
        assert again.returncode != 0
        assert "already running" in again.stderr
    finally:
        plane = ControlPlane.attach(state)
        run_cli("down", "--state-dir", state)

    assert plane is not None and not any(is_alive(p) for p in plane.procs)
    assert not Path(kubeconfig).exists()
    gone = run_cli("env", "--state-dir", state, check=False)
    assert gone.returncode != 0 and "no control plane is running" in gone.stderr


def test_failed_start_reports_logs_and_stops_what_it_started(core_assets, tmp_path):
    assets_dir = tmp_path / "assets"
    assets_dir.mkdir()
    os.symlink(core_assets["etcd"], assets_dir / "etcd")
    broken = assets_dir / "kube-apiserver"
    broken.write_text("#!/bin/sh\necho 'refusing to start: simulated fault' >&2\nexit 3\n")
    broken.chmod(0o755)
    assets = Assets({"etcd": core_assets["etcd"], "kube-apiserver": broken}, "test")

    plane = ControlPlane(tmp_path / "state", assets=assets, tie_to_parent=True)
    with pytest.raises(StartupError) as failed:
        plane.start()

    message = str(failed.value)
    assert "kube-apiserver exited during start-up" in message
    assert "refusing to start: simulated fault" in message
    assert plane.procs == []
    assert not (tmp_path / "state" / "state.json").exists()
    # etcd, which did start, was stopped again.
    assert processes_mentioning(str(tmp_path / "state")) == []


def processes_mentioning(text: str) -> list[int]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text in cmdline.read_bytes().decode(errors="replace"):
                found.append(int(cmdline.parent.name))
        except OSError:
            continue
    return found
