"""The blocks marked `<!-- needs: node -->` run as written on the real node.

The shared node (`node_cluster`) is set up as a user following the docs has it:
`KUBECONFIG` and PATH as `modelops cluster env` and docs/cluster.md give them
(the cluster's kubectl, and helm), `modelops cluster env` itself finds the
node (XDG_STATE_HOME points at its state directory), and the registry's S3
credentials and endpoint are in the environment, as docs/runbooks.md asks.

1. README's "Install on a cluster" block runs first: the CRD and
   `helm install modelops-operator` with the chart's defaults.
2. The demo's system (tests/node/test_performance.py's LocalStack: images,
   the registry's S3, Prometheus) is brought up on it; its `helm upgrade
   --install` configures that same release for the local images.
3. The state the read-only blocks look at is made the way it happens: churn
   v1 serves, a manual retraining request runs a Job that publishes a
   candidate, a canary of a newer version is aborted (RolledBack).
4. Each page's blocks run in order in one shell (tests/docs/runner.py; a
   failure names file:line and shows the output): README, the retraining
   page, the runbooks, then batch-scoring's worked example, which changes
   the spec and so runs last.

docs/cluster.md's block brings up a node of its own: test_docs_cluster_page.py.
The demo's own blocks (`make demo ...`) are marked not-run: each plays the
whole demo on its own node.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from modelops_cli.demo.manifests import Settings
from modelops_cli.demo.stack import OPERATOR_NAMESPACE, RELEASE, S3_PORT, LocalStack, _helm
from tests.docs.blocks import REPO, Block, all_blocks, extract
from tests.docs.runner import Session, run_blocks, scratch_dir
from tests.node.support import eventually, uninstall_stack

pytestmark = pytest.mark.timeout(1200)

# A short canary (one step, 10 s), two replicas: the scene needs a rollout, not a show.
SETTINGS = Settings(replicas=2, steps=(50,), interval_seconds=10, min_requests=10)
INSTALL = ("README.md", "Install on a cluster")  # the page and the heading of the install block
# Pages whose node blocks run on the scene, in this order (batch-scoring patches the spec).
PAGES = ["README.md", "docs/drift-retraining.md", "docs/runbooks.md", "docs/batch-scoring.md"]
CLUSTER_PAGE = "docs/cluster.md"  # its own node: test_docs_cluster_page.py
STACK_NAMESPACES = (SETTINGS.namespace, "monitoring", "registry", OPERATOR_NAMESPACE)


def node_blocks(page: str) -> list[Block]:
    return [b for b in extract(REPO / page) if b.needs("node")]


def install_block() -> Block:
    page, heading = INSTALL
    lines = (REPO / page).read_text(encoding="utf-8").splitlines()
    start = lines.index(f"## {heading}") + 1
    (block,) = [b for b in node_blocks(page) if b.line > start and "helm install" in b.text]
    return block


def scene_blocks(page: str) -> list[Block]:
    return [b for b in node_blocks(page) if b != install_block()]


def test_every_node_block_runs_in_the_node_layer():
    """A new `needs: node` block fails here until a test runs it."""
    wired = {install_block(), *node_blocks(CLUSTER_PAGE)}
    wired |= {b for page in PAGES for b in scene_blocks(page)}
    marked = {b for b in all_blocks() if b.needs("node")}
    missing = sorted(b.where for b in marked - wired)
    assert not missing, (
        f"these `needs: node` blocks run nowhere: {missing}; add their page to PAGES in "
        "tests/node/test_docs_node_blocks.py (or give the block its own test)"
    )


# -- the user's environment ---------------------------------------------------------


def user_env(cluster, tmp: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """KUBECONFIG, kubectl and helm of the cluster's version first on PATH, and
    `modelops cluster env` pointed at this node."""
    state = tmp / "xdg"
    (state / "modelops").mkdir(parents=True, exist_ok=True)
    link = state / "modelops" / "cluster"
    if not link.exists():
        link.symlink_to(cluster.state_dir)
    env = cluster.env()
    env["PATH"] = f"{Path(_helm()).parent}:{env['PATH']}"
    env["XDG_STATE_HOME"] = str(state)
    env.update(extra or {})
    return env


def kubectl(cluster, *args: str, timeout: float = 60) -> str:
    proc = subprocess.run(
        [str(cluster.kubectl), *args], env=cluster.env(), capture_output=True, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        pytest.fail(f"kubectl {' '.join(args)}: {proc.stderr.strip()}", pytrace=False)
    return proc.stdout


def wait_for(check, timeout: float, what: str, cluster=None):
    """support.eventually, every second, printing the story's objects if it times out."""
    return eventually(
        check, timeout=timeout, interval=1.0, what=what,
        diagnose=None if cluster is None else lambda: "\n" + story_state(cluster),
    )  # fmt: skip


