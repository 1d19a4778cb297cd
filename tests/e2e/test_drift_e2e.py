"""Drift -> retraining Job -> gates -> canary, end to end with real parts.

Real: the control plane (API server, controllers, kwok), the operator process,
a `bentoml serve` churn server standing in for the stable pod, Debian's
Prometheus scraping it every second (labelled as the pod relabelling would),
the shifted traffic (the synthetic generator's drift mode, shift=1.0), and
`modelops train` run from the Job's own container command with the Job's own
environment. The test plays the node for the Job: it runs that command as a
local process, then writes the Job's terminal status as the Job controller
would (the jobTemplate sets spec.managedBy so the built-in controller and
kwok leave the Job to the test).
"""

from __future__ import annotations

import json
import math
import os
import urllib.error

import pytest

from modelops_features import synthetic
from modelops_operator.api import conditions as cond
from modelops_operator.retraining.job import job_name
from modelops_registry import Registry
from tests.e2e.drift_support import http_open as _open
from tests.e2e.drift_support import prometheus
from tests.plugins.bentos import bentoml_server
from tests.plugins.jobs import JOB_MANAGER, finish_job, run_job_container
from tests.plugins.models import copy_registry
from tests.plugins.operator import MODELOPS, apply_md, events_for, eventually, get_md, md_manifest

RETRAIN_DATA = "synthetic:4000:7:1.0"  # the world has moved: the drifted distribution
# The retrained 30-tree model may trail its logistic baseline a little: the
# default baseline gate (0.01) is widened so the passing case passes by intent.
PASSING_GATES = {
    "minMetric": {"auc": 0.55},
    "maxRegression": 0.5,
    "maxFairnessGap": 1.0,
    "maxBaselineRegression": 0.05,
}
FAILING_GATES = {"minMetric": {"auc": 0.999}, "maxRegression": 0.5, "maxFairnessGap": 1.0}


def manifest(prom: str, uri: str, version: str, gates: dict) -> dict:
    return md_manifest(
        version=version,
        registry={"uri": uri},
        replicas=1,
        rollout={
            "strategy": "Canary",
            "steps": [50],
            "interval": "30s",
            "analysis": {"prometheus": {"address": prom}, "minRequests": 10},
        },
        monitoring={
            "prometheus": {"address": prom},
            "drift": {
                "method": "psi",
                "threshold": 0.2,
                "window": "10m",
                "minSamples": 1000,
                "interval": "2s",
            },
        },
        retraining={
            "jobTemplate": {
                "spec": {
                    "managedBy": JOB_MANAGER,
                    "template": {
                        "spec": {
                            "containers": [
                                {
                                    "name": "train",
                                    "image": "ghcr.io/acme/modelops-training:0.1.0",
                                    "command": [
                                        "modelops",
                                        "train",
                                        "--data",
                                        RETRAIN_DATA,
                                        "--n-estimators",
                                        "30",
                                    ],
                                }
                            ]
                        }
                    },
                }
            },
            "cooldown": "1h",
            "maxAttempts": 2,
            "gates": gates,
        },
    )


