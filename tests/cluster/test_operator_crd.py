"""The ModelDeployment CRD as the real API server serves it."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from modelops_operator.adapters.kube import KubeError, path_for
from tests.plugins.operator import eventually, kubectl

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS = sorted((Path(__file__).parent / "invalid_manifests").glob("*.yaml"))
EXAMPLES = sorted((REPO_ROOT / "examples").glob("*modeldeployment*.yaml"))


def expected_fragment(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name} must start with '# expect: <fragment>'"
    return first.removeprefix("# expect: ").strip()


def dry_run_create(kube, namespace: str, body: dict) -> dict:
    """Create with server-side dry run and strict field validation, as kubectl does."""
    body = copy.deepcopy(body)
    body.setdefault("metadata", {})["namespace"] = namespace
    return kube.request(
        "POST",
        path_for("modelops.io/v1alpha1", "ModelDeployment", namespace),
        query={"dryRun": "All", "fieldValidation": "Strict"},
        body=body,
    )


def test_the_corpus_is_large_enough():
    assert len(CORPUS) >= 30


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_invalid_manifest_is_refused_with_the_field_named(kube, namespace, path):
    fragment = expected_fragment(path)
    with pytest.raises(KubeError) as refused:
        dry_run_create(kube, namespace, yaml.safe_load(path.read_text()))
    assert refused.value.status in (400, 422)
    assert fragment in refused.value.message, refused.value.message


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_examples_are_accepted_and_defaulted(kube, namespace, path):
    created = dry_run_create(kube, namespace, yaml.safe_load(path.read_text()))
    rollout = created["spec"]["rollout"]
    assert rollout["strategy"] in ("Immediate", "Canary")
    assert rollout["trafficRouter"]["type"] in ("ReplicaRatio", "GatewayAPI")
    assert created["spec"]["imagePullPolicy"] == "IfNotPresent"


def test_defaults_fill_the_minimal_manifest(kube, namespace):
    minimal = {
        "apiVersion": "modelops.io/v1alpha1",
        "kind": "ModelDeployment",
        "metadata": {"name": "minimal"},
        "spec": {
            "model": {"name": "churn", "version": "@latest-approved"},
            "image": "ghcr.io/acme/churn-bento:1.2.0",
            "registry": {"uri": "file:///models"},
        },
    }
    spec = dry_run_create(kube, namespace, minimal)["spec"]
    assert spec["replicas"] == 1
    # No default steps: they belong to Canary only, where the operator fills in
    # [10, 25, 50] itself, and an Immediate rollout with steps is refused.
    assert spec["rollout"] == {
        "strategy": "Immediate",
        "interval": "60s",
        "progressDeadline": "10m",
        "trafficRouter": {"type": "ReplicaRatio"},
    }
    assert spec["resources"] == {
        "requests": {"cpu": "100m", "memory": "256Mi"},
        "limits": {"memory": "1Gi"},
    }


ALLOWED_MODELOPS_ENV = [
    # fault injection, the inference log, and the serving settings a platform team tunes
    {"name": "MODELOPS_FAULT_VERSIONS", "value": "3"},
    {"name": "MODELOPS_FAULT_ERROR_RATE", "value": "0.3"},
    {"name": "MODELOPS_LOG_SAMPLE", "value": "0.1"},
    {"name": "MODELOPS_MAX_QUEUE_MS", "value": "250"},
    {"name": "MODELOPS_MAX_RECORDS", "value": "500"},
    {"name": "MODELOPS_TRACE_REQUESTS", "value": "true"},
    {"name": "MODELOPS_DIRECT_ROUTES", "value": "false"},
    {"name": "MODELOPS_COALESCE", "value": "false"},
    {"name": "MODELOPS_LOAD_RETRY_SECONDS", "value": "2"},
]


def test_only_faults_log_and_serving_settings_are_the_modelops_env_allowed(kube, namespace):
    body = yaml.safe_load((REPO_ROOT / "examples" / "churn-modeldeployment.yaml").read_text())
    body["spec"]["env"] = ALLOWED_MODELOPS_ENV
    created = dry_run_create(kube, namespace, body)
    assert created["spec"]["env"] == ALLOWED_MODELOPS_ENV
    # Everything else the operator sets itself (the registry, the model, its version).
    for name in ("MODELOPS_REGISTRY", "MODELOPS_MODEL_VERSION", "MODELOPS_MAX_QUEUE"):
        body["spec"]["env"] = [{"name": name, "value": "x"}]
        with pytest.raises(KubeError) as refused:
            dry_run_create(kube, namespace, body)
        assert "reserved for the operator" in str(refused.value), name


def explain_text(control_plane, field: str) -> str:
    """`kubectl explain` output with whitespace collapsed (kubectl wraps long lines).

    The API server publishes a new CRD's OpenAPI a moment after it is
    Established, so explain is retried until it answers.
    """

    def attempt():
        result = kubectl(control_plane, "explain", field, check=False)
        return result.stdout if result.returncode == 0 else None

    return " ".join(eventually(attempt, timeout=60, what=f"kubectl explain {field}").split())


def test_short_names_category_and_explain(control_plane):
    resources = kubectl(control_plane, "api-resources", "--api-group=modelops.io", "-o", "wide")
    row = next(line for line in resources.stdout.splitlines() if "modeldeployments" in line)
    assert "md,mdep" in row and "modelops" in row
    explain = explain_text(control_plane, "modeldeployment.spec.rollout")
    assert "How a new model version or image reaches traffic." in explain
    assert "trafficRouter" in explain and "strictly ascending" in explain
    status = explain_text(control_plane, "md.status.previous")
    assert "instant rollback target" in status
