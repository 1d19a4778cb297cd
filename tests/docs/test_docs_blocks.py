"""Every command block of README.md and docs/*.md runs as written (the no-cluster part).

One test per Markdown file runs that file's unmarked blocks in order, in one
shell (tests/docs/runner.py), and fails naming the block's file:line. Blocks
marked `needs: controlplane` run on private control planes
(test_docs_controlplane_blocks.py), `needs: node` ones on a real node (not
here: tests/node/test_docs_node_blocks.py); `illustrative` and `not-run` blocks are shapes or run
elsewhere (tests/docs/blocks.py says how to mark a block).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs.blocks import REPO, all_blocks, doc_files, extract, parse_marker
from tests.docs.runner import run_blocks

FILES = [path for path in doc_files() if any(b.runs_without_cluster for b in extract(path))]


def test_every_block_is_found_and_every_marker_is_known():
    blocks = all_blocks()  # raises MarkerError naming file:line for an unknown marker
    assert len(blocks) > 50
    assert {b.path for b in blocks} >= {REPO / "README.md"}
    assert all(b.text.strip() for b in blocks), [b.where for b in blocks if not b.text.strip()]


# Commands that bring a Kubernetes node up. A block running one without the
# `needs: node` marker would start a node from the no-cluster layer (a demo
# with --keep even leaves it running, and every node test after it fails).
STARTS_A_NODE = (
    "make demo", "modelops demo", "cluster up", "make node",
    "batch.py --cluster", "real_loop.py", "benchmarks/cluster.py",
)  # fmt: skip


def test_every_block_that_starts_a_node_is_marked_for_the_node_layer():
    unmarked = [
        b.where
        for b in all_blocks()
        if b.runs_without_cluster and any(command in b.text for command in STARTS_A_NODE)
    ]
    assert not unmarked, f"mark these <!-- needs: node --> (they start a node): {unmarked}"


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("illustrative", ("illustrative", "")),
        ("not-run: a benchmark, about 15 minutes", ("not-run", "a benchmark, about 15 minutes")),
        ("needs: node", ("needs", "node")),
        ("needs: controlplane", ("needs", "controlplane")),
    ],
)
def test_markers(comment, expected):
    assert parse_marker(comment, "x.md:1") == expected


@pytest.mark.parametrize("comment", ["ilustrative", "not-run:", "needs: cloud", "TODO"])
def test_an_unknown_comment_before_a_fence_fails_naming_the_place(comment):
    with pytest.raises(ValueError, match=r"x\.md:1: .*not a docs-test marker"):
        parse_marker(comment, "x.md:1")


def test_console_blocks_run_only_their_prompted_lines(tmp_path):
    doc = REPO / "docs" / "controlplane.md"
    (block,) = [
        b for b in extract(doc) if b.language == "console" and "pytest -m cluster" in b.text
    ]
    assert block.text == "USE_EXISTING_CLUSTER=true .venv/bin/pytest -m cluster\n"


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(REPO)) for p in FILES])
def test_the_blocks_of_a_page_run_as_written(path: Path, tmp_path: Path):
    blocks = [b for b in extract(path) if b.runs_without_cluster]
    ran = run_blocks(blocks, tmp_path / "scratch")
    assert [r.block.where for r in ran] == [b.where for b in blocks]
