"""The kubelet: its KubeletConfiguration and command line.

Security: no anonymous requests, clients authenticated by x509 (the cluster
CA) or a bearer token checked with the API server (webhook), every request
authorised by the API server (SubjectAccessReview); the read-only port is
off and the API listens on the node's address only, with healthz on
loopback. The API server reaches it with its kubelet-client certificate.

Images: every image here was imported from an archive and cannot be pulled
again, so image garbage collection is off (high threshold 100 %) and the
eviction thresholds are loose: a shared development machine with a nearly
full disk must not evict the cluster's pods or delete its images.
"""

from __future__ import annotations

from pathlib import Path

from .layout import (
    CLUSTER_DOMAIN,
    DNS_SERVICE_IP,
    KUBELET_HEALTHZ_PORT,
    KUBELET_PORT,
    POD_CIDR,
    Layout,
)

# Resource left free before the kubelet evicts pods: loose on purpose (see
# the module docstring); every signal is named, because naming some would
# zero the defaults of the others.
EVICTION_HARD = {
    "memory.available": "100Mi",
    "nodefs.available": "1%",
    "nodefs.inodesFree": "1%",
    "imagefs.available": "1%",
    "imagefs.inodesFree": "1%",
}


def render_config(
    layout: Layout,
    *,
    node_ip: str,
    ca_cert: Path,
    serving_cert: Path,
    serving_key: Path,
    resolv_conf: Path,
) -> dict:
    """A kubelet.config.k8s.io/v1beta1 KubeletConfiguration."""
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": node_ip,
        "port": KUBELET_PORT,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": KUBELET_HEALTHZ_PORT,
        "tlsCertFile": str(serving_cert),
        "tlsPrivateKeyFile": str(serving_key),
        "rotateCertificates": False,
        "serverTLSBootstrap": False,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True, "cacheTTL": "30s"},
            "x509": {"clientCAFile": str(ca_cert)},
        },
        "authorization": {"mode": "Webhook"},
        "containerRuntimeEndpoint": f"unix://{layout.containerd_socket}",
        # These machines mount cgroup v1 and run no systemd; kubelet 1.36
        # refuses cgroup v1 unless told it may only warn.
        "cgroupDriver": "cgroupfs",
        "failCgroupV1": False,
        "failSwapOn": False,
        "clusterDNS": [DNS_SERVICE_IP],
        "clusterDomain": CLUSTER_DOMAIN,
        "resolvConf": str(resolv_conf),
        "podCIDR": POD_CIDR,
        "maxPods": 110,
        "podLogsDir": str(layout.pod_logs),
        "evictionHard": dict(EVICTION_HARD),
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "imageMaximumGCAge": "0s",
        # The kubelet would otherwise refuse to start when the host's
        # kernel tunables differ from its wishes; it sets them instead, and
        # `down` restores them (hoststate.py).
        "protectKernelDefaults": False,
        # Lowering its own oom_score_adj needs CAP_SYS_RESOURCE, which root
        # lacks on these machines; 0 spares the failing attempt.
        "oomScoreAdj": 0,
        "registerNode": True,
        "serializeImagePulls": False,
        "staticPodPath": "",
        "shutdownGracePeriod": "0s",
    }


def kubelet_args(
    binary: Path, layout: Layout, *, config: Path, kubeconfig: Path, node_name: str, node_ip: str
) -> list[str]:
    return [
        str(binary),
        f"--config={config}",
        f"--kubeconfig={kubeconfig}",
        f"--root-dir={layout.kubelet_root}",
        f"--cert-dir={layout.kubelet / 'pki'}",
        f"--hostname-override={node_name}",
        f"--node-ip={node_ip}",
        "--v=1",
    ]


def pick_resolv_conf(main_text: str, systemd_resolved: Path | None) -> Path:
    """The resolv.conf pods with dnsPolicy Default (and CoreDNS) inherit.

    A host whose /etc/resolv.conf only names a loopback stub (systemd-resolved
    at 127.0.0.53) would hand pods a resolver they cannot reach; the stub's
    upstream list is used instead when it exists, as kubeadm does.
    """
    servers = [
        line.split()[1]
        for line in main_text.splitlines()
        if line.strip().startswith("nameserver") and len(line.split()) > 1
    ]
    only_loopback = bool(servers) and all(s.startswith("127.") or s == "::1" for s in servers)
    if only_loopback and systemd_resolved is not None:
        return systemd_resolved
    return Path("/etc/resolv.conf")
