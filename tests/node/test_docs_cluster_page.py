"""docs/cluster.md's block runs as written: `make node`, then a node of its own up and down.

The block starts and stops a node itself, so this module runs before the
session's shared `node_cluster` (tests/node/conftest.py orders it). Its
XDG_STATE_HOME is private, so `modelops cluster up` uses a state directory
of its own (never a developer's); `cluster down` runs afterwards in any case.
The other `needs: node` blocks: test_docs_node_blocks.py.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.docs.blocks import REPO, extract
from tests.docs.runner import run_blocks

# tests/node/conftest.py: run before the session's shared node is started.
RUNS_BEFORE_SHARED_NODE = True
PAGE = REPO / "docs" / "cluster.md"


def test_the_cluster_page_runs_as_written(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory):
    blocks = [b for b in extract(PAGE) if b.needs("node")]
    assert blocks, f"{PAGE.relative_to(REPO)} has no `needs: node` block"
    # A short path: containerd's sockets live in the state directory (unix sockets: < 105 chars).
    env = {"XDG_STATE_HOME": str(tmp_path_factory.mktemp("cl"))}
    try:
        ran = run_blocks(blocks, tmp_path / "scratch", env)
    finally:
        subprocess.run(
            [str(REPO / ".venv" / "bin" / "modelops"), "cluster", "down"],
            env={**os.environ, **env}, capture_output=True, timeout=120,
        )  # fmt: skip
    assert [r.block.where for r in ran] == [b.where for b in blocks]
    for r in ran:
        print(f"{r.block.where}: {r.seconds:.1f} s")
