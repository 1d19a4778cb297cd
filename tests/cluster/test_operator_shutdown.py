"""The operator ends when its API server disappears, instead of hanging.

Each test runs its own small control plane (etcd + kube-apiserver, no
controllers: the session's shared plane must keep running for the other
tests), starts a real `modelops operator run` against it, lets it reconcile
one ModelDeployment so its watches, connection pool and thread pool are busy,
then stops the control plane.

The bound on how long the process may take to exit is a hang detector, not a
timing claim: the lease runs out after a few seconds and kopf's
`ultimate_exiting_timeout` (30 s) caps a stuck stop, so a healthy operator
exits well inside it even on a loaded machine; a hanging one never does.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelops_operator.adapters.kube import KubeAdapter
from tests.plugins.controlplane import api_client_for, install_project_crds
from tests.plugins.operator import MODELOPS, OperatorProcess, apply_md, eventually, md_manifest

NAMESPACE = "shutdown"
HANG_BOUND_SECONDS = 120
EXIT_LOST_LEADERSHIP = 3  # modelops_operator.runtime.main


@pytest.fixture
def private_plane(tmp_path: Path) -> Iterator[object]:
    from modelops_cli.controlplane import ControlPlane, MissingBinariesError, StartupError

    plane = ControlPlane(tmp_path / "plane", with_controllers=False, tie_to_parent=True)
    try:
        plane.start()
    except (MissingBinariesError, StartupError) as exc:
        pytest.fail(f"cannot start a private control plane for the shutdown test: {exc}")
    try:
        with api_client_for(plane.kubeconfig) as api_client:
            install_project_crds(api_client)
        KubeAdapter.from_kubeconfig(str(plane.kubeconfig)).request(
            "POST", "/api/v1/namespaces", body={"metadata": {"name": NAMESPACE}}
        )
        yield plane
    finally:
        plane.stop()


def _busy_operator(plane, tmp_path: Path, lease_seconds: int, renew_seconds: int):
    """An operator leading on the private plane that has reconciled one object."""
    if not MODELOPS.exists():
        pytest.fail(f"{MODELOPS} is missing: run tools/bootstrap.sh (make venv) first")
    env = {**plane.env(), "BENTOML_DO_NOT_TRACK": "true", "OMP_NUM_THREADS": "1"}
    args = [
        str(MODELOPS), "operator", "run", "--namespace", NAMESPACE,
        "--lease-namespace", NAMESPACE, "--lease-seconds", str(lease_seconds),
        "--renew-seconds", str(renew_seconds), "--resync", "2",
    ]  # fmt: skip
    proc = OperatorProcess(args, env, tmp_path / "operator.log", "shutdown-test")
    try:
        eventually(proc.leading, timeout=60, what="operator leading")
        kube = KubeAdapter.from_kubeconfig(str(plane.kubeconfig))
        apply_md(kube, NAMESPACE, md_manifest(version="1"))
        eventually(
            lambda: kube.get("apps/v1", "Deployment", NAMESPACE, "churn"),
            what="the operator's Deployment",
        )
        yield proc
    finally:
        proc.stop(timeout=5)


@pytest.fixture
def short_lease_operator(private_plane, tmp_path: Path) -> Iterator[OperatorProcess]:
    # The lease runs out about four seconds after the API server goes away.
    yield from _busy_operator(private_plane, tmp_path, lease_seconds=4, renew_seconds=1)


@pytest.fixture
def long_lease_operator(private_plane, tmp_path: Path) -> Iterator[OperatorProcess]:
    # The lease outlives the test, so only the signal can stop this operator.
    yield from _busy_operator(private_plane, tmp_path, lease_seconds=600, renew_seconds=200)


def _exit_code(proc: OperatorProcess) -> int:
    try:
        return proc.proc.wait(HANG_BOUND_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(proc.proc.pid, signal.SIGKILL)
        pytest.fail(
            f"the operator was still running {HANG_BOUND_SECONDS} s after its API server "
            f"went away (killed); log:\n{proc.log[-4000:]}"
        )


def test_the_operator_exits_by_itself_when_the_api_server_is_gone(
    private_plane, short_lease_operator
):
    busy_operator = short_lease_operator
    private_plane.stop()
    # It can no longer renew its lease, so it must stop acting and exit with
    # the lost-leadership code, for its supervisor to restart it as a follower.
    code = _exit_code(busy_operator)
    assert code == EXIT_LOST_LEADERSHIP, busy_operator.log[-4000:]
    assert "lost" in busy_operator.log.lower(), busy_operator.log[-4000:]


def test_sigterm_stops_the_operator_when_the_api_server_is_gone(private_plane, long_lease_operator):
    busy_operator = long_lease_operator
    private_plane.stop()
    os.killpg(busy_operator.proc.pid, signal.SIGTERM)
    code = _exit_code(busy_operator)
    # A clean stop (0), not the default action of the signal (-15), which
    # would mean kopf never handled it.
    assert code == 0, f"exit code {code}; log:\n{busy_operator.log[-4000:]}"
