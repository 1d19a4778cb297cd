"""What a promoted and a rolled-back canary look like to kubectl wait, Argo CD and the CLI.

The real operator process runs a canary on the real API server (kwok pods,
the canary's analysis read from a MetricsFile), while the three clients read
the same object: `kubectl wait --for=condition=...`, the chart's Argo CD
health check (the Lua script, run in Lua on the status the API server
returned) and `modelops rollout status --wait` (its exit code). The table of
what each situation sets is in docs/operator.md ("Conditions").
"""

from __future__ import annotations

import subprocess

import pytest

from modelops_cli import rollout_wait
from tests.cluster.canary_support import (
    FAILING,
    HEALTHY,
    MetricsFile,
    canary_manifest,
    patch_spec,
    wait_phase,
)
from tests.plugins.operator import MODELOPS, apply_md, eventually, get_md
from tests.unit.test_chart_argocd import health

TIMEOUT = "180s"


@pytest.fixture
def metrics_file(tmp_path, monkeypatch) -> MetricsFile:
    path = tmp_path / "canary-metrics.json"
    # The operator subprocess inherits the environment through control_plane.env().
    monkeypatch.setenv("MODELOPS_METRICS_PROVIDER_FILE", str(path))
    return MetricsFile(path)


@pytest.fixture
def canary_operator(metrics_file, start_operator, namespace):
    return start_operator(namespace, resync=2.0)


def start(control_plane, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        list(args),
        env=control_plane.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen, timeout: float = 240) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def rollout_status(control_plane, namespace: str, *extra: str, name: str = "churn"):
    return start(
        control_plane, str(MODELOPS), "rollout", "status", name, "-n", namespace, "--wait", *extra
    )


def kubectl_wait(control_plane, namespace: str, condition: str, timeout: str = TIMEOUT):
    return start(
        control_plane,
        "kubectl",
        "wait",
        f"--for=condition={condition}",
        "md/churn",
        "-n",
        namespace,
        f"--timeout={timeout}",
    )


def deploy_stable(kube, namespace: str) -> None:
    apply_md(kube, namespace, canary_manifest("1"))
    wait_phase(kube, namespace, "Stable", stable="1")


def test_promotion_ends_every_wait_with_success(
    kube, namespace, metrics_file, canary_operator, control_plane
):
    metrics_file.set(namespace, "churn", HEALTHY)
    deploy_stable(kube, namespace)
    patch_spec(kube, namespace, "churn", {"model": {"name": "churn", "version": "2"}})
    # Started at once: Ready=True of generation 1 must not answer for generation 2.
    cli = rollout_status(control_plane, namespace, "--timeout", TIMEOUT)
    ready = kubectl_wait(control_plane, namespace, "Ready")

    def at_step_one():
        body = get_md(kube, namespace)
        return body if (body.get("status", {}).get("canary") or {}).get("weight") == 25 else None

    in_progress = eventually(at_step_one, what="canary at step 1")
    assert health(in_progress)["status"] == "Progressing"

    code, out, err = finish(ready)
    assert code == 0, err
    # kubectl wait returned only once version 2 served: not at generation 1's Ready.
    body = get_md(kube, namespace)
    assert body["status"]["stable"]["version"] == "2"
    code, out, err = finish(cli)
    assert code == rollout_wait.ROLLED_OUT, (out, err)
    lines = out.splitlines()
    assert any(
        line.startswith("Waiting for churn rollout to finish: canary version 2") for line in lines
    ), out
    assert lines[-1] == "churn: successfully rolled out, serving version 2", out
    result = health(body)
    assert result == {"status": "Healthy", "message": "Serving version 2"}


def test_rollback_is_degraded_for_every_reader(
    kube, namespace, metrics_file, canary_operator, control_plane
):
    metrics_file.set(namespace, "churn", FAILING)
    deploy_stable(kube, namespace)
    patch_spec(kube, namespace, "churn", {"model": {"name": "churn", "version": "2"}})
    cli = rollout_status(control_plane, namespace, "--timeout", TIMEOUT)
    degraded = kubectl_wait(control_plane, namespace, "Degraded")
    settled = kubectl_wait(control_plane, namespace, "Progressing=False")

    code, out, err = finish(cli)
    assert code == rollout_wait.ROLLED_BACK, (out, err)
    assert "churn: version 2 rolled back:" in out and "error-rate 0.3 > max 0.01" in out, out
    for proc in (degraded, settled):
        code, out, err = finish(proc)
        assert code == 0, err
    # Ready stays False: the spec's version is not what serves.
    code, out, err = finish(kubectl_wait(control_plane, namespace, "Ready", timeout="3s"))
    assert code != 0 and "timed out" in err, (code, out, err)

    body = get_md(kube, namespace)
    status = body["status"]
    assert status["phase"] == "RolledBack" and status["stable"]["version"] == "1"
    got = {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}
    assert got["Ready"] == ("False", "VersionRejected")
    assert got["Progressing"] == ("False", "RolledBack")
    assert got["Degraded"] == ("True", "RolledBack")
    assert got["AnalysisPassed"] == ("False", "AnalysisFailed")
    generation = body["metadata"]["generation"]
    assert status["observedGeneration"] == generation
    assert all(
        c["observedGeneration"] == generation
        for c in status["conditions"]
        if c["type"] in ("Ready", "Progressing", "Degraded")
    )
    result = health(body)
    assert result["status"] == "Degraded" and result["message"].startswith("RolledBack: ")

    # Without --wait the command is a view and exits 0; a missing object is an error.
    view = subprocess.run(
        [str(MODELOPS), "rollout", "status", "churn", "-n", namespace],
        env=control_plane.env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert view.returncode == 0 and "phase RolledBack" in view.stdout, view
    code, out, err = finish(rollout_status(control_plane, namespace, name="absent"))
    assert code == rollout_wait.ERROR and "not found" in err, (out, err)

    # A canary that cannot end in time (interval 1h): the wait gives up with its own code.
    patch_spec(
        kube,
        namespace,
        "churn",
        {"model": {"name": "churn", "version": "3"}, "rollout": {"interval": "1h"}},
    )
    code, out, err = finish(rollout_status(control_plane, namespace, "--timeout", "5s"))
    assert code == rollout_wait.TIMED_OUT, (out, err)
    assert "timed out after 5s waiting for churn" in err, err
