"""A Kubernetes API client for a kubeconfig, and the project's CRDs installed on it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import yaml

from modelops_testkit import SetupError

REPO_ROOT = Path(__file__).resolve().parents[2]
CRD_DIR = REPO_ROOT / "crds"
ESTABLISHED_TIMEOUT = 60.0


def api_client_for(kubeconfig_path: str | Path):
    """A kubernetes ApiClient for a kubeconfig, never sent through a proxy
    when the server is on loopback (the Python client, unlike Go clients,
    would route 127.0.0.1 through an https_proxy from the environment)."""
    from kubernetes import client, config

    configuration = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig_path), client_configuration=configuration)
    loopback = ("https://127.0.0.1:", "https://localhost:", "https://[::1]:")
    if configuration.host.startswith(loopback):
        configuration.proxy = None
        configuration.no_proxy = "*"
    return client.ApiClient(configuration)


def crd_documents(directory: Path | None = None) -> list[tuple[Path, dict]]:
    """(file, document) of every CustomResourceDefinition in directory/*.yaml."""
    documents = []
    for path in sorted((directory or CRD_DIR).glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") == "CustomResourceDefinition":
                documents.append((path, doc))
    return documents


def install_project_crds(api_client, directory: Path | None = None) -> None:
    """Install every CRD under crds/, raising SetupError with the apiserver's reason."""
    from kubernetes.client.rest import ApiException

    for path, crd in crd_documents(directory):
        name = crd.get("metadata", {}).get("name", "?")
        try:
            install_crd(api_client, crd)
        except ApiException as exc:
            shown = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
            problem = (
                f"{shown}: the apiserver refused CRD {name}: HTTP {exc.status}: {_reason(exc)}"
            )
        else:
            continue
        # Outside the except block, so the report shows the message, not a chain.
        raise SetupError(problem)


def _reason(exc) -> str:
    try:
        return json.loads(exc.body).get("message", exc.body)
    except (TypeError, ValueError):
        return str(exc.body or exc.reason)


def install_crd(api_client, body: dict, timeout: float = ESTABLISHED_TIMEOUT) -> dict:
    """Server-side apply a CRD (idempotent) and return it once Established.

    The dynamic client sends the YAML as-is; the generated typed client would
    first round-trip it through its models, which is lossy for CRD schemas.
    """
    from kubernetes.dynamic import DynamicClient

    crds = DynamicClient(api_client).resources.get(
        api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition"
    )
    crds.server_side_apply(body=body, field_manager="modelops-tests", force_conflicts=True)
    return wait_established(api_client, body["metadata"]["name"], timeout)


def wait_established(api_client, name: str, timeout: float = ESTABLISHED_TIMEOUT) -> dict:
    """Return the CRD (as a dict) once its Established condition is True."""
    from kubernetes.dynamic import DynamicClient

    crds = DynamicClient(api_client).resources.get(
        api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition"
    )
    deadline = time.monotonic() + timeout
    while True:
        crd = crds.get(name=name).to_dict()
        conditions = {c["type"]: c for c in crd.get("status", {}).get("conditions") or []}
        if conditions.get("Established", {}).get("status") == "True":
            return crd
        if time.monotonic() > deadline:
            raise SetupError(f"CRD {name} not Established after {timeout:.0f} s: {conditions}")
        time.sleep(0.2)
