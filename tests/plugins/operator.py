"""pytest fixtures and helpers for running the real operator against a real API server.

Registered for the whole suite in tests/conftest.py, so the cluster and e2e
tests use the fixtures by name; the helpers are imported from here.

* ``kube`` (session): a ``KubeAdapter`` on the test cluster.
* ``start_operator`` (function): factory ``start_operator(namespace, **options)``
  -> ``OperatorProcess`` (a real ``modelops operator run`` subprocess with
  metrics and liveness on free loopback ports); every process is stopped at
  teardown.
* ``operator`` (function): one operator already leading for ``namespace``.
* helpers: ``md_manifest``, ``apply_md``, ``get_md``, ``play_kubelet``,
  ``events_for``, ``kubectl``, ``wait_condition``, ``eventually``.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import signal
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from modelops_cli.controlplane.ports import free_ports

# Moved to modelops_testkit (testkit/), which the benchmarks share; kept for existing imports.
from modelops_testkit.manifests import IMAGE, md_manifest
from tests.plugins.controlplane import eventually

if TYPE_CHECKING:  # imported when used: the plugin loads for every test run
    from modelops_operator.adapters.kube import KubeAdapter

REPO_ROOT = Path(__file__).resolve().parents[2]
MODELOPS = REPO_ROOT / ".venv" / "bin" / "modelops"

__all__ = [
    "IMAGE",
    "OperatorProcess",
    "apply_md",
    "events_for",
    "eventually",
    "get_md",
    "kube",
    "kubectl",
    "md_manifest",
    "operator",
    "play_kubelet",
    "start_operator",
    "wait_condition",
]


class OperatorProcess:
    """A `modelops operator run` subprocess, logging to a file."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path, identity: str):
        self.identity = identity
        self.log_path = log_path
        # Two distinct ports (chosen together): the process binds both.
        self.metrics_port, self.liveness_port = free_ports(2)
        self.args = [
            *args,
            "--metrics-port",
            str(self.metrics_port),
            "--liveness",
            f"http://127.0.0.1:{self.liveness_port}/healthz",
            "--identity",
            identity,
        ]
        self._log = log_path.open("ab")
        self.proc = subprocess.Popen(
            self.args, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def metrics(self) -> str:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5
        ) as r:
            return r.read().decode()

    def metric(self, name: str, labels: str = "") -> float | None:
        """Value of one sample, e.g. metric("modelops_operator_leader")."""
        prefix = f"{name}{{{labels}}}" if labels else name
        try:
            text = self.metrics()
        except OSError:
            return None
        for line in text.splitlines():
            if line.startswith(prefix + " "):
                return float(line.split()[-1])
        return None

    def live(self) -> bool:
        try:
            url = f"http://127.0.0.1:{self.liveness_port}/healthz"
            with urllib.request.urlopen(url, timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def leading(self) -> bool:
        return self.metric("modelops_operator_leader") == 1.0

    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int | None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._log.close()
        return self.proc.returncode

    def kill(self) -> int | None:
        return self.stop(signal.SIGKILL)


@pytest.fixture(scope="session")
def kube(kubeconfig: str) -> KubeAdapter:
    from modelops_operator.adapters.kube import KubeAdapter

    return KubeAdapter.from_kubeconfig(kubeconfig)


# The operators a test started, for the failure report (pytest_runtest_makereport).
STARTED_OPERATORS = pytest.StashKey[list]()
LOG_TAIL_LINES = 200


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    """A failed test that started operators shows the end of each one's log.

    Their logs live in the test's temporary folder, which later sessions
    remove: without this, a failure seen once in CI says what the test saw but
    not what the operator did.
    """
    report = yield
    if report.failed and report.when in ("setup", "call"):
        for proc in item.stash.get(STARTED_OPERATORS, []):
            try:
                lines = proc.log.splitlines()[-LOG_TAIL_LINES:]
            except OSError as exc:
                lines = [f"(log unreadable: {exc})"]
            state = "running" if proc.running() else f"exited {proc.proc.returncode}"
            report.sections.append(
                (f"operator {proc.identity} ({state}), last {len(lines)} log lines",
                 "\n".join(lines))
            )  # fmt: skip
    return report


@pytest.fixture
def start_operator(control_plane, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    started: list[OperatorProcess] = []
    request.node.stash[STARTED_OPERATORS] = started

    def start(
        namespace: str,
        *,
        identity: str | None = None,
        resync: float = 5.0,
        lease_seconds: float = 6.0,
        renew_seconds: float = 2.0,
        extra: tuple[str, ...] = (),
        wait_leading: bool = True,
    ) -> OperatorProcess:
        identity = identity or f"op-{len(started)}"
        env = {
            **control_plane.env(),
            "BENTOML_DO_NOT_TRACK": "true",
            "OMP_NUM_THREADS": "1",
        }
        if not MODELOPS.exists():
            pytest.fail(f"{MODELOPS} is missing: run tools/bootstrap.sh (make venv) first")
        args = [
            str(MODELOPS),
            "operator",
            "run",
            "--namespace",
            namespace,
            "--lease-namespace",
            namespace,
            "--resync",
            str(resync),
            "--lease-seconds",
            str(lease_seconds),
            "--renew-seconds",
            str(renew_seconds),
            *extra,
        ]
        proc = OperatorProcess(args, env, tmp_path / f"{identity}.log", identity)
        started.append(proc)
        # Polled every 50 ms (local ports, no API request): the kill tests start
        # 100 operators, and each poll's overshoot is time spent waiting.
        eventually(
            lambda: proc.live() or not proc.running(),
            timeout=60,
            interval=0.05,
            what="operator up",
        )
        if not proc.running():
            pytest.fail(f"operator {identity} exited early:\n{proc.log}")
        if wait_leading:
            eventually(proc.leading, timeout=60, interval=0.05, what=f"operator {identity} leading")
        return proc

    yield start
    for proc in started:
        proc.stop()


@pytest.fixture
def operator(start_operator, namespace: str) -> OperatorProcess:
    return start_operator(namespace)


def apply_md(kube: KubeAdapter, namespace: str, manifest: dict[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(manifest)
    body["metadata"]["namespace"] = namespace
    return kube.create(body)


def get_md(kube: KubeAdapter, namespace: str, name: str = "churn") -> dict[str, Any]:
    body = kube.get_model_deployment(namespace, name)
    assert body is not None, f"ModelDeployment {namespace}/{name} is missing"
    return body


def wait_condition(
    kube: KubeAdapter, namespace: str, name: str, ctype: str, status: str = "True", timeout=60
):
    def check():
        body = kube.get_model_deployment(namespace, name) or {}
        for c in (body.get("status") or {}).get("conditions") or []:
            if c["type"] == ctype and c["status"] == status:
                return body
        return None

    return eventually(check, timeout=timeout, what=f"{name} condition {ctype}={status}")


def play_kubelet(kube: KubeAdapter, namespace: str, md_name: str) -> list[str]:
    """Mark the ModelDeployment's pods Running and Ready, as a kubelet would.

    The test control plane has no nodes, so pods stay Pending. Writing the pod
    status (the kubelet's job) lets the real ReplicaSet and Deployment
    controllers compute availability themselves; patching the Deployment's
    status directly would be overwritten by its controller.
    """
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    pods = kube.request(
        "GET",
        f"/api/v1/namespaces/{namespace}/pods",
        query={"labelSelector": f"modelops.io/deployment={md_name}"},
    )["items"]
    patched = []
    for pod in pods:
        if pod["metadata"].get("deletionTimestamp"):
            continue
        ready = [
            {"type": t, "status": "True", "lastTransitionTime": now}
            for t in ("PodScheduled", "Initialized", "ContainersReady", "Ready")
        ]
        kube.request(
            "PATCH",
            f"/api/v1/namespaces/{namespace}/pods/{pod['metadata']['name']}/status",
            body={"status": {"phase": "Running", "conditions": ready, "startTime": now}},
            content_type="application/strategic-merge-patch+json",
        )
        patched.append(pod["metadata"]["name"])
    return patched


def events_for(kube: KubeAdapter, namespace: str, name: str) -> list[dict[str, Any]]:
    """Events whose involvedObject is the ModelDeployment `name`."""
    items = kube.request(
        "GET",
        f"/api/v1/namespaces/{namespace}/events",
        query={"fieldSelector": f"involvedObject.name={name},involvedObject.kind=ModelDeployment"},
    )["items"]
    return sorted(items, key=lambda e: e.get("firstTimestamp") or "")


def kubectl(control_plane, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        ["kubectl", *args], env=control_plane.env(), capture_output=True, text=True, timeout=60
    )
    if check and result.returncode != 0:
        pytest.fail(f"kubectl {' '.join(args)} failed: {result.stderr}")
    return result
