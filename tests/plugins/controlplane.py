"""pytest fixtures for tests that need a real Kubernetes API.

Fixtures (names are an interface other test layers rely on):

* ``control_plane`` (session): a started control plane — etcd, kube-apiserver,
  kube-controller-manager, kube-scheduler and kwok (one simulated node, so
  Pods become Running and Deployments Available) as local processes — with
  every CRD under crds/ installed and Established. Exposes ``.kubeconfig``
  (Path), ``.server`` (URL), ``.with_controllers``, ``.with_kwok`` and
  ``.env()`` (an environment for subprocesses with KUBECONFIG set). With ``USE_EXISTING_CLUSTER=true`` the
  current kubeconfig's cluster is used instead and nothing is started.
* ``kubeconfig`` (session): the kubeconfig path as a string.
* ``kube_client`` (session): a ``kubernetes.client.ApiClient`` for it.
* ``namespace`` (function): a fresh namespace, deleted after the test.

Missing binaries make the fixture fail with instructions; it never skips.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

# Moved to modelops_testkit.kube (testkit/), which the benchmarks share; kept for existing imports.
from modelops_testkit.kube import (
    CRD_DIR,  # noqa: F401  kept for existing imports
    ESTABLISHED_TIMEOUT,  # noqa: F401  kept for existing imports
    REPO_ROOT,  # noqa: F401  kept for existing imports
    api_client_for,
    crd_documents,  # noqa: F401  kept for existing imports
    install_crd,  # noqa: F401  kept for existing imports
    install_project_crds,
    wait_established,  # noqa: F401  kept for existing imports
)

SERVICE_ACCOUNT_TIMEOUT = 60.0


class ExistingCluster:
    """The cluster of the current kubeconfig, for USE_EXISTING_CLUSTER=true."""

    with_controllers = True
    # A real cluster runs real kubelets: whether a Pod gets Running depends on
    # its image, so tests must not expect simulated readiness there.
    with_kwok = False

    def __init__(self) -> None:
        from modelops_cli.controlplane import kubeconfig as kubeconfig_mod

        candidates = [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
        candidates.append(str(Path.home() / ".kube" / "config"))
        path = next((Path(p) for p in candidates if Path(p).is_file()), None)
        if path is None:
            pytest.fail(
                "USE_EXISTING_CLUSTER=true but no kubeconfig found "
                f"(looked at {', '.join(candidates)}); set KUBECONFIG"
            )
        self.kubeconfig = path
        try:
            self.server = kubeconfig_mod.current_server(yaml.safe_load(path.read_text()) or {})
        except ValueError as exc:
            pytest.fail(f"USE_EXISTING_CLUSTER=true but {path} is unusable: {exc}")

    def env(self) -> dict[str, str]:
        return {**os.environ, "KUBECONFIG": str(self.kubeconfig)}

    def stop(self) -> None:
        """Someone else's cluster is left running."""


def use_existing_cluster() -> bool:
    return os.environ.get("USE_EXISTING_CLUSTER", "").strip().lower() in ("1", "true", "yes")


def _start_control_plane(state_dir: Path):
    from modelops_cli.controlplane import (
        ControlPlane,
        MissingBinariesError,
        StartupError,
    )

    # kwok's simulated node lets Pods become Running and Deployments Available,
    # which the operator waits for; without it every Pod stays Pending.
    plane = ControlPlane(state_dir, with_controllers=True, with_kwok=True, tie_to_parent=True)
    try:
        return plane.start()
    except MissingBinariesError as exc:
        problem = f"cannot start the cluster tests' control plane: {exc}"
    except StartupError as exc:
        problem = str(exc)
    # Outside the except blocks, so the report shows the message, not a chain.
    pytest.fail(problem, pytrace=False)


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    if use_existing_cluster():
        plane = ExistingCluster()
        state_dir = None
    else:
        state_dir = tmp_path_factory.mktemp("controlplane")
        plane = _start_control_plane(state_dir)
    try:
        with api_client_for(plane.kubeconfig) as api_client:
            install_project_crds(api_client)
        yield plane
    finally:
        plane.stop()
        if state_dir is not None:
            # etcd's data is tens of megabytes; pytest keeps old tmp dirs.
            shutil.rmtree(state_dir / "etcd", ignore_errors=True)


@pytest.fixture(scope="session")
def kubeconfig(control_plane) -> str:
    return str(control_plane.kubeconfig)


@pytest.fixture(scope="session")
def kube_client(kubeconfig: str) -> Iterator[object]:
    api_client = api_client_for(kubeconfig)
    try:
        yield api_client
    finally:
        api_client.close()


def namespace_name(test_name: str) -> str:
    """A valid, unique namespace name (DNS-1123 label) derived from a test name."""
    stem = re.sub(r"[^a-z0-9-]+", "-", test_name.lower()).strip("-")[:40].strip("-") or "test"
    return f"{stem}-{uuid.uuid4().hex[:8]}"


