"""Helpers and fixtures of the chart's cluster tests (test_chart_install.py,
test_chart_rbac.py): kubectl and helm against the test control plane, and the
third-party CRDs the chart's optional objects need."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from tests.chart_tools import third_party_crd_files, tool_env
from tests.plugins.controlplane import install_crd


def kubectl(plane, *args: str, input: str | None = None, check: bool = True):
    proc = subprocess.run(
        ["kubectl", *args],
        input=input,
        capture_output=True,
        text=True,
        env={**tool_env(), **plane.env()},
        timeout=120,
        check=False,
    )
    if check and proc.returncode != 0:
        pytest.fail(f"kubectl {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


@pytest.fixture(scope="session")
def chart_crds(control_plane, kube_client) -> list[str]:
    """Install the Gateway API and ServiceMonitor / PodMonitor CRDs once per session."""
    names = []
    for path in third_party_crd_files():
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") == "CustomResourceDefinition":
                install_crd(kube_client, doc)
                names.append(doc["metadata"]["name"])
    return names


def helm_env(plane) -> dict[str, str]:
    # helm keeps its caches under HOME; the kubeconfig is the control plane's.
    return {**tool_env(), **plane.env()}
