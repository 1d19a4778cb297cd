"""A tampered artefact, end to end on the real node.

Version 2 is published approved, then its artefact's bytes are overwritten
in the registry's object store (its metadata, and so its recorded sha256,
untouched) -- what someone with write access to the bucket, or a flipped
disk block, would do. A canary to version 2 with a short progress deadline
must then never become Ready (the bento refuses the bytes: /readyz stays
503 and its log names the version and says the artefact is corrupt or
tampered with), the operator must roll it back when the deadline passes
(status.rejected, AnalysisPassed=False ProgressDeadlineExceeded,
`modelops rollout status --wait` exits 3), and the stable version must
answer every request meanwhile.

The system is the one the loop test runs (LocalStack: the product images,
the in-cluster S3 registry, Prometheus, the operator from its Helm chart)
on the session's shared node, in its own namespace.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from modelops_cli.demo import manifests
from modelops_cli.demo.manifests import Settings
from modelops_cli.demo.stack import OPERATOR_NAMESPACE, RELEASE, LocalStack, _helm
from modelops_operator.api import conditions as cond
from modelops_operator.api import names
from modelops_registry import ChecksumError, Registry

# Short on purpose: the canary can never become ready, so the deadline is
# the whole wait. The margin is structural: a few resync periods and the
# seconds the operator's first look at the canary may lag its start.
PROGRESS_DEADLINE_SECONDS = 30
MARGIN_SECONDS = 60
SETTINGS = Settings(namespace="tamper", name="churn", replicas=2, rate=10.0)
ARTEFACT = "model.ubj"
STACK_NAMESPACES = ("registry", "monitoring", OPERATOR_NAMESPACE, SETTINGS.namespace)
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def stack(node_cluster):
    # The loop test's tear-down deletes these namespaces without waiting: the
    # registry must start empty and nothing may be applied into a Terminating one.
    _wait_gone(node_cluster, STACK_NAMESPACES)
    stack = LocalStack(SETTINGS, echo=print, cluster=node_cluster)
    try:
        yield stack.up()
    finally:
        stack.down()
        subprocess.run(
            [_helm(), "uninstall", RELEASE, "-n", OPERATOR_NAMESPACE, "--wait"],
            env=node_cluster.env(), capture_output=True, timeout=180, check=False,
        )  # fmt: skip
        for namespace in STACK_NAMESPACES:
            _kubectl(node_cluster, "delete", "namespace", namespace, "--ignore-not-found")


def _kubectl(cluster, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(cluster.kubectl), *args],
        env=cluster.env(), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def _wait_gone(cluster, namespaces, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = _kubectl(cluster, "get", "namespaces", "-o", "name").stdout.split()
        left = [n for n in namespaces if f"namespace/{n}" in out]
        if not left:
            return
        time.sleep(1)
    pytest.fail(f"namespaces {left} still exist {timeout:.0f} s after an earlier test deleted them")


def tamper(stack: LocalStack, version: str) -> None:
    """Overwrite the artefact's bytes in the bucket; metadata.json stays as published."""
    import fsspec

    fs = fsspec.filesystem(
        "s3",
        client_kwargs={"endpoint_url": os.environ["AWS_ENDPOINT_URL"]},
        use_listings_cache=False,
        skip_instance_cache=True,
    )
    path = f"{SETTINGS.registry_bucket}/{SETTINGS.model}/{version}/{ARTEFACT}"
    good = fs.cat_file(path)
    # Same length, a few bytes changed in the middle: what a bit-rot or a
    # careful edit looks like, not a missing file.
    middle = len(good) // 2
    bad = good[:middle] + bytes(b ^ 0xFF for b in good[middle : middle + 16]) + good[middle + 16 :]
    fs.pipe_file(path, bad)
    registry = Registry.from_uri(SETTINGS.registry_uri)
    with pytest.raises(ChecksumError):
        registry.read_artefact(SETTINGS.model, version, ARTEFACT)