def _wait_default_service_account(api_client, name: str) -> None:
    # Pods are refused until the service-account controller has created the
    # namespace's `default` ServiceAccount; waiting here spares every test that.
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    core = client.CoreV1Api(api_client)
    deadline = time.monotonic() + SERVICE_ACCOUNT_TIMEOUT
    while True:
        try:
            core.read_namespaced_service_account("default", name)
            return
        except ApiException as exc:
            if exc.status != 404:
                raise
        if time.monotonic() > deadline:
            pytest.fail(
                f"namespace {name}: no default ServiceAccount after {SERVICE_ACCOUNT_TIMEOUT:.0f} s"
            )
        time.sleep(0.1)


@pytest.fixture
def namespace(request: pytest.FixtureRequest, control_plane, kube_client) -> Iterator[str]:
    from kubernetes import client

    core = client.CoreV1Api(kube_client)
    name = namespace_name(request.node.name)
    core.create_namespace({"metadata": {"name": name, "labels": {"modelops.io/test": "true"}}})
    if control_plane.with_controllers:
        _wait_default_service_account(kube_client, name)
    try:
        yield name
    finally:
        # Background propagation: the namespace controller finishes the
        # clean-up while the next test runs.
        core.delete_namespace(name, propagation_policy="Background")


def eventually(check, *, timeout: float = 60.0, interval: float = 0.2, what: str = "condition"):
    """Poll `check()` until it returns a truthy value, and return that value.

    Controllers act asynchronously; tests state the end result they expect and
    give the cluster time to reach it. On timeout the last value is reported.
    """
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"{what} not reached within {timeout:.0f} s (last value: {last!r})")


# --- API server faults (leader election and chaos tests) ------------------------------------
#
# The control plane is shared by the whole session, so every helper below
# leaves the API server running and ready again, with the flags it had, before
# it returns.

AUDIT_POLICY = """\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: None
    verbs: ["get", "list", "watch"]
  - level: Metadata
"""


def _apiserver(plane):
    if use_existing_cluster() or not hasattr(plane, "procs"):
        pytest.fail(
            "this test stops and restarts the API server, which only the test control plane "
            "started by the `control_plane` fixture allows; unset USE_EXISTING_CLUSTER",
            pytrace=False,
        )
    for proc in plane.procs:
        if proc.name == "kube-apiserver":
            return proc
    pytest.fail(f"no kube-apiserver among the control plane's processes {plane.procs}")


def wait_api_ready(plane, timeout: float = 60.0) -> None:
    from kubernetes import client

    with api_client_for(plane.kubeconfig) as api_client:
        version = client.VersionApi(api_client)

        def answers() -> bool:
            try:
                version.get_code(_request_timeout=2)
                return True
            except Exception:  # refused, reset or timed out while it starts
                return False

        eventually(answers, timeout=timeout, interval=0.2, what="API server answering again")


def pause_api_server(plane, seconds: float) -> None:
    """Freeze kube-apiserver (SIGSTOP) for `seconds`, then let it go on (SIGCONT).

    Clients' connections are accepted by the kernel and then hang, as with an
    API server that stopped answering; nothing it holds is lost.
    """
    import signal

    proc = _apiserver(plane)
    os.kill(proc.pid, signal.SIGSTOP)
    try:
        time.sleep(seconds)
    finally:
        os.kill(proc.pid, signal.SIGCONT)
    wait_api_ready(plane)


def restart_api_server(plane, *, down_seconds: float = 0.0, extra_args: tuple[str, ...] = ()):
    """Stop kube-apiserver, keep it down `down_seconds`, start it again on the same
    port with its original flags plus `extra_args`; returns once it answers."""
    from modelops_cli.controlplane import processes

    proc = _apiserver(plane)
    base = getattr(plane, "_apiserver_base_argv", None) or list(proc.argv)
    plane._apiserver_base_argv = base
    processes.stop(proc)
    time.sleep(down_seconds)
    started = processes.spawn(
        proc.name, [*base, *extra_args], Path(proc.log), tie_to_parent=plane.tie_to_parent
    )
    plane.procs[plane.procs.index(proc)] = started
    plane._save_state()
    wait_api_ready(plane)
    return started


class AuditLog:
    """The API server's audit log: one JSON object per write (reads are not logged)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def writes(self, user_agent_contains: str = "") -> list[dict]:
        if not self.path.exists():
            return []
        entries = []
        for line in self.path.read_text().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # the last line may be half written
            if user_agent_contains in entry.get("userAgent", ""):
                entries.append(entry)
        return entries


@pytest.fixture(scope="module")
def audit_log(control_plane, tmp_path_factory) -> Iterator[AuditLog]:
    """Restart the API server with an audit log of every write, for one test module;
    the API server is restarted without it afterwards."""
    directory = tmp_path_factory.mktemp("audit")
    policy = directory / "policy.yaml"
    policy.write_text(AUDIT_POLICY)
    path = directory / "audit.log"
    restart_api_server(
        control_plane,
        extra_args=(
            f"--audit-policy-file={policy}",
            f"--audit-log-path={path}",
            "--audit-log-mode=blocking",
        ),
    )
    try:
        yield AuditLog(path)
    finally:
        restart_api_server(control_plane)
