"""A ModelDeployment manifest with test defaults (one place for tests and benchmarks)."""

from __future__ import annotations

import copy
from typing import Any

# Never pulled: on the control plane (kwok) pods only pretend to run it.
IMAGE = "ghcr.io/acme/churn-bento:1.2.0"


def md_manifest(name: str = "churn", version: str = "1", **spec: Any) -> dict[str, Any]:
    body = {
        "apiVersion": "modelops.io/v1alpha1",
        "kind": "ModelDeployment",
        "metadata": {"name": name},
        "spec": {
            "model": {"name": "churn", "version": version},
            "image": IMAGE,
            "registry": {"uri": "s3://models"},
            "replicas": 2,
            "rollout": {"strategy": "Immediate"},
        },
    }
    body["spec"].update(copy.deepcopy(spec))
    return body
