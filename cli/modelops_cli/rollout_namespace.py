"""Which namespace a `modelops rollout` command means when `-n` is not given, as kubectl decides.

kubectl takes the namespace of the kubeconfig's current context, else
`default`; in a pod without a kubeconfig, the service account's namespace.
The kubernetes client library reads and merges the kubeconfig ($KUBECONFIG may
list several files) the same way it does for the connection itself, so the
namespace and the cluster always come from the same context.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

DEFAULT = "default"
# Where Kubernetes mounts the service account's namespace in every pod.
SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


def context_namespace(context: Mapping[str, Any] | None) -> str:
    """The namespace a kubeconfig context entry names, `default` when it names none (pure)."""
    namespace = ((context or {}).get("context") or {}).get("namespace")
    return namespace.strip() if isinstance(namespace, str) and namespace.strip() else DEFAULT


def resolve(namespace: str | None, kubeconfig: str | None) -> str:
    """`-n` when given, else the current context's namespace (see the module doc)."""
    if namespace:
        return namespace
    if kubeconfig is None and _in_cluster():
        # load_api_client prefers the in-cluster account without --kubeconfig; so does this.
        return SERVICE_ACCOUNT_NAMESPACE.read_text().strip() or DEFAULT
    import kubernetes

    try:
        _, active = kubernetes.config.list_kube_config_contexts(config_file=kubeconfig)
    except (kubernetes.config.ConfigException, OSError):
        # No usable kubeconfig: the connection fails next with the one-line
        # KubeconfigError that says how to give one; the namespace never matters.
        return DEFAULT
    return context_namespace(active)


def _in_cluster() -> bool:
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and SERVICE_ACCOUNT_NAMESPACE.is_file()
