"""The operator's own check, when no admission policy is installed.

`modelops operator run --retraining-service-accounts default,trainer` (what the
chart passes from admission.retrainingServiceAccounts) against a cluster
without the chart's ValidatingAdmissionPolicy: a ModelDeployment whose
jobTemplate runs as another ServiceAccount is admitted, but asking for a
retraining starts no Job; the Retraining condition and one Warning Event name
the field. (The CRD's always-wrong rules cannot be bypassed on this cluster;
the operator's copy of them is unit-tested in tests/unit/operator/retraining/test_policy.py.)
"""

from __future__ import annotations

import time

from tests.cluster.canary_support import annotate
from tests.plugins.operator import apply_md, events_for, eventually, get_md, md_manifest

FIELD = "spec.retraining.jobTemplate.spec.template.spec.serviceAccountName"


def retraining_condition(kube, namespace):
    for c in (get_md(kube, namespace).get("status") or {}).get("conditions") or []:
        if c["type"] == "Retraining":
            return c
    return None


def test_an_unlisted_account_starts_no_job(kube, namespace, start_operator):
    container = {"name": "train", "image": "ghcr.io/acme/modelops-training:0.1.0"}
    pod = {"serviceAccountName": "admin", "containers": [container]}
    body = md_manifest(retraining={"jobTemplate": {"spec": {"template": {"spec": pod}}}})
    start_operator(
        namespace, resync=1.0, extra=("--retraining-service-accounts", "default,trainer")
    )
    apply_md(kube, namespace, body)
    eventually(
        lambda: (get_md(kube, namespace).get("status") or {}).get("stable"),
        timeout=90,
        what="a stable version (retraining needs a base)",
    )

    annotate(kube, namespace, "churn", "modelops.io/retrain", "sa-1")
    refused = eventually(
        lambda: (
            (c := retraining_condition(kube, namespace))
            and c["reason"] == "JobTemplateRefused"
            and c
        ),
        timeout=60,
        what="Retraining condition JobTemplateRefused",
    )
    assert refused["status"] == "False"
    assert f'{FIELD}: retraining Jobs may not run as ServiceAccount "admin"' in refused["message"]
    assert "allowed: default, trainer" in refused["message"]
    events = eventually(
        lambda: [
            e for e in events_for(kube, namespace, "churn") if e["reason"] == "JobTemplateRefused"
        ],
        what="JobTemplateRefused event",
    )
    assert events[0]["type"] == "Warning"
    time.sleep(3)  # three more resync passes: still no Job, still one Event
    assert kube.children(namespace, "churn", kind="Job") == []
    assert (
        len(
            [e for e in events_for(kube, namespace, "churn") if e["reason"] == "JobTemplateRefused"]
        )
        == 1
    )
    assert (get_md(kube, namespace)["status"].get("actions") or {}).get("retrain") == "sa-1"
