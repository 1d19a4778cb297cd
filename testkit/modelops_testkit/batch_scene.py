"""Batch scoring on the real node: a model, an input in the cluster's S3, a ModelDeployment with spec.batch.

Shared by the node test (tests/node/test_batch_node.py) and the benchmark's
`--cluster` row (benchmarks/batch.py): both take a `LocalStack` that is up
(the project's images imported, the registry, the operator installed by its
chart) and run batch scoring as a user would: `modelops batch run NAME
--wait`, then read status.batch.lastRun and the run's output.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from typing import Any

from modelops_testkit import SetupError

BUCKET = "extracts"
OUT = f"s3://{BUCKET}/scores"


@dataclass
class BatchScene:
    stack: Any  # modelops_cli.demo.stack.LocalStack, up
    name: str = "churn-batch"

    @property
    def namespace(self) -> str:
        return self.stack.settings.namespace

    def publish(self, seed: int = 1) -> str:
        """Train churn here and publish it into the cluster's registry; its version."""
        return str(self.stack.publish(seed=seed)["version"])

    def write_input(self, rows: int, row_group: int, *, broken: int = 0, seed: int = 7) -> str:
        """Synthetic customers as Parquet in the cluster's S3 (`broken` rows break the schema)."""
        import fsspec
        import pyarrow as pa
        import pyarrow.parquet as pq

        from modelops_features import synthetic

        frame = synthetic.churn(rows, seed=seed).drop(columns=["churned"])
        frame = frame.astype({"plan": object})
        for row in range(broken):
            frame.loc[row * 97 % rows, "plan"] = "gold"
        url = f"s3://{BUCKET}/customers-{rows}/part-0.parquet"
        fs = fsspec.filesystem("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
        if not fs.exists(BUCKET):
            fs.mkdir(BUCKET)
        with fs.open(url, "wb") as sink:
            pq.write_table(
                pa.Table.from_pandas(frame, preserve_index=False), sink, row_group_size=row_group
            )
        return url.rsplit("/", 1)[0] + "/"

    def manifest(self, version: str, data: str, *, shards: int, parallelism: int) -> dict:
        from modelops_cli.demo.manifests import REGISTRY_SECRET

        images, s = self.stack.images, self.stack.settings
        pod = {
            "automountServiceAccountToken": False,
            "securityContext": {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532},
            "terminationGracePeriodSeconds": 5,
            "containers": [
                {
                    "name": "score",
                    "image": images["modelops-training"],
                    "imagePullPolicy": "Never",
                    "envFrom": [{"secretRef": {"name": REGISTRY_SECRET}}],
                    # One core per pod: the node has two.
                    "resources": {
                        "requests": {"cpu": "500m", "memory": "512Mi"},
                        "limits": {"memory": "2Gi"},
                    },
                    "securityContext": {"readOnlyRootFilesystem": True},
                    "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                }
            ],
            "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}}],
        }
        return {
            "apiVersion": "modelops.io/v1alpha1",
            "kind": "ModelDeployment",
            "metadata": {"name": self.name, "namespace": self.namespace},
            "spec": {
                "model": {"name": s.model, "version": version},
                "image": images["churn-bento"],
                "imagePullPolicy": "Never",
                "registry": {
                    "uri": s.registry_uri,
                    "credentialsSecretRef": {"name": REGISTRY_SECRET},
                },
                "replicas": 1,
                "resources": {"requests": {"cpu": "50m", "memory": "256Mi"}},
                "batch": {
                    "data": data,
                    "out": OUT,
                    "shards": shards,
                    "parallelism": parallelism,
                    "maxRejectRate": 0.01,
                    "jobTemplate": {"spec": {"template": {"spec": pod}}},
                },
            },
        }

    def apply(self, body: dict, timeout: float = 60) -> None:
        """Apply the ModelDeployment and wait until it has a stable version to score."""
        self.stack.apply([body])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (self.status().get("stable") or {}).get("version") == body["spec"]["model"][
                "version"
            ]:
                return
            time.sleep(0.5)
        raise SetupError(
            f"{self.namespace}/{self.name} has no stable version after {timeout:.0f} s"
        )

    def status(self) -> dict:
        path = (
            f"/apis/modelops.io/v1alpha1/namespaces/{self.namespace}/modeldeployments/{self.name}"
        )
        return self.stack.kube.request("GET", path).get("status") or {}

    def run(self, timeout: float = 300) -> tuple[int, dict, float, str]:
        """`modelops batch run NAME --wait -o json`: (exit code, lastRun, wall seconds, stderr)."""
        from modelops_cli.demo.stack import REPO_ROOT

        started = time.monotonic()
        proc = subprocess.run(
            [str(REPO_ROOT / ".venv" / "bin" / "modelops"), "batch", "run", self.name,
             "-n", self.namespace, "--wait", "--timeout", f"{timeout:.0f}s", "-o", "json"],
            env=self.stack.cluster.env(), capture_output=True, text=True, timeout=timeout + 30,
        )  # fmt: skip
        seconds = time.monotonic() - started
        last = json.loads(proc.stdout) if proc.stdout.strip().startswith("{") else {}
        return proc.returncode, last, seconds, proc.stderr

    def job_seconds(self, job: str) -> float | None:
        """The Job's own span, startTime to completionTime (whole seconds, as Kubernetes keeps them)."""
        import datetime as dt

        path = f"/apis/batch/v1/namespaces/{self.namespace}/jobs/{job}"
        status = self.stack.kube.request("GET", path).get("status") or {}
        if not status.get("completionTime"):
            return None
        start, end = (
            dt.datetime.fromisoformat(status[k].replace("Z", "+00:00"))
            for k in ("startTime", "completionTime")
        )
        return (end - start).total_seconds()
