"""Where a local cluster keeps its files, and the network it uses.

Everything the node writes that can be configured lives under one state
directory (default ~/.local/state/modelops/cluster); what the kubelet and
containerd hard-code elsewhere is listed in hoststate.HOST_PATHS and removed
by `down` when it did not exist before `up`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from modelops_cli.controlplane.flags import SERVICE_CLUSTER_IP_RANGE

# One /24 for the node's pods: host-local hands out addresses from it and
# kube-proxy treats traffic from it as in-cluster (no masquerade).
POD_CIDR = "10.244.0.0/24"
SERVICE_CIDR = SERVICE_CLUSTER_IP_RANGE
# The tenth address of the Service range, where kubeadm clusters put DNS.
DNS_SERVICE_IP = "10.96.0.10"
CLUSTER_DOMAIN = "cluster.local"
# Not the usual cni0, so a node never collides with another CNI user's bridge.
BRIDGE = "modelops0"
CNI_NETWORK = "modelops"
# The kubelet's and kube-proxy's usual ports: one node per machine (lock.py),
# so they need not be chosen at random like the control plane's.
KUBELET_PORT = 10250
KUBELET_HEALTHZ_PORT = 10248
PROXY_METRICS_PORT = 10249
PROXY_HEALTHZ_PORT = 10256


# containerd refuses a unix socket path over 104 characters (the BSDs' sun_path
# size, which it applies everywhere), so the state directory cannot be deep.
MAX_SOCKET_PATH = 104


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "modelops" / "cluster"


@dataclass(frozen=True)
class Layout:
    """The paths of one cluster, all under `root`."""

    root: Path

    @property
    def controlplane(self) -> Path:
        return self.root / "controlplane"

    @property
    def kubeconfig(self) -> Path:
        # The control plane's admin kubeconfig, also the cluster's.
        return self.controlplane / "kubeconfig"

    @property
    def pki(self) -> Path:
        return self.root / "pki"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def log(self, component: str) -> Path:
        return self.logs / f"{component}.log"

    @property
    def state_file(self) -> Path:
        return self.root / "cluster.json"

    @property
    def host_before(self) -> Path:
        return self.root / "host-before.json"

    # containerd: config, socket, image store, container state

    @property
    def containerd(self) -> Path:
        return self.root / "containerd"

    @property
    def containerd_config(self) -> Path:
        return self.containerd / "config.toml"

    @property
    def containerd_socket(self) -> Path:
        return self.containerd / "containerd.sock"

    @property
    def longest_socket(self) -> Path:
        # containerd serves ttrpc beside its gRPC socket, at the same path + ".ttrpc".
        return Path(f"{self.containerd_socket}.ttrpc")

    @property
    def containerd_root(self) -> Path:
        # Kept across up/down: imported images survive a restart of the node.
        return self.containerd / "root"

    @property
    def containerd_state(self) -> Path:
        return self.containerd / "state"

    @property
    def runc_root(self) -> Path:
        return self.containerd / "runc"

    # CNI

    @property
    def cni_conf_dir(self) -> Path:
        return self.root / "cni" / "net.d"

    @property
    def cni_ipam_dir(self) -> Path:
        return self.root / "cni" / "networks"

    # kubelet and kube-proxy

    @property
    def kubelet(self) -> Path:
        return self.root / "kubelet"

    @property
    def kubelet_root(self) -> Path:
        return self.kubelet / "root"

    @property
    def pod_logs(self) -> Path:
        return self.kubelet / "pod-logs"

    @property
    def kube_proxy(self) -> Path:
        return self.root / "kube-proxy"

    def owned_prefixes(self) -> tuple[Path, ...]:
        """Directories whose mounts `down` may remove: only the node's own."""
        return (self.root,)
