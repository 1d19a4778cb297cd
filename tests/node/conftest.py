"""The node layer's ordering rule.

A machine runs one node at a time (modelops_cli.cluster.lock). Tests that
bring their own node up and down (module attribute
`RUNS_BEFORE_SHARED_NODE = True`) therefore run before any test starts the
session's shared `node_cluster`, which stays up until the session ends.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    first = [i for i in items if getattr(i.module, "RUNS_BEFORE_SHARED_NODE", False)]
    if first:
        rest = [i for i in items if i not in first]
        items[:] = first + rest
