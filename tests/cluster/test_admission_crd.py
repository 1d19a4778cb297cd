"""CRD admission of updates, and what the pod-template rules leave alone.

Updates: a valid ModelDeployment, then a patch that breaks a rule.

Each file in invalid_manifests/updates/ holds two YAML documents: the object,
created for real, then a JSON merge patch that must be refused with the field
named (the first line, `# expect: <fragment>`). The stored object must be
unchanged afterwards. Creates of the same kinds of mistakes are the
invalid_manifests/*.yaml corpus (test_operator_crd.py); updates matter on their
own because a CRD rule can be written so that it only sees new objects, and
because CRD validation ratcheting lets unchanged invalid values through.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from modelops_operator.adapters.kube import KubeError, path_for
from tests.cluster.test_operator_crd import expected_fragment
from tests.plugins.operator import apply_md, get_md, md_manifest

UPDATES = sorted((Path(__file__).parent / "invalid_manifests" / "updates").glob("*.yaml"))


def test_the_update_corpus_covers_every_admission_rule_family():
    assert len(UPDATES) >= 10


@pytest.mark.parametrize("path", UPDATES, ids=[p.stem for p in UPDATES])
def test_invalid_update_is_refused_with_the_field_named(kube, namespace, path):
    fragment = expected_fragment(path)
    documents = list(yaml.safe_load_all(path.read_text()))
    assert len(documents) == 2, f"{path.name}: the object, then the merge patch"
    body, patch = documents
    created = apply_md(kube, namespace, body)
    name = created["metadata"]["name"]
    with pytest.raises(KubeError) as refused:
        kube.request(
            "PATCH",
            path_for("modelops.io/v1alpha1", "ModelDeployment", namespace, name),
            query={"fieldValidation": "Strict"},
            body=patch,
            content_type="application/merge-patch+json",
        )
    assert refused.value.status in (400, 422), refused.value.message
    assert fragment in refused.value.message, refused.value.message
    after = get_md(kube, namespace, name)
    assert after["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


def test_a_hardened_job_template_is_accepted_and_kept_whole(kube, namespace):
    """Declaring the security fields must not prune the rest of the pod template."""
    pod = {
        "serviceAccountName": "trainer",
        "restartPolicy": "Never",
        "nodeSelector": {"pool": "batch"},
        "tolerations": [{"key": "batch", "operator": "Exists", "effect": "NoSchedule"}],
        "hostNetwork": False,
        "securityContext": {"runAsNonRoot": True, "runAsUser": 65532},
        "volumes": [{"name": "scratch", "emptyDir": {"sizeLimit": "1Gi"}}],
        "containers": [
            {
                "name": "train",
                "image": "ghcr.io/acme/modelops-training:0.1.0",
                "env": [{"name": "X", "value": "1"}],
                "resources": {"limits": {"memory": "2Gi"}},
                "volumeMounts": [{"name": "scratch", "mountPath": "/scratch"}],
                "securityContext": {
                    "privileged": False,
                    "allowPrivilegeEscalation": False,
                    "capabilities": {"drop": ["ALL"], "add": []},
                },
            }
        ],
    }
    template = {"metadata": {"labels": {"team": "ml"}}, "spec": {"template": {"spec": pod}}}
    body = md_manifest(retraining={"jobTemplate": template})
    apply_md(kube, namespace, body)
    stored = get_md(kube, namespace)["spec"]["retraining"]["jobTemplate"]
    assert stored == template
