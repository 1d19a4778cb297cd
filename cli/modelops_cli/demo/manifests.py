"""The objects the demo applies, as pure functions of its settings.

The ModelDeployment is the one a platform team would write for a model that
follows its registry's approved channel: canary rollouts judged by the
cluster's Prometheus, drift monitoring, retraining Jobs from the training
image. Only the durations are short, so the whole loop fits in minutes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEMO_NAMESPACE = "ml"
REGISTRY_SECRET = "model-registry"  # AWS_* for the S3-compatible registry
PROMETHEUS_URL = "http://prometheus.monitoring.svc:9090"


@dataclass(frozen=True)
class Settings:
    """The demo's knobs (shown in the report)."""

    namespace: str = DEMO_NAMESPACE
    name: str = "churn"
    model: str = "churn"
    replicas: int = 4  # 25 % and 50 % are exact replica ratios of 4
    steps: tuple[int, ...] = (25, 50)
    interval_seconds: int = 20
    failure_limit: int = 2
    # None: 40 % of what the first step's canary share of `rate` brings in one
    # interval (40 at the defaults: 20 req/s x 25 % x 20 s = 100 expected).
    # Kube-proxy sends each fresh connection to a random ready pod, so a
    # step's count is binomial; 40 % of its mean leaves the demo's shortest
    # intervals many standard deviations clear of an Inconclusive analysis,
    # which counts toward failureLimit like a failed one.
    min_requests: int | None = None
    rate: float = 20.0  # the load generator's requests per second
    fault_version: str = "3"
    fault_error_rate: float = 0.3
    drift_threshold: float = 0.2
    drift_window: str = "90s"
    drift_interval: str = "10s"
    drift_min_samples: int = 300
    drift_shift: float = 1.0
    training_rows: int = 20000
    retrain_seed: int = 7
    registry_bucket: str = "models"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def required_requests(self) -> int:
        """The canary analysis' minRequests: `min_requests`, or derived from the
        traffic the first step gets in one interval."""
        if self.min_requests is not None:
            return self.min_requests
        expected = self.rate * self.steps[0] / 100 * self.interval_seconds
        return max(10, round(0.4 * expected))

    @property
    def registry_uri(self) -> str:
        return f"s3://{self.registry_bucket}"


def modeldeployment(settings: Settings, *, bento_image: str, training_image: str) -> dict:
    s = settings
    return {
        "apiVersion": "modelops.io/v1alpha1",
        "kind": "ModelDeployment",
        "metadata": {"name": s.name, "namespace": s.namespace},
        "spec": {
            "model": {"name": s.model, "version": "@latest-approved"},
            "image": bento_image,
            # Images are imported into the node; there is no registry to pull from.
            "imagePullPolicy": "Never",
            "registry": {"uri": s.registry_uri, "credentialsSecretRef": {"name": REGISTRY_SECRET}},
            "replicas": s.replicas,
            "resources": {
                "requests": {"cpu": "50m", "memory": "256Mi"},
                "limits": {"memory": "1Gi"},
            },
            # The churn bento's fault injection, armed for one version only: the
            # demo's "faulty v3". The stable version never sees it.
            "env": [
                {"name": "MODELOPS_FAULT_VERSIONS", "value": s.fault_version},
                {"name": "MODELOPS_FAULT_ERROR_RATE", "value": str(s.fault_error_rate)},
            ],
            "rollout": {
                "strategy": "Canary",
                "steps": list(s.steps),
                "interval": f"{s.interval_seconds}s",
                "progressDeadline": "3m",
                "trafficRouter": {"type": "ReplicaRatio"},
                "analysis": {
                    "prometheus": {"address": PROMETHEUS_URL, "timeout": "5s"},
                    "minRequests": s.required_requests,
                    "failureLimit": s.failure_limit,
                    "metrics": [
                        {"name": "error-rate", "max": 0.02},
                        {"name": "latency-p99", "max": 0.5},
                    ],
                },
            },
            "monitoring": {
                "drift": {
                    "method": "psi",
                    "threshold": s.drift_threshold,
                    "window": s.drift_window,
                    "minSamples": s.drift_min_samples,
                    "interval": s.drift_interval,
                }
            },
            "retraining": {
                "cooldown": "10m",
                "maxAttempts": 2,
                "gates": {"minMetric": {"auc": 0.7}, "maxRegression": 0.02},
                "jobTemplate": {"spec": {"template": {"spec": retraining_pod(s, training_image)}}},
            },
        },
    }


def retraining_pod(settings: Settings, training_image: str) -> dict:
    """The retraining Job's pod: `modelops train` in the training image.

    It trains on data like what the callers now send (the synthetic
    generator with the demo's shift). A real deployment names its fresh data
    here (a Parquet path on s3://, or the inference log).
    """
    data = f"synthetic:{settings.training_rows}:{settings.retrain_seed}:{settings.drift_shift:g}"
    return {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 65532,
            "runAsGroup": 65532,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [
            {
                "name": "train",
                "image": training_image,
                "imagePullPolicy": "Never",
                "args": ["train", "--data", data],
                "envFrom": [{"secretRef": {"name": REGISTRY_SECRET}}],
                "resources": {
                    "requests": {"cpu": "200m", "memory": "512Mi"},
                    "limits": {"memory": "2Gi"},
                },
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"drop": ["ALL"]},
                },
                "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
            }
        ],
        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}}],
    }


def registry_secret(namespace: str, credentials: dict[str, str]) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": REGISTRY_SECRET, "namespace": namespace},
        "type": "Opaque",
        "stringData": dict(credentials),
    }


def namespace(name: str, *, restricted: bool = True) -> dict:
    labels = {"pod-security.kubernetes.io/enforce": "restricted"} if restricted else {}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def helm_values(*, operator_image: str, resync_seconds: int = 5) -> dict:
    """Values for charts/modelops-operator on the local node."""
    repository, _, tag = operator_image.rpartition(":")
    return {
        "image": {"repository": repository, "tag": tag, "pullPolicy": "Never"},
        # One replica is enough to show the loop on two cores; leader election
        # stays on, as in production.
        "replicaCount": 1,
        "operator": {
            "resyncSeconds": resync_seconds,
            # The operator reads model metadata (reference profiles, candidates)
            # from the registry: the same credentials as the model pods.
            "extraEnv": [
                {
                    "name": key,
                    "valueFrom": {"secretKeyRef": {"name": REGISTRY_SECRET, "key": key}},
                }
                for key in (
                    "AWS_ACCESS_KEY_ID",
                    "AWS_SECRET_ACCESS_KEY",
                    "AWS_ENDPOINT_URL",
                    "AWS_DEFAULT_REGION",
                )
            ],
        },
        # Prometheus finds the operator's metrics by the usual annotations.
        "podAnnotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "8080"},
        "networkPolicy": {"enabled": False},
    }
