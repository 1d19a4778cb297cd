"""Suite-wide pytest set-up.

Every test gets the marker of the layer its folder names (tests/unit ->
`unit`, ...), so `pytest -m e2e -k canary` selects by layer without each test
repeating its marker.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Fixtures for tests against a real Kubernetes API (control_plane, kubeconfig,
# kube_client, namespace); see tests/plugins/controlplane.py. On a real node
# (node_cluster, node_kube, node_namespace, probe_image): tests/plugins/node.py.
# The real operator (kube, start_operator, operator) and the Given/When/Then
# scenario of the cluster and e2e layers: tests/plugins/operator.py and
# scenario.py; small trained models (churn_model, lp_model): models.py.
pytest_plugins = [
    "tests.plugins.controlplane",
    "tests.plugins.node",
    "tests.plugins.operator",
    "tests.plugins.scenario",
    "tests.plugins.models",
]

os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
os.environ.setdefault("OMP_NUM_THREADS", "1")

LAYERS = ("unit", "contract", "cluster", "serving", "e2e", "node", "bench", "docs")
TESTS_ROOT = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).relative_to(TESTS_ROOT).parts
        if parts and parts[0] in LAYERS:
            item.add_marker(getattr(pytest.mark, parts[0]))
