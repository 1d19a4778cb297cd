"""Builders: inputs -> exact child objects."""

from __future__ import annotations

import copy

import pytest

from modelops_operator import builders
from modelops_operator.api.objects import Owner
from modelops_operator.api.spec import Spec

OWNER = Owner(name="churn", namespace="ml", uid="uid-1", generation=3)
SPEC = {
    "model": {"name": "churn", "version": "3"},
    "image": "ghcr.io/acme/churn-bento:1.2.0",
    "registry": {"uri": "s3://models"},
    "replicas": 2,
    "resources": {"requests": {"cpu": "200m", "memory": "512Mi"}, "limits": {"memory": "1Gi"}},
    "rollout": {"strategy": "Immediate", "progressDeadline": "5m"},
}
OWNER_REF = {
    "apiVersion": "modelops.io/v1alpha1",
    "kind": "ModelDeployment",
    "name": "churn",
    "uid": "uid-1",
    "controller": True,
    "blockOwnerDeletion": True,
}
LABELS = {
    "app.kubernetes.io/name": "churn",
    "app.kubernetes.io/managed-by": "modelops",
    "modelops.io/deployment": "churn",
    "modelops.io/track": "stable",
    "modelops.io/model-version": "3",
}


def _probe(path: str, period: int, failures: int) -> dict:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": failures,
    }


EXPECTED_DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
        "name": "churn",
        "namespace": "ml",
        "labels": LABELS,
        "ownerReferences": [OWNER_REF],
    },
    "spec": {
        "replicas": 2,
        "revisionHistoryLimit": 3,
        "progressDeadlineSeconds": 300,
        "selector": {
            "matchLabels": {"modelops.io/deployment": "churn", "modelops.io/track": "stable"}
        },
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
        },
        "template": {
            "metadata": {
                "labels": LABELS,
                "annotations": {
                    "prometheus.io/scrape": "true",
                    "prometheus.io/port": "3000",
                    "prometheus.io/path": "/metrics",
                },
            },
            "spec": {
                "automountServiceAccountToken": False,
                "enableServiceLinks": False,
                "terminationGracePeriodSeconds": 30,
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": 1034,
                    "runAsGroup": 1034,
                    "fsGroup": 1034,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "containers": [
                    {
                        "name": "model",
                        "image": "ghcr.io/acme/churn-bento:1.2.0",
                        "imagePullPolicy": "IfNotPresent",
                        "ports": [{"name": "http", "containerPort": 3000, "protocol": "TCP"}],
                        "env": [
                            {"name": "MODELOPS_REGISTRY", "value": "s3://models"},
                            {"name": "MODELOPS_MODEL", "value": "churn"},
                            {"name": "MODELOPS_MODEL_VERSION", "value": "3"},
                            {"name": "BENTOML_DO_NOT_TRACK", "value": "true"},
                            {"name": "BENTOML_HOME", "value": "/var/lib/bentoml"},
                            {"name": "OMP_NUM_THREADS", "value": "1"},
                        ],
                        "resources": {
                            "requests": {"cpu": "200m", "memory": "512Mi"},
                            "limits": {"memory": "1Gi"},
                        },
                        "startupProbe": _probe("/livez", 2, 60),
                        "readinessProbe": _probe("/readyz", 5, 3),
                        "livenessProbe": _probe("/livez", 10, 3),
                        "lifecycle": {"preStop": {"sleep": {"seconds": 5}}},
                        "securityContext": {
                            "runAsNonRoot": True,
                            "readOnlyRootFilesystem": True,
                            "allowPrivilegeEscalation": False,
                            "capabilities": {"drop": ["ALL"]},
                            "seccompProfile": {"type": "RuntimeDefault"},
                        },
                        "volumeMounts": [
                            {"name": "bentoml-home", "mountPath": "/var/lib/bentoml"},
                            {"name": "tmp", "mountPath": "/tmp"},
                        ],
                    }
                ],
                "volumes": [
                    {"name": "bentoml-home", "emptyDir": {"sizeLimit": "1Gi"}},
                    {"name": "tmp", "emptyDir": {"sizeLimit": "2Gi"}},
                ],
            },
        },
    },
}


def test_stable_deployment_is_exactly_the_expected_object():
    built = builders.deployment(
        OWNER, Spec(SPEC), track="stable", version="3", image=SPEC["image"], replicas=2
    )
    assert built == EXPECTED_DEPLOYMENT


def test_canary_deployment_differs_only_in_name_track_and_selector():
    built = builders.deployment(
        OWNER, Spec(SPEC), track="canary", version="4", image="img:2", replicas=1
    )
    assert built["metadata"]["name"] == "churn-canary"
    assert built["spec"]["selector"]["matchLabels"] == {
        "modelops.io/deployment": "churn",
        "modelops.io/track": "canary",
    }
    assert built["spec"]["template"]["metadata"]["labels"]["modelops.io/model-version"] == "4"
    env = {e["name"]: e["value"] for e in built["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["MODELOPS_MODEL_VERSION"] == "4"


@pytest.mark.parametrize(
    ("extra", "expected_tail", "env_from"),
    [
        ({}, [], None),
        (
            {"env": [{"name": "LOG_LEVEL", "value": "debug"}, {"name": "EMPTY"}]},
            [{"name": "LOG_LEVEL", "value": "debug"}, {"name": "EMPTY", "value": ""}],
            None,
        ),
        # A user value for an operator-owned variable is ignored, never duplicated.
        ({"env": [{"name": "OMP_NUM_THREADS", "value": "8"}]}, [], None),
        (
            {"registry": {"uri": "s3://models", "credentialsSecretRef": {"name": "s3-creds"}}},
            [],
            [{"secretRef": {"name": "s3-creds"}}],
        ),
    ],
)
def test_container_env_and_credentials(extra, expected_tail, env_from):
    spec = {**copy.deepcopy(SPEC), **extra}
    built = builders.container(Spec(spec), "3", "img:1")
    assert built["env"][6:] == expected_tail
    assert built.get("envFrom") == env_from


def test_defaults_when_spec_omits_resources_and_rollout():
    spec = {k: v for k, v in SPEC.items() if k not in ("resources", "rollout")}
    built = builders.deployment(
        OWNER, Spec(spec), track="stable", version="3", image="i:1", replicas=1
    )
    assert built["spec"]["progressDeadlineSeconds"] == 600
    assert built["spec"]["template"]["spec"]["containers"][0]["resources"] == {
        "requests": {"cpu": "100m", "memory": "256Mi"},
        "limits": {"memory": "1Gi"},
    }


def test_service_selects_every_track_of_the_deployment():
    assert builders.service(OWNER, version="3") == {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "churn",
            "namespace": "ml",
            "labels": LABELS,
            "ownerReferences": [OWNER_REF],
        },
        "spec": {
            "type": "ClusterIP",
            "selector": {
                "app.kubernetes.io/managed-by": "modelops",
                "modelops.io/deployment": "churn",
            },
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def test_builders_are_deterministic():
    first = builders.deployment(
        OWNER, Spec(SPEC), track="stable", version="3", image="i", replicas=2
    )
    second = builders.deployment(
        OWNER, Spec(SPEC), track="stable", version="3", image="i", replicas=2
    )
    assert first == second
