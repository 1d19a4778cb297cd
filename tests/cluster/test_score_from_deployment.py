"""`modelops score --from-deployment`: the version a ModelDeployment's stable track serves.

Against the real API server: the command reads status.stable.version (not the
spec, not the canary), spec.model.name and spec.registry.uri through the
operator's kube adapter, as a user's kubeconfig allows. No operator runs
here: the test writes the status an operator would have written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from modelops_features import synthetic
from tests.plugins.operator import apply_md, md_manifest


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Two approved churn versions in a file:// registry."""
    from modelops_training import XGBParams, train

    uri = f"file://{tmp_path_factory.mktemp('registry')}"
    for seed in (0, 1):
        result = train(
            model="churn", data="synthetic:1500", registry_uri=uri, seed=seed,
            params=XGBParams(n_estimators=20), gates={"maxBaselineRegression": 0.05},
        )  # fmt: skip
        assert result["status"] == "approved", result["gates"]
    return uri


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "customers.parquet"
    synthetic.churn(500, seed=2).to_parquet(path, index=False)
    return path


def set_stable(kube, namespace: str, name: str, version: str) -> None:
    kube.request(
        "PATCH",
        f"/apis/modelops.io/v1alpha1/namespaces/{namespace}/modeldeployments/{name}/status",
        body={
            "status": {
                "phase": "Progressing",
                "stable": {"version": version, "image": "ghcr.io/acme/churn-bento:1.2.0"},
                "canary": {"version": "2", "weight": 10, "step": 0},
            }
        },
        content_type="application/merge-patch+json",
    )


def score(kubeconfig: str, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "modelops_cli.main", "score", "--kubeconfig", kubeconfig,
           "-o", "json", "--no-progress", *args]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, env=os.environ, timeout=300)


def test_scores_with_the_stable_version_from_the_deployments_registry(
    kube, namespace, kubeconfig, registry, data, tmp_path
) -> None:
    # The spec asks for version 2 (in canary); the stable track still serves 1.
    apply_md(kube, namespace, md_manifest(version="2", registry={"uri": registry}))
    set_stable(kube, namespace, "churn", "1")
    out = tmp_path / "scores.parquet"
    done = score(
        kubeconfig, "--from-deployment", f"{namespace}/churn", "--data", str(data),
        "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["model"], summary["version"], summary["registry"]) == ("churn", "1", registry)
    assert summary["rows"] == 500
    assert f"ModelDeployment {namespace}/churn serves churn version 1 on its stable track" in (
        done.stderr
    )


def test_a_deployment_without_a_stable_version_is_bad_input(
    kube, namespace, kubeconfig, registry, data, tmp_path
) -> None:
    apply_md(kube, namespace, md_manifest(registry={"uri": registry}))
    done = score(
        kubeconfig, "--from-deployment", f"{namespace}/churn", "--data", str(data),
        "--out", str(tmp_path / "o.parquet"),
    )  # fmt: skip
    assert done.returncode == 2
    assert "has no stable version yet" in done.stderr
    assert not (tmp_path / "o.parquet").exists()


def test_an_unknown_deployment_is_bad_input(kubeconfig, namespace, data, tmp_path) -> None:
    done = score(
        kubeconfig, "--from-deployment", f"{namespace}/nope", "--data", str(data),
        "--out", str(tmp_path / "o.parquet"),
    )  # fmt: skip
    assert done.returncode == 2
    assert f"ModelDeployment {namespace}/nope not found" in done.stderr
