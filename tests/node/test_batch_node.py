"""Batch scoring on the real node: the operator's Indexed Job scores a Parquet input in 2 pods.

The training image (with `modelops score`) imported into the node, the
registry (versitygw) in the cluster, the operator installed by its chart. A
model is trained here and published; a Parquet input of two row groups with
three broken rows is written to the cluster's S3; `modelops batch run --wait`
asks for one run. Checked as a user would: the run's numbers in
status.batch.lastRun (summed by the operator from the two pods' termination
messages), its output readable from S3 and equal, row for row and bit for bit,
to what the offline `modelops score` writes from the same input and version.
"""

from __future__ import annotations

import subprocess

import pytest

from modelops_cli.demo.manifests import Settings
from modelops_cli.demo.stack import OPERATOR_NAMESPACE, RELEASE, LocalStack, _helm
from modelops_testkit.batch_scene import BatchScene

SETTINGS = Settings(namespace="batch", training_rows=5000)
ROWS, ROW_GROUP, BROKEN = 20_000, 10_000, 3


@pytest.fixture(scope="module")
def scene(node_cluster):
    stack = LocalStack(SETTINGS, echo=print, cluster=node_cluster).up()
    try:
        yield BatchScene(stack)
    finally:
        stack.down()
        subprocess.run(
            [_helm(), "uninstall", RELEASE, "-n", OPERATOR_NAMESPACE, "--wait"],
            env=node_cluster.env(), capture_output=True, timeout=180, check=False,
        )  # fmt: skip
        for namespace in (SETTINGS.namespace, "monitoring", "registry", OPERATOR_NAMESPACE):
            stack.kubectl("delete", "namespace", namespace, "--ignore-not-found", "--wait=false")


def test_an_indexed_job_of_two_pods_scores_what_the_offline_command_scores(scene, tmp_path):
    import numpy as np
    import pandas as pd

    version = scene.publish()
    data = scene.write_input(ROWS, ROW_GROUP, broken=BROKEN)
    scene.apply(scene.manifest(version, data, shards=2, parallelism=2))

    code, run, _seconds, err = scene.run(timeout=240)
    assert code == 0, f"exit {code}: {err}\n{run}"
    assert run["state"] == "Succeeded" and run["version"] == version
    assert (run["rows"], run["scored"], run["rejects"]) == (ROWS, ROWS - BROKEN, BROKEN), run
    assert run["shardsReported"] == 2

    # The offline command, on this machine, same input and version.
    offline = tmp_path / "offline.parquet"
    # (--allow-rejected: the version served is the version scored, as the Job does.)
    proc = subprocess.run(
        [".venv/bin/modelops", "score", "--model", "churn", "--version", version,
         "--allow-rejected", "--registry", SETTINGS.registry_uri, "--data", data,
         "--out", str(offline), "--max-reject-rate", "0.01", "-o", "json", "--no-progress"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    cluster = pd.read_parquet(run["output"]).sort_values("customer_id", ignore_index=True)
    local = pd.read_parquet(offline).sort_values("customer_id", ignore_index=True)
    assert len(cluster) == ROWS - BROKEN
    assert cluster["customer_id"].tolist() == local["customer_id"].tolist()
    assert np.array_equal(
        cluster["churn_probability"].to_numpy().view(np.uint32),
        local["churn_probability"].to_numpy().view(np.uint32),
    )
    assert set(cluster["model_version"]) == {version}
    rejects = pd.read_parquet(run["output"] + "_rejects/")
    assert len(rejects) == BROKEN and rejects["violations"].str.contains("plan category").all()
