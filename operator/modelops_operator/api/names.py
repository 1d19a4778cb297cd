"""Names every part of modelops agrees on: the API group, labels, annotations, tracks.

Kept in one module so the CRD, the builders, the adapter and the tests cannot
drift apart on a label key or an API path.
"""

from __future__ import annotations

GROUP = "modelops.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
KIND = "ModelDeployment"
PLURAL = "modeldeployments"

# Labels on every child object.
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY = "modelops"
LABEL_DEPLOYMENT = "modelops.io/deployment"
LABEL_TRACK = "modelops.io/track"
LABEL_MODEL_VERSION = "modelops.io/model-version"
LABEL_NAME = "app.kubernetes.io/name"

TRACK_STABLE = "stable"
TRACK_CANARY = "canary"
TRACKS = (TRACK_STABLE, TRACK_CANARY)

# User actions, each value handled once (the canary and retraining issues).
ANNOTATION_PROMOTE = "modelops.io/promote"
ANNOTATION_ABORT = "modelops.io/abort"
ANNOTATION_RETRAIN = "modelops.io/retrain"
# Run batch scoring once now (spec.batch), with the version stable serves.
ANNOTATION_BATCH_RUN = "modelops.io/batch-run"

# The version channel that resolves through the registry.
CHANNEL_LATEST_APPROVED = "@latest-approved"

# Serving container contract of a bento (bentos/README.md).
SERVING_PORT = 3000
SERVING_PORT_NAME = "http"
READINESS_PATH = "/readyz"
LIVENESS_PATH = "/livez"
METRICS_PATH = "/metrics"
CONTAINER_NAME = "model"

# Field manager for server-side apply: one owner for everything the operator writes.
FIELD_MANAGER = "modelops-operator"
EVENT_COMPONENT = "modelops-operator"


def child_name(md_name: str, track: str) -> str:
    """Name of a track's Deployment (and of its per-track Service later).

    The stable track keeps the plain ModelDeployment name so that
    `kubectl get deploy churn` finds what users expect.
    """
    return md_name if track == TRACK_STABLE else f"{md_name}-{track}"
