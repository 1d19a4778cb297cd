"""Pure builders of the child objects of a ModelDeployment.

Each function returns a plain dict ready for server-side apply. They never
read the cluster and never look at the clock, so a unit test can compare
their output with an exact expected object, and re-applying the same spec
produces byte-identical objects (the API server then skips the write, which
is what makes an operator restart change nothing).
"""

from __future__ import annotations

from typing import Any

from modelops_operator.api import names
from modelops_operator.api.objects import Owner
from modelops_operator.api.spec import Spec

# BentoML's container images run as the `bentoml` user with this uid; giving
# it explicitly lets runAsNonRoot be verified by the kubelet even when the
# image names its user instead of a number.
BENTO_UID = 1034

# BentoML writes to its home (logs, temporary bento state) and the model loader
# writes to /tmp; with a read-only root filesystem both need an emptyDir.
BENTOML_HOME = "/var/lib/bentoml"
TMP_DIR = "/tmp"

SERVICE_PORT = 80
PRESTOP_SLEEP_SECONDS = 5


def labels(md_name: str, track: str, version: str) -> dict[str, str]:
    """The labels on every child: who manages it, which ModelDeployment, track and version."""
    return {
        names.LABEL_NAME: md_name,
        names.LABEL_MANAGED_BY: names.MANAGED_BY,
        names.LABEL_DEPLOYMENT: md_name,
        names.LABEL_TRACK: track,
        names.LABEL_MODEL_VERSION: version,
    }


def selector(md_name: str, track: str) -> dict[str, str]:
    """A track's pod selector. It never includes the version: selectors are immutable."""
    return {names.LABEL_DEPLOYMENT: md_name, names.LABEL_TRACK: track}


def owner_reference(owner: Owner) -> dict[str, Any]:
    """Controller owner reference, so deleting the ModelDeployment garbage-collects the child."""
    return {
        "apiVersion": names.API_VERSION,
        "kind": names.KIND,
        "name": owner.name,
        "uid": owner.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def serving_env(spec: Spec, version: str) -> list[dict[str, str]]:
    """Environment of the serving container: the model to load, then the user's extras."""
    env = [
        {"name": "MODELOPS_REGISTRY", "value": spec.registry.uri},
        {"name": "MODELOPS_MODEL", "value": spec.model.name},
        {"name": "MODELOPS_MODEL_VERSION", "value": version},
        {"name": "BENTOML_DO_NOT_TRACK", "value": "true"},
        {"name": "BENTOML_HOME", "value": BENTOML_HOME},
        {"name": "OMP_NUM_THREADS", "value": "1"},
    ]
    reserved = {item["name"] for item in env}
    for item in spec.env:
        # The CRD refuses MODELOPS_* names; the other reserved ones are ours too.
        if item["name"] not in reserved:
            env.append({"name": item["name"], "value": item.get("value", "")})
    return env


def _http_probe(path: str, *, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": names.SERVING_PORT_NAME},
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": failures,
    }


def container(spec: Spec, version: str, image: str) -> dict[str, Any]:
    """The serving container, hardened: non-root, read-only root, no privileges."""
    result: dict[str, Any] = {
        "name": names.CONTAINER_NAME,
        "image": image,
        "imagePullPolicy": spec.image_pull_policy,
        "ports": [
            {
                "name": names.SERVING_PORT_NAME,
                "containerPort": names.SERVING_PORT,
                "protocol": "TCP",
            }
        ],
        "env": serving_env(spec, version),
        "resources": spec.resources,
        # The model loads (and its checksum is verified) before /readyz answers;
        # the startup probe gives that up to two minutes before liveness applies.
        "startupProbe": _http_probe(names.LIVENESS_PATH, period=2, failures=60),
        "readinessProbe": _http_probe(names.READINESS_PATH, period=5, failures=3),
        "livenessProbe": _http_probe(names.LIVENESS_PATH, period=10, failures=3),
        # A pod being removed (scale-down at a canary step, promotion, rollback)
        # leaves the Service's endpoints a moment after it gets SIGTERM; kube-proxy
        # and callers' connection pools catch up within a second or two. Serving
        # on for a few seconds first means no request lands on a closed socket.
        # The kubelet sleeps itself (no `sleep` binary needed in the image).
        "lifecycle": {"preStop": {"sleep": {"seconds": PRESTOP_SLEEP_SECONDS}}},
        "securityContext": {
            "runAsNonRoot": True,
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [
            {"name": "bentoml-home", "mountPath": BENTOML_HOME},
            {"name": "tmp", "mountPath": TMP_DIR},
        ],
    }
    if spec.registry.credentials_secret:
        result["envFrom"] = [{"secretRef": {"name": spec.registry.credentials_secret}}]
    return result


def progress_deadline_seconds(spec: Spec) -> int:
    return max(1, round(spec.progress_deadline.seconds))


def deployment(
    owner: Owner,
    spec: Spec,
    *,
    track: str,
    version: str,
    image: str,
    replicas: int,
) -> dict[str, Any]:
    """The Deployment of one track running `image` with model `version`."""
    pod_labels = labels(owner.name, track, version)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": names.child_name(owner.name, track),
            "namespace": owner.namespace,
            "labels": pod_labels,
            "ownerReferences": [owner_reference(owner)],
        },
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": 3,
            "progressDeadlineSeconds": progress_deadline_seconds(spec),
            "selector": {"matchLabels": selector(owner.name, track)},
            # Surge one pod and never drop below the requested capacity while
            # the version changes in place.
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
            },
            "template": {
                "metadata": {
                    "labels": pod_labels,
                    "annotations": {
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": str(names.SERVING_PORT),
                        "prometheus.io/path": names.METRICS_PATH,
                    },
                },
                "spec": {
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "terminationGracePeriodSeconds": 30,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": BENTO_UID,
                        "runAsGroup": BENTO_UID,
                        "fsGroup": BENTO_UID,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container(spec, version, image)],
                    "volumes": [
                        {"name": "bentoml-home", "emptyDir": {"sizeLimit": "1Gi"}},
                        {"name": "tmp", "emptyDir": {"sizeLimit": "2Gi"}},
                    ],
                },
            },
        },
    }


def service(owner: Owner, *, version: str) -> dict[str, Any]:
    """The Service in front of the ModelDeployment.

    It selects pods by ModelDeployment only, not by track, so with the
    ReplicaRatio router the canary's share of pods is its share of traffic.
    """
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": owner.name,
            "namespace": owner.namespace,
            "labels": labels(owner.name, names.TRACK_STABLE, version),
            "ownerReferences": [owner_reference(owner)],
        },
        "spec": {
            "type": "ClusterIP",
            "selector": {
                names.LABEL_MANAGED_BY: names.MANAGED_BY,
                names.LABEL_DEPLOYMENT: owner.name,
            },
            "ports": [
                {
                    "name": names.SERVING_PORT_NAME,
                    "port": SERVICE_PORT,
                    "targetPort": names.SERVING_PORT_NAME,
                    "protocol": "TCP",
                }
            ],
        },
    }
