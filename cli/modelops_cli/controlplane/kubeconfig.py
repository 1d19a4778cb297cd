"""Kubeconfig rendering.

Certificates are embedded (the *-data fields) rather than referenced by path,
so the file stays valid when copied and every client library (kubectl, the
Python client, kopf, client-go) reads it the same way.
"""

from __future__ import annotations

import base64
from pathlib import Path

import yaml

CONTEXT = "modelops-local"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def render(server: str, ca_pem: bytes, cert_pem: bytes, key_pem: bytes) -> dict:
    """Return a kubeconfig with one cluster, one user and one current context."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": CONTEXT,
                "cluster": {"server": server, "certificate-authority-data": _b64(ca_pem)},
            }
        ],
        "users": [
            {
                "name": CONTEXT,
                "user": {
                    "client-certificate-data": _b64(cert_pem),
                    "client-key-data": _b64(key_pem),
                },
            }
        ],
        "contexts": [
            {
                "name": CONTEXT,
                "context": {"cluster": CONTEXT, "user": CONTEXT, "namespace": "default"},
            }
        ],
        "current-context": CONTEXT,
        "preferences": {},
    }


def write(path: Path, config: dict) -> Path:
    """Write the kubeconfig readable by its owner only (it holds a key)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def current_server(config: dict) -> str:
    """Return the server URL of the current context's cluster.

    Raises ValueError naming the missing field, so a broken kubeconfig given
    through USE_EXISTING_CLUSTER is reported clearly.
    """
    current = config.get("current-context")
    if not current:
        raise ValueError("kubeconfig has no current-context")
    contexts = {c.get("name"): c.get("context", {}) for c in config.get("contexts") or []}
    if current not in contexts:
        raise ValueError(f"kubeconfig current-context {current!r} is not in contexts")
    cluster_name = contexts[current].get("cluster")
    clusters = {c.get("name"): c.get("cluster", {}) for c in config.get("clusters") or []}
    if cluster_name not in clusters:
        raise ValueError(f"kubeconfig context {current!r} names unknown cluster {cluster_name!r}")
    server = clusters[cluster_name].get("server")
    if not server:
        raise ValueError(f"kubeconfig cluster {cluster_name!r} has no server")
    return server
