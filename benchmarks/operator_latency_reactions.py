"""The operator's reactions that need no resync, for operator_latency.py: a
`modelops.io/retrain` annotation -> its Job exists, and that Job failing ->
status.retraining records the outcome (one object at a time).
"""

from __future__ import annotations

import time

from operator_latency_apply import NAMESPACE, manifest

from modelops_testkit.poll import wait

JOB_MANAGER = "modelops.io/bench"  # spec.managedBy: the Job controller leaves these Jobs alone


def retrainable(name: str, registry_uri: str) -> dict:
    body = manifest(name, 0)
    body["spec"]["registry"] = {"uri": registry_uri}
    body["spec"]["retraining"] = {
        "jobTemplate": {
            "spec": {
                "managedBy": JOB_MANAGER,
                "template": {"spec": {"containers": [{"name": "t", "image": "train:1"}]}},
            }
        },
        "cooldown": "1h",
    }
    return body


def poll(check, timeout: float = 120, interval: float = 0.01):
    """`check`'s first truthy value; one object at a time, so polling it costs little."""
    return wait(check, timeout, interval=interval)


def measure_reactions(kube, rounds: int, registry_uri: str) -> tuple[list[float], list[float]]:
    """Per round: annotate -> the Job exists; finish the Job -> status.retraining records it."""
    base = f"/apis/modelops.io/v1alpha1/namespaces/{NAMESPACE}/modeldeployments"
    to_job, to_outcome = [], []
    for i in range(rounds):
        name = f"retrain-{i}"
        kube.create(retrainable(name, registry_uri))
        poll(
            lambda n=name: any(
                c["type"] == "Retraining"
                for c in (kube.get_model_deployment(NAMESPACE, n).get("status") or {}).get(
                    "conditions"
                )
                or []
            ),
            interval=0.1,
        )
        started = time.monotonic()
        kube.request(
            "PATCH",
            f"{base}/{name}",
            body={"metadata": {"annotations": {"modelops.io/retrain": f"bench-{i}"}}},
            content_type="application/merge-patch+json",
        )
        job = poll(
            lambda n=name: (
                (kube.get_model_deployment(NAMESPACE, n).get("status") or {})
                .get("retraining", {})
                .get("job")
            )
        )
        poll(lambda j=job: kube.get("batch/v1", "Job", NAMESPACE, j))
        to_job.append(time.monotonic() - started)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        failed = [
            {"type": t, "status": "True", "reason": "BackoffLimitExceeded", "message": "bench",
             "lastProbeTime": now, "lastTransitionTime": now}
            for t in ("FailureTarget", "Failed")
        ]  # fmt: skip
        path = f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs/{job}/status"
        kube.request(
            "PATCH", path, body={"status": {"startTime": now, "active": 1}},
            content_type="application/merge-patch+json",
        )  # fmt: skip
        started = time.monotonic()
        kube.request(
            "PATCH", path, body={"status": {"active": 0, "failed": 1, "conditions": failed}},
            content_type="application/merge-patch+json",
        )  # fmt: skip
        poll(
            lambda n=name: (
                (kube.get_model_deployment(NAMESPACE, n).get("status") or {})
                .get("retraining", {})
                .get("state")
                == "Failed"
            )
        )
        to_outcome.append(time.monotonic() - started)
    return to_job, to_outcome
