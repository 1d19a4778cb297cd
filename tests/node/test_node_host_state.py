"""`modelops cluster up` + `down` leaves the host as it found it.

The proof that tear-down is complete: the host's state (sysctls, iptables
and nftables, links, mounts, cgroups, the kubelet's and containerd's
hard-coded directories, node processes) is recorded, a node is brought up,
made to run pods, a Service and traffic from the host through it, brought
down, and the state recorded again: the two must be identical.

This test brings its own node up and down, so it runs before the session's
shared node starts (tests/node/conftest.py).
"""

from __future__ import annotations

from modelops_cli.cluster import hoststate
from modelops_cli.cluster import lock as node_lock
from modelops_cli.cluster.assets import find_tools
from tests.node.support import (
    apply,
    deployment,
    eventually,
    host_get,
    kubectl,
    service,
    wait_available,
)
from tests.plugins.node import build_probe, start_cluster

RUNS_BEFORE_SHARED_NODE = True


def _relevant(line: str, prefixes: tuple[str, ...]) -> bool:
    """Mounts and links made by others on this shared machine (an image build
    running beside the tests) are not the node's: only mounts under the
    node's directories count. Everything else is compared as it is."""
    if line.startswith(("mount added: ", "mount removed: ")):
        point = line.split(": ", 1)[1]
        return any(point == p or point.startswith(p.rstrip("/") + "/") for p in prefixes)
    return True


def test_up_then_down_restores_the_host(tmp_path):
    tools = {name: path for name, path in find_tools().items() if path is not None}
    before = hoststate.snapshot(tools)
    ref, archive = build_probe()

    cluster = start_cluster(tmp_path / "node")
    try:
        cluster.import_images([archive])
        apply(
            cluster,
            deployment("touch", "default", ref, replicas=2),
            service("touch", "default"),
        )
        wait_available(cluster, "default", "touch")
        cluster_ip = kubectl(
            cluster, "get", "service", "touch", "-o", "jsonpath={.spec.clusterIP}"
        ).strip()
        eventually(lambda: host_get(f"http://{cluster_ip}/"), what="the Service answering the host")
        during = hoststate.snapshot(tools)
    finally:
        problems = cluster.stop()

    after = hoststate.snapshot(tools)
    assert problems == []
    # The node did change the host while it ran (else this test proves nothing).
    changed = hoststate.diff(before, during)
    assert any(line.startswith("link added: modelops0") for line in changed)
    assert any("KUBE-SERVICES" in line for line in changed)
    assert any(line.startswith("process added: kubelet") for line in changed)

    prefixes = (str(tmp_path), *hoststate.HOST_PATHS)
    leftovers = [line for line in hoststate.diff(before, after) if _relevant(line, prefixes)]
    assert leftovers == [], "up + down left the host changed:\n" + "\n".join(leftovers)
    assert node_lock.read() is None, "down did not release the machine's node lock"