class CanaryWatch:
    """Polls the canary's pods every second: were any Ready, and what did they log."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.pods: set[str] = set()
        self.ready: set[str] = set()
        self.logs: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="canary-watch", daemon=True)

    def __enter__(self) -> CanaryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        selector = (
            f"{names.LABEL_DEPLOYMENT}={SETTINGS.name},{names.LABEL_TRACK}={names.TRACK_CANARY}"
        )
        path = f"/api/v1/namespaces/{SETTINGS.namespace}/pods"
        while not self._stop.wait(1.0):
            try:
                pods = self.stack.kube.request("GET", path, query={"labelSelector": selector})
            except Exception:  # an API blip: the next poll looks again
                continue
            for pod in pods["items"]:
                name = pod["metadata"]["name"]
                self.pods.add(name)
                conditions = (pod.get("status") or {}).get("conditions") or []
                if any(c["type"] == "Ready" and c["status"] == "True" for c in conditions):
                    self.ready.add(name)
                log = _kubectl(
                    self.stack.cluster, "logs", name, "-n", SETTINGS.namespace, "--tail=200"
                ).stdout
                if log:
                    self.logs[name] = log


def modeldeployment(stack: LocalStack, version: str) -> dict:
    body = manifests.modeldeployment(
        SETTINGS,
        bento_image=stack.images["churn-bento"],
        training_image=stack.images["modelops-training"],
    )
    spec = body["spec"]
    spec["model"]["version"] = version
    spec["rollout"]["progressDeadline"] = f"{PROGRESS_DEADLINE_SECONDS}s"
    spec["rollout"]["steps"] = [50]
    # Not about faults, drift or retraining: nothing else may act meanwhile.
    for key in ("env", "monitoring", "retraining"):
        spec.pop(key)
    return body


def rollout_status_wait(stack: LocalStack) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(REPO_ROOT / ".venv" / "bin" / "modelops"), "rollout", "status", SETTINGS.name,
            "-n", SETTINGS.namespace, "--wait", "--timeout", "5m",
            "--kubeconfig", str(stack.cluster.kubeconfig),
        ],
        env={**os.environ, **stack.cluster.env()},
        capture_output=True, text=True, timeout=400, check=False,
    )  # fmt: skip


def test_a_tampered_canary_never_serves_and_is_rolled_back_while_stable_answers(stack):
    stable = stack.publish(seed=1)
    assert stable["status"] == "approved", stable.get("gates")
    stack.apply([modeldeployment(stack, stable["version"])])
    stack.wait_serving()

    tampered = stack.publish(seed=2)
    assert tampered["status"] == "approved", tampered.get("gates")
    version = tampered["version"]
    tamper(stack, version)

    traffic = stack.start_traffic()
    try:
        with CanaryWatch(stack) as watch:
            time.sleep(3)  # stable answers before the canary exists
            stack.apply([modeldeployment(stack, version)])
            result = rollout_status_wait(stack)
            time.sleep(3)  # and after the rollback
    finally:
        traffic.stop()
    assert result.returncode == 3, f"exit {result.returncode}:\n{result.stdout}\n{result.stderr}"

    # Stable answered every request, and only stable answered.
    totals = {v: (t.requests, t.ok) for v, t in traffic.totals.items()}
    assert set(totals) == {stable["version"]}, totals
    requests, ok = totals[stable["version"]]
    assert requests > 0 and ok == requests, totals

    # The canary's pods ran, refused the bytes, and never became Ready.
    assert watch.pods, "no canary pod was ever seen"
    assert not watch.ready, f"canary pods {sorted(watch.ready)} became Ready"
    logs = "\n".join(watch.logs.values())
    said = [line for line in logs.splitlines() if "ChecksumError" in line]
    assert said, f"no checksum failure in the canary's logs:\n{logs[-3000:]}"
    assert f"version {version}" in said[0] and "tampered" in said[0], said[0]

    # The operator rolled it back for the deadline, within it plus a margin.
    status = stack.kube.get_model_deployment(SETTINGS.namespace, SETTINGS.name)["status"]
    assert status["stable"]["version"] == stable["version"], status
    assert status["rejected"]["version"] == version, status
    analysis = cond.get_condition(status["conditions"], cond.ANALYSIS_PASSED)
    assert analysis["status"] == "False", analysis
    assert analysis["reason"] == cond.REASON_PROGRESS_DEADLINE, analysis
    degraded = cond.get_condition(status["conditions"], cond.DEGRADED)
    assert (degraded["status"], degraded["reason"]) == ("True", cond.REASON_ROLLED_BACK)
    entry = status["history"][-1]
    assert (entry["version"], entry["outcome"]) == (version, "RolledBack"), entry
    started = _when(status["canary"]["startedAt"]) if status.get("canary") else None
    started = started or _when(_canary_started(stack, version))
    waited = (_when(entry["time"]) - started).total_seconds()
    assert PROGRESS_DEADLINE_SECONDS <= waited <= PROGRESS_DEADLINE_SECONDS + MARGIN_SECONDS, (
        waited,
        entry,
    )


def _when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _canary_started(stack: LocalStack, version: str) -> str:
    """When the operator started the canary, from its CanaryStarted Event."""
    events = stack.kube.request("GET", f"/api/v1/namespaces/{SETTINGS.namespace}/events")["items"]
    started = [
        e
        for e in events
        if e["reason"] == cond.REASON_CANARY_STARTED
        and f"canary version {version} " in e["message"]
    ]
    assert started, f"no {cond.REASON_CANARY_STARTED} Event for version {version}"
    return started[-1].get("firstTimestamp") or started[-1]["eventTime"]
