"""pytest fixtures for tests on a real node (the `node` layer).

Fixtures (names are an interface other test layers rely on):

* ``node_cluster`` (session): a started ``modelops_cli.cluster.Cluster`` —
  control plane + containerd, kubelet, kube-proxy and CoreDNS on this
  machine — brought up once per session under the machine's node lock and
  torn down (host restored) at the end. Exposes ``.kubeconfig``, ``.env()``
  (KUBECONFIG set, the cluster's kubectl first on PATH), ``.kubectl``,
  ``.node_name``, ``.node_ip``, ``.import_images(paths)``,
  ``.containers(namespace)``.
* ``node_kube`` (session): a ``kubernetes.client.ApiClient`` for it.
* ``node_namespace`` (function): a fresh namespace on it, deleted after the test.
* ``probe_image`` (session): the reference of the tests' probe image
  (tests/node/probe, a static Go binary written as a docker-archive),
  imported into the node.

A machine that cannot run a node makes the fixture fail with what is
missing and how to get it (`make node`); it never skips.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# Moved to modelops_testkit.node (testkit/), which the benchmarks share; kept for existing imports.
from modelops_testkit.node import build_probe
from tests.plugins.controlplane import namespace_name

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVICE_ACCOUNT_TIMEOUT = 60.0


def start_cluster(state_dir: Path):
    """Start a Cluster in `state_dir` or fail the test saying what is missing."""
    from modelops_cli.cluster import Cluster, NodeBusyError, PreflightError, StartupError
    from modelops_cli.controlplane import MissingBinariesError
    from modelops_cli.controlplane import StartupError as PlaneStartupError

    # Tied to the test session: a killed session takes its node with it (the
    # next `up` cleans the host up after it).
    cluster = Cluster(state_dir, tie_to_parent=True)
    try:
        return cluster.start()
    except (PreflightError, MissingBinariesError) as exc:
        problem = f"cannot start the node tests' cluster: {exc}"
    except (NodeBusyError, StartupError, PlaneStartupError) as exc:
        problem = str(exc)
    pytest.fail(problem, pytrace=False)


@pytest.fixture(scope="session")
def node_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    state_dir = tmp_path_factory.mktemp("node")
    cluster = start_cluster(state_dir)
    try:
        yield cluster
    finally:
        problems = cluster.stop()
        down = {k: round(v, 1) for k, v in cluster.timings.items() if k.startswith("down")}
        print(f"\nnode cluster: up {cluster.timings.get('total', 0):.1f} s; {down}")
        # The image store and etcd data are hundreds of megabytes; pytest
        # keeps old tmp dirs around. Removed by a detached `rm` (deleting the
        # image store took 5 s, at the end of the session, with nothing
        # waiting for it).
        subprocess.Popen(
            ["rm", "-rf", str(state_dir / "containerd"), str(state_dir / "controlplane" / "etcd")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        if problems:
            pytest.fail("node tear-down left host state behind:\n" + "\n".join(problems))


def node_api_client(kubeconfig: Path):
    """A kubernetes ApiClient that never sends the node's traffic to a proxy."""
    from kubernetes import client, config

    configuration = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    configuration.proxy = None
    configuration.no_proxy = "*"
    return client.ApiClient(configuration)


@pytest.fixture(scope="session")
def node_kube(node_cluster) -> Iterator[object]:
    api_client = node_api_client(node_cluster.kubeconfig)
    try:
        yield api_client
    finally:
        api_client.close()


@pytest.fixture
def node_namespace(request: pytest.FixtureRequest, node_kube) -> Iterator[str]:
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    core = client.CoreV1Api(node_kube)
    name = namespace_name(request.node.name)
    core.create_namespace({"metadata": {"name": name, "labels": {"modelops.io/test": "true"}}})
    deadline = time.monotonic() + SERVICE_ACCOUNT_TIMEOUT
    while True:
        try:
            core.read_namespaced_service_account("default", name)
            break
        except ApiException as exc:
            if exc.status != 404 or time.monotonic() > deadline:
                raise
        time.sleep(0.1)
    try:
        yield name
    finally:
        core.delete_namespace(name, propagation_policy="Background")


@pytest.fixture(scope="session")
def probe_image(node_cluster) -> str:
    ref, archive = build_probe()
    node_cluster.import_images([archive])
    return ref