def story_state(cluster) -> str:
    ns = SETTINGS.namespace
    return kubectl(cluster, "get", "md,pods,jobs", "-n", ns, "-o", "wide") + kubectl(
        cluster, "get", "md", SETTINGS.name, "-n", ns, "-o", "jsonpath={.status}"
    )


def namespaces_gone(cluster) -> None:
    """An earlier module's stack deletes its namespaces without waiting; ours are the same."""
    wait_for(
        lambda: not kubectl(cluster, "get", "namespaces", *STACK_NAMESPACES,
                            "--ignore-not-found", "-o", "name").strip(),
        180, "the namespaces of an earlier stack deleted",
    )  # fmt: skip


# -- the scene ------------------------------------------------------------------------


def md(stack: LocalStack) -> dict[str, Any]:
    return stack.kube.get_model_deployment(SETTINGS.namespace, SETTINGS.name) or {}


def annotate(stack: LocalStack, key: str, value: str) -> None:
    stack.kubectl(
        "annotate", "md", SETTINGS.name, "-n", SETTINGS.namespace, f"{key}={value}", "--overwrite"
    )


def play_the_scene(stack: LocalStack) -> None:
    """churn v1 serving; a retraining Job with its candidate; a newer version's canary
    aborted, so the ModelDeployment reads RolledBack."""
    cluster = stack.cluster
    published = stack.publish(seed=1)
    assert published.get("status") == "approved", published
    stack.apply_modeldeployment()
    stack.wait_serving(timeout=240)
    annotate(stack, "modelops.io/retrain", "docs")
    done = wait_for(
        lambda: (r := md(stack)["status"].get("retraining") or {}).get("candidate") and r,
        300, "the retraining Job's candidate", cluster,
    )  # fmt: skip
    if not done["candidate"].get("approved"):
        # A rejected candidate starts no canary (the channel skips it): publish one here.
        stack.publish(seed=2)
    canary = wait_for(
        lambda: ((md(stack)["status"].get("canary") or {}).get("version")), 120,
        "a canary of the newest approved version", cluster,
    )  # fmt: skip
    annotate(stack, "modelops.io/abort", "docs")
    wait_for(
        lambda: md(stack)["status"].get("phase") == "RolledBack", 120,
        f"the canary of version {canary} rolled back", cluster,
    )  # fmt: skip


@pytest.fixture(scope="module")
def installed(node_cluster, tmp_path_factory):
    """README's install block, run on the node before the stack configures the release."""
    namespaces_gone(node_cluster)
    tmp = tmp_path_factory.mktemp("docs-node")
    block = install_block()
    ran = run_blocks([block], tmp / "scratch", user_env(node_cluster, tmp))
    return tmp, ran


@pytest.fixture(scope="module")
def scene(node_cluster, installed):
    tmp, _ = installed
    stack = LocalStack(SETTINGS, echo=print, cluster=node_cluster)
    try:
        stack.up()
        play_the_scene(stack)
        yield stack, tmp
    finally:
        stack.down()
        # Namespaces deleted *and gone*: test_loop, run next, installs into the same ones.
        uninstall_stack(stack, SETTINGS.namespace)


def test_the_install_block_installs_the_chart(installed, node_cluster):
    _, ran = installed
    assert [r.block.where for r in ran] == [install_block().where]
    out = kubectl(
        node_cluster, "get", "deployment", RELEASE, "-n", OPERATOR_NAMESPACE, "-o", "name"
    )
    assert out.strip() == f"deployment.apps/{RELEASE}"


@pytest.mark.parametrize("page", PAGES)
def test_node_blocks_run_as_written(scene, page: str):
    stack, tmp = scene
    # The registry's credentials and endpoint, as the runbooks' `modelops` commands need them.
    endpoint = f"http://{stack.cluster_ip('registry', 's3')}:{S3_PORT}"
    env = user_env(stack.cluster, tmp, {**stack.credentials, "AWS_ENDPOINT_URL": endpoint})
    blocks = scene_blocks(page)
    session = Session(scratch_dir(tmp / "scratch"), env)
    try:
        ran = [session.run(block) for block in blocks]
    finally:
        session.close()
    assert [r.block.where for r in ran] == [b.where for b in blocks]
    for r in ran:
        print(f"{r.block.where}: {r.seconds:.1f} s")
