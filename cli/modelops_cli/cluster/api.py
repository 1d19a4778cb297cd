"""The few API calls the cluster launcher makes, over plain HTTPS.

The launcher creates the cluster DNS objects and watches the Node turn
Ready; that does not justify the Kubernetes client library in the CLI (the
control-plane launcher does without it too). Requests never go through an
http(s)_proxy from the environment: the API server is on this machine.
"""

from __future__ import annotations

import contextlib
import json
import ssl
import urllib.error
import urllib.request
from pathlib import Path

# Collection paths of the kinds the launcher creates.
_COLLECTIONS = {
    ("v1", "ServiceAccount"): "/api/v1/namespaces/{ns}/serviceaccounts",
    ("v1", "ConfigMap"): "/api/v1/namespaces/{ns}/configmaps",
    ("v1", "Service"): "/api/v1/namespaces/{ns}/services",
    ("apps/v1", "Deployment"): "/apis/apps/v1/namespaces/{ns}/deployments",
    (
        "rbac.authorization.k8s.io/v1",
        "ClusterRole",
    ): "/apis/rbac.authorization.k8s.io/v1/clusterroles",
    (
        "rbac.authorization.k8s.io/v1",
        "ClusterRoleBinding",
    ): "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
}


class ApiError(RuntimeError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def collection_path(obj: dict) -> str:
    key = (obj.get("apiVersion"), obj.get("kind"))
    if key not in _COLLECTIONS:
        raise ValueError(f"apiVersion/kind: {key} is not a kind the cluster launcher creates")
    return _COLLECTIONS[key].format(ns=obj.get("metadata", {}).get("namespace", "default"))


class Api:
    """An admin client for one API server."""

    def __init__(self, server: str, ca_cert: Path, client_cert: Path, client_key: Path) -> None:
        self.server = server
        context = ssl.create_default_context(cafile=str(ca_cert))
        context.load_cert_chain(str(client_cert), str(client_key))
        self._opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
        )

    def request(self, method: str, path: str, body: dict | None = None, timeout: float = 10):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.server}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with self._opener.open(request, timeout=timeout) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            text = exc.read(4096).decode(errors="replace")
            with contextlib.suppress(ValueError, AttributeError):
                text = json.loads(text).get("message", text)
            raise ApiError(exc.code, f"{method} {path}: HTTP {exc.code}: {text}") from exc

    def get(self, path: str) -> dict:
        return self.request("GET", path)

    def create(self, obj: dict) -> dict:
        """POST `obj`; an object that already exists is left as it is."""
        try:
            return self.request("POST", collection_path(obj), obj)
        except ApiError as exc:
            if exc.status == 409:
                return obj
            raise
