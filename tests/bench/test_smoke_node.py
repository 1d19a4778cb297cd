"""The benchmarks on the real node (real_loop.py, cluster.py) in their smoke mode.

Each starts a node of its own, under the machine's node lock, like the
node layer's tests that bring their own node up and down: this module runs
before any test starts the session's shared `node_cluster`
(tests/node/conftest.py orders it), so neither waits for the other.
"""

from __future__ import annotations

import pytest

from tests.bench.smoke import Smoke, params, run_smoke

# tests/node/conftest.py: run before the session's shared node is started.
RUNS_BEFORE_SHARED_NODE = True


@pytest.mark.parametrize("smoke", params(node=True))
def test_benchmark_smoke_on_a_node(smoke: Smoke) -> None:
    run_smoke(smoke)