def records(n: int, shift: float) -> list[dict]:
    frame = synthetic.churn(n, seed=11, shift=shift).drop(columns=["churned"])
    out = []
    for row in frame.to_dict(orient="records"):
        out.append(
            {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        )
    return out


def send(url: str, rows: list[dict], batch: int = 500) -> None:
    for i in range(0, len(rows), batch):
        body = json.dumps({"records": rows[i : i + batch]}).encode()
        try:
            with _open(f"{url}/predict", body, timeout=60) as r:
                assert r.status == 200
        except urllib.error.HTTPError as exc:
            pytest.fail(f"/predict answered {exc.code}: {exc.read()[:2000]!r}")


def query(prom, expr: str) -> float:
    from urllib.parse import urlencode

    with _open(f"{prom}/api/v1/query?{urlencode({'query': expr})}") as r:
        result = json.loads(r.read())["data"]["result"]
    return float(result[0]["value"][1]) if result else 0.0


def node_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELOPS_")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return {**env, "BENTOML_DO_NOT_TRACK": "true", "OMP_NUM_THREADS": "1"}


def drift_to_job(
    kube, namespace, start_operator, monkeypatch, tmp_path, churn_model, version, gates
):
    """Serve the model, send shifted traffic, wait for Drifted and the Job; return (job, registry)."""
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    model = copy_registry(churn_model, tmp_path / "registry")
    registry = Registry.from_uri(model.uri)
    server_cm = bentoml_server(model, tmp_path)
    server = server_cm.__enter__()
    prom_cm = prometheus(
        tmp_path,
        server.url.removeprefix("http://"),
        {"namespace": namespace, "deployment": "churn", "track": "stable"},
    )
    prom = prom_cm.__enter__()

    def close():
        prom_cm.__exit__(None, None, None)
        server_cm.__exit__(None, None, None)

    try:
        # A first request creates the series; increase() needs a scraped point before the shift.
        send(server.url, records(5, shift=0.0))
        selector = f'model="churn",track="stable",namespace="{namespace}"'
        eventually(
            lambda: query(prom, f"sum(modelops_prediction_count{{{selector}}})") >= 5,
            timeout=60,
            what="Prometheus scraped the server",
        )
        send(server.url, records(3000, shift=1.0))
        eventually(
            lambda: query(prom, f"sum(modelops_prediction_count{{{selector}}})") >= 3005,
            timeout=60,
            what="Prometheus scraped the shifted traffic",
        )
        start_operator(namespace, resync=1.0)
        created = apply_md(kube, namespace, manifest(prom, model.uri, version, gates))
        name = job_name("churn", created["metadata"]["uid"], churn_model.version, 1)
        job = eventually(
            lambda: kube.get("batch/v1", "Job", namespace, name), timeout=90, what="retraining Job"
        )
        status = get_md(kube, namespace)["status"]
        drifted = next(c for c in status["conditions"] if c["type"] == "Drifted")
        assert drifted["status"] == "True", status
        assert status["drift"]["samples"] >= 1000 and status["drift"]["score"] > 0.2
        return job, registry, close
    except BaseException:
        close()
        raise


def play_node(kube, namespace, job) -> int:
    result = run_job_container(job, {"modelops": str(MODELOPS)}, node_env())
    finish_job(kube, namespace, job["metadata"]["name"], succeeded=result.returncode == 0)
    return result.returncode


def test_drift_retrains_and_the_channel_starts_a_canary(
    kube, namespace, start_operator, monkeypatch, tmp_path, churn_model
):
    job, registry, close = drift_to_job(
        kube,
        namespace,
        start_operator,
        monkeypatch,
        tmp_path,
        churn_model,
        "@latest-approved",
        PASSING_GATES,
    )
    try:
        assert play_node(kube, namespace, job) == 0
        name = job["metadata"]["name"]
        candidate = registry.versions("churn")[-1]
        meta = registry.metadata("churn", candidate)
        assert meta["status"] == "approved"
        assert meta["retraining"]["job"] == name
        assert meta["retraining"]["base_version"] == churn_model.version
        assert all(g["passed"] for g in meta["gates"].values()) and meta["gates"]
        status = eventually(
            lambda: (
                (s := get_md(kube, namespace)["status"])
                and (s.get("retraining") or {}).get("state") == "Succeeded"
                and s
            ),
            timeout=60,
            what="candidate recorded",
        )
        assert status["retraining"]["candidate"]["version"] == candidate
        assert status["retraining"]["candidate"]["approved"] is True
        # The channel now names the candidate: the canary machinery starts it.
        # (The analysis interval is 30 s, so the canary is observable for a while.)
        status = eventually(
            lambda: (
                (s := get_md(kube, namespace)["status"])
                and (s.get("canary") or {}).get("version") == candidate
                and s
            ),
            timeout=90,
            what="canary of the candidate",
        )
        assert status["stable"]["version"] == churn_model.version  # not straight to stable
        # The decision is persisted before it is acted on: the Deployment follows the status.
        eventually(
            lambda: kube.get("apps/v1", "Deployment", namespace, "churn-canary"),
            timeout=30,
            what="the canary's Deployment",
        )
        reasons = eventually(
            lambda: (
                (r := [e["reason"] for e in events_for(kube, namespace, "churn")])
                and cond.REASON_CANDIDATE_APPROVED in r
                and r
            ),
            timeout=30,
            what="CandidateApproved event",
        )
        assert "DriftDetected" in reasons and "RetrainingStarted" in reasons
    finally:
        close()


def test_a_candidate_failing_its_gates_never_reaches_traffic(
    kube, namespace, start_operator, monkeypatch, tmp_path, churn_model
):
    job, registry, close = drift_to_job(
        kube,
        namespace,
        start_operator,
        monkeypatch,
        tmp_path,
        churn_model,
        "@latest-approved",
        FAILING_GATES,
    )
    try:
        assert play_node(kube, namespace, job) == 3  # modelops train: rejected
        candidate = registry.versions("churn")[-1]
        meta = registry.metadata("churn", candidate)
        assert meta["status"] == "rejected"
        assert meta["gates"]["minMetric.auc"]["passed"] is False
        status = eventually(
            lambda: (
                (s := get_md(kube, namespace)["status"])
                and (s.get("retraining") or {}).get("candidate")
                and s
            ),
            timeout=60,
            what="rejection recorded",
        )
        assert status["retraining"]["candidate"]["version"] == candidate
        assert status["retraining"]["candidate"]["approved"] is False
        assert status["retraining"]["candidate"]["gates"]["minMetric.auc"]["passed"] is False
        retraining = next(c for c in status["conditions"] if c["type"] == "Retraining")
        assert retraining["reason"] == cond.REASON_CANDIDATE_REJECTED
        # Events are posted right after the status write.
        eventually(
            lambda: (
                cond.REASON_CANDIDATE_REJECTED
                in [e["reason"] for e in events_for(kube, namespace, "churn")]
            ),
            timeout=30,
            what="CandidateRejected event",
        )
        # Nothing reaches traffic: the channel still names the base, no canary.
        status = get_md(kube, namespace)["status"]
        assert status["stable"]["version"] == churn_model.version
        assert not (status.get("canary") or {}).get("version")
        assert kube.get("apps/v1", "Deployment", namespace, "churn-canary") is None
        # And no second Job: the rejection is an answer, the cooldown holds.
        assert [j["metadata"]["name"] for j in kube.children(namespace, "churn", kind="Job")] == [
            job["metadata"]["name"]
        ]
    finally:
        close()


pytestmark = pytest.mark.timeout(600)
