"""Preparing the node before its processes start: files, certificates and the
two host settings `up` makes itself (everything here is undone by `down`)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

from modelops_cli.controlplane import ControlPlane
from modelops_cli.controlplane import kubeconfig as kubeconfig_mod

from . import cni, containerd, kubelet, kubeproxy, pki
from .assets import NodeAssets
from .layout import BRIDGE, CNI_NETWORK, KUBELET_PORT, POD_CIDR, Layout

# Sysctls the node needs from the start; the kubelet and the bridge plugin set
# others themselves. All are restored by `down` (hoststate/teardown).
REQUIRED_SYSCTLS = {
    "net/ipv4/ip_forward": "1",
    # Pod-to-Service traffic between two pods on the same bridge is switched,
    # not routed; without this it never passes kube-proxy's iptables rules.
    "net/bridge/bridge-nf-call-iptables": "1",
}
KUBELET_CHAIN = "MODELOPS-KUBELET"
SYSTEMD_RESOLV_CONF = Path("/run/systemd/resolve/resolv.conf")


def set_sysctls(root: Path = Path("/proc/sys")) -> None:
    for key, value in REQUIRED_SYSCTLS.items():
        path = root / key
        if path.read_text().strip() != value:
            path.write_text(value + "\n")


def protect_kubelet(iptables: Path) -> None:
    """Only the host (the API server among its programs) may open the kubelet's
    port: pods and other machines get a reset. The kubelet authenticates every
    request anyway; this keeps its API out of their reach altogether."""
    for argv in (
        ["-N", KUBELET_CHAIN],
        ["-A", KUBELET_CHAIN, "-p", "tcp", "--dport", str(KUBELET_PORT), "-m", "addrtype",
         "!", "--src-type", "LOCAL", "-j", "REJECT", "--reject-with", "tcp-reset"],
        ["-I", "INPUT", "1", "-j", KUBELET_CHAIN],
    ):  # fmt: skip
        subprocess.run([str(iptables), "-w", *argv], check=True, capture_output=True)


def write_containerd_files(layout: Layout, assets: NodeAssets) -> None:
    """containerd's config.toml and the CNI network it hands pods to."""
    layout.containerd.mkdir(parents=True, exist_ok=True)
    layout.containerd_config.write_text(
        containerd.render_config(
            layout,
            pause_ref=assets.node_env["PAUSE_REF"],
            cni_bin_dir=assets.cni_dir,
            runc=assets.tool("runc"),
        )
    )
    layout.cni_conf_dir.mkdir(parents=True, exist_ok=True)
    conflist = cni.render_conflist(
        name=CNI_NETWORK, bridge=BRIDGE, pod_cidr=POD_CIDR, ipam_dir=layout.cni_ipam_dir
    )
    (layout.cni_conf_dir / "10-modelops.conflist").write_text(json.dumps(conflist, indent=2))


def write_node_files(layout: Layout, plane: ControlPlane, *, node_name: str, node_ip: str) -> None:
    """Certificates, kubeconfigs and configurations of the kubelet and kube-proxy
    (after the control plane started: they are signed by its CA)."""
    node_pki = pki.generate(layout.pki, plane.layout.pki, node_name=node_name, node_ip=node_ip)
    ca = plane.layout.pki.ca_cert
    for directory, identity in (
        (layout.kubelet, "kubelet-client"),
        (layout.kube_proxy, "kube-proxy"),
    ):
        directory.mkdir(parents=True, exist_ok=True)
        kubeconfig_mod.write(
            directory / "kubeconfig",
            kubeconfig_mod.render(
                plane.server,
                ca.read_bytes(),
                node_pki.cert(identity).read_bytes(),
                node_pki.key(identity).read_bytes(),
            ),
        )
    resolv = kubelet.pick_resolv_conf(
        Path("/etc/resolv.conf").read_text(),
        SYSTEMD_RESOLV_CONF if SYSTEMD_RESOLV_CONF.is_file() else None,
    )
    config = kubelet.render_config(
        layout,
        node_ip=node_ip,
        ca_cert=ca,
        serving_cert=node_pki.cert("kubelet-serving"),
        serving_key=node_pki.key("kubelet-serving"),
        resolv_conf=resolv,
    )
    (layout.kubelet / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    proxy = kubeproxy.render_config(
        kubeconfig=layout.kube_proxy / "kubeconfig", node_name=node_name
    )
    (layout.kube_proxy / "config.yaml").write_text(yaml.safe_dump(proxy, sort_keys=False))
