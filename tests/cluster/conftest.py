"""Fixtures shared by the cluster tests.

The control-plane fixtures come from tests/plugins/controlplane.py (registered
in tests/conftest.py). The operator fixtures (kube, start_operator, operator)
are defined in tests/cluster/operator_fixtures.py and re-exported here so any
cluster test can use them without importing.
"""

from tests.cluster.operator_fixtures import kube, operator, start_operator

__all__ = ["kube", "operator", "start_operator"]
