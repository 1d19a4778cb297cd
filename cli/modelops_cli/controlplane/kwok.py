"""kwok: simulated nodes, so Pods become Running without a kubelet.

kwok (sigs.k8s.io/kwok) watches Nodes carrying its annotation and the Pods
scheduled to them, and writes the status a kubelet would: the Node turns
Ready and keeps its lease, Pods turn Running and Ready, Job Pods complete.
Deployments therefore become Available and Jobs Complete, which the operator
waits for, while no container ever runs.
"""

from __future__ import annotations

from pathlib import Path

# Only Nodes carrying this annotation are managed, so a real node that joins
# an existing cluster is never touched.
MANAGED_ANNOTATION = "kwok.x-k8s.io/node"
MANAGED_VALUE = "fake"
NODE_NAME = "kwok-node-0"
STAGES_FILE = "stages.yaml"
# A node that reports no heartbeat for the controller-manager's grace period
# (50 s) turns NotReady; kwok renews the Lease well within this duration.
NODE_LEASE_SECONDS = 40
POD_CIDR = "10.244.0.1/24"


def stages_path(kwok_binary: Path) -> Path:
    """kwok's Stage configuration, written by provision.sh beside the binary."""
    return kwok_binary.resolve().parent / STAGES_FILE


def kwok_args(binary: Path, kubeconfig: Path, health_port: int) -> list[str]:
    return [
        str(binary),
        f"--kubeconfig={kubeconfig}",
        f"--config={stages_path(binary)}",
        "--manage-all-nodes=false",
        f"--manage-nodes-with-annotation-selector={MANAGED_ANNOTATION}={MANAGED_VALUE}",
        f"--node-lease-duration-seconds={NODE_LEASE_SECONDS}",
        f"--server-address=127.0.0.1:{health_port}",
        "--node-ip=127.0.0.1",
        f"--cidr={POD_CIDR}",
    ]


def fake_node(name: str = NODE_NAME) -> dict:
    """A Node object kwok will manage, sized so tests never run out of room."""
    capacity = {"cpu": "32", "memory": "256Gi", "pods": "110", "ephemeral-storage": "100Gi"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {MANAGED_ANNOTATION: MANAGED_VALUE, "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "type": "kwok",
            },
        },
        "status": {"allocatable": capacity, "capacity": capacity},
    }
