"""The blocks marked `<!-- needs: controlplane -->` run as written on a local control plane.

Pages that continue each other share one shell (docs/cli.md works on the
ModelDeployment docs/canary.md rolled out), as a reader would follow them.
Each group gets its own XDG_STATE_HOME, so the `modelops controlplane up`
the pages run starts a private control plane (never a developer's, never
another test's), and `modelops controlplane down` ends it afterwards. The
binaries come from `make controlplane` (tools/controlplane/provision.sh); the
blocks call it themselves, as the pages tell a reader to.

Blocks marked `needs: node` run on a real node (tests/node/test_docs_node_blocks.py,
tests/node/test_docs_cluster_page.py); they are not run here.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.docs.blocks import REPO, all_blocks, extract
from tests.docs.runner import run_blocks

pytestmark = pytest.mark.cluster

# Pages run together, in this order, in one shell per group.
GROUPS = {
    "readme": ["README.md"],
    "canary-and-cli": ["docs/canary.md", "docs/cli.md"],
    "controlplane": ["docs/controlplane.md"],
    "operator": ["docs/operator.md"],
}


def test_every_controlplane_block_is_in_a_group():
    grouped = {REPO / page for pages in GROUPS.values() for page in pages}
    pages = {b.path for b in all_blocks() if b.needs("controlplane")}
    assert pages <= grouped, sorted(str(p.relative_to(REPO)) for p in pages - grouped)


@pytest.mark.parametrize("group", list(GROUPS))
def test_controlplane_blocks_run_as_written(group: str, tmp_path: Path):
    blocks = [b for page in GROUPS[group] for b in extract(REPO / page) if b.needs("controlplane")]
    env = {"XDG_STATE_HOME": str(tmp_path / "state")}
    try:
        ran = run_blocks(blocks, tmp_path / "scratch", env)
    finally:
        subprocess.run(
            [str(REPO / ".venv" / "bin" / "modelops"), "controlplane", "down"],
            env={**os.environ, **env},
            capture_output=True,
            timeout=60,
        )
    assert [r.block.where for r in ran] == [b.where for b in blocks]
