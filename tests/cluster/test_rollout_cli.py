"""`modelops rollout get|history|undo|promote` against the real API server and operator.

The CLI runs as a user runs it (the installed executable, KUBECONFIG from the
environment), the operator as a process (kwok pods; canary analysis read from
a MetricsFile, see test_rollout_conditions.py).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.cluster.canary_support import (
    FAILING,
    HEALTHY,
    MetricsFile,
    canary_manifest,
    patch_spec,
    wait_phase,
)
from tests.plugins.operator import MODELOPS, apply_md, eventually, get_md, md_manifest


@pytest.fixture
def metrics_file(tmp_path, monkeypatch) -> MetricsFile:
    path = tmp_path / "canary-metrics.json"
    monkeypatch.setenv("MODELOPS_METRICS_PROVIDER_FILE", str(path))
    return MetricsFile(path)


@pytest.fixture
def fast_operator(metrics_file, start_operator, namespace):
    return start_operator(namespace, resync=2.0)


def run(control_plane, *args: str, kubeconfig: Path | None = None, timeout: float = 150):
    env = control_plane.env()
    if kubeconfig is not None:
        env["KUBECONFIG"] = str(kubeconfig)
    proc = subprocess.run(
        [str(MODELOPS), "rollout", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    return proc.returncode, proc.stdout, proc.stderr


def context_in(control_plane, namespace: str, tmp_path: Path) -> Path:
    """A copy of the cluster's kubeconfig whose current context names `namespace`."""
    config = yaml.safe_load(Path(control_plane.kubeconfig).read_text())
    current = config["current-context"]
    for entry in config["contexts"]:
        if entry["name"] == current:
            entry["context"]["namespace"] = namespace
    path = tmp_path / "kubeconfig-with-namespace"
    path.write_text(yaml.safe_dump(config))
    return path


def test_immediate_get_history_undo_from_the_context_namespace(
    kube, namespace, fast_operator, control_plane, tmp_path
):
    apply_md(kube, namespace, md_manifest(version="1"))
    wait_phase(kube, namespace, "Stable", stable="1")
    patch_spec(kube, namespace, "churn", {"model": {"name": "churn", "version": "2"}})
    wait_phase(kube, namespace, "Stable", stable="2")
    here = context_in(control_plane, namespace, tmp_path)

    # No -n: the context's namespace, for get, history and undo alike.
    code, out, err = run(control_plane, "get", kubeconfig=here)
    assert code == 0, err
    header, row = out.splitlines()
    assert header.split() == [
        "NAME",
        "STRATEGY",
        "PHASE",
        "STABLE",
        "CANARY",
        "WEIGHT",
        "READY",
        "AGE",
    ]
    assert row.split()[:6] == ["churn", "Immediate", "Stable", "2", "-", "-"]
    code, out, err = run(control_plane, "get", "churn", "-o", "json", kubeconfig=here)
    assert code == 0, err
    assert json.loads(out)["metadata"]["namespace"] == namespace
    code, out, err = run(control_plane, "history", "churn", "-o", "yaml", kubeconfig=here)
    assert code == 0, err
    assert [(e["version"], e["outcome"]) for e in yaml.safe_load(out)] == [
        ("2", "Deployed"),
        ("1", "Deployed"),
    ]
    # The default kubeconfig's context names no namespace: `default`, where churn is not.
    code, out, err = run(control_plane, "get", "churn")
    assert code == 1 and "default/churn not found" in err, (out, err)

    code, out, err = run(control_plane, "promote", "churn", kubeconfig=here)
    assert code == 1, (out, err)
    assert "uses strategy Immediate: there is no rollout to promote" in err
    assert f"modelops rollout undo churn -n {namespace}" in err

    code, out, err = run(control_plane, "undo", "churn", kubeconfig=here)
    assert code == 0, (out, err)
    assert out.splitlines()[-1] == f"{namespace}/churn: rolled back, serving version 1"
    status = get_md(kube, namespace)["status"]
    assert status["stable"]["version"] == "1" and status["previous"]["version"] == "2"


def test_undo_of_a_settled_canary_is_in_place(
    kube, namespace, metrics_file, fast_operator, control_plane
):
    metrics_file.set(namespace, "churn", HEALTHY)
    apply_md(kube, namespace, canary_manifest("1"))
    wait_phase(kube, namespace, "Stable", stable="1")
    patch_spec(kube, namespace, "churn", {"model": {"name": "churn", "version": "2"}})
    wait_phase(kube, namespace, "Stable", stable="2", timeout=120)

    code, out, err = run(control_plane, "undo", "churn", "-n", namespace)
    assert code == 0, (out, err)
    body = get_md(kube, namespace)
    status = body["status"]
    assert status["stable"]["version"] == "1" and status["previous"]["version"] == "2"
    # In place, no canary: the newest history entry is the Immediate replacement,
    # and the spec is Canary again with its steps, naming what serves.
    assert status["history"][-1]["version"] == "1"
    assert status["history"][-1]["outcome"] == "Deployed"
    assert body["spec"]["rollout"]["strategy"] == "Canary"
    assert body["spec"]["rollout"]["steps"] == [25, 50]
    assert body["spec"]["model"]["version"] == "1"
    code, out, err = run(control_plane, "history", "churn", "-n", namespace)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["TIME", "VERSION", "OUTCOME", "REASON"]
    assert lines[1].split()[1:3] == ["1", "Deployed"]
    assert lines[2].split()[1:3] == ["2", "Promoted"]
    # A settled canary has nothing to promote or abort.
    code, out, err = run(control_plane, "abort", "churn", "-n", namespace)
    assert code == 1 and "no canary in progress to abort" in err, (out, err)


def test_rolled_back_version_promote_asks_and_undo_forgets_it(
    kube, namespace, metrics_file, fast_operator, control_plane
):
    metrics_file.set(namespace, "churn", FAILING)
    apply_md(kube, namespace, canary_manifest("1"))
    wait_phase(kube, namespace, "Stable", stable="1")
    patch_spec(kube, namespace, "churn", {"model": {"name": "churn", "version": "2"}})
    wait_phase(kube, namespace, "RolledBack", stable="1", timeout=120)

    code, out, err = run(control_plane, "status", "churn", "-n", namespace)
    assert code == 0, err
    assert f"modelops rollout promote churn -n {namespace} --yes" in out
    code, out, err = run(control_plane, "promote", "churn", "-n", namespace)
    assert code == 1, (out, err)
    assert "restarts its canary from step 1 (weight 25%" in err and "--yes" in err
    assert "promote" not in (get_md(kube, namespace)["status"].get("actions") or {})

    code, out, err = run(control_plane, "undo", "churn", "-n", namespace)
    assert code == 0, (out, err)
    assert "spec back to stable version 1" in out
    body = eventually(
        lambda: (b := get_md(kube, namespace))["status"].get("phase") == "Stable" and b,
        what="Stable after undo",
    )
    assert body["spec"]["model"]["version"] == "1"
    assert "rejected" not in body["status"] and "canary" not in body["status"]
