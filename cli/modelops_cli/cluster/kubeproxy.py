"""kube-proxy: its KubeProxyConfiguration and command line.

iptables mode. Conntrack limits are left alone (`conntrack.*: 0`): kube-proxy
would otherwise raise nf_conntrack_max and the TCP timeouts of the whole
machine. `localhostNodePorts: false` keeps it from setting route_localnet,
which would make NodePorts answer on 127.0.0.1 and change a host sysctl.
"""

from __future__ import annotations

from pathlib import Path

from .layout import POD_CIDR, PROXY_HEALTHZ_PORT, PROXY_METRICS_PORT


def render_config(*, kubeconfig: Path, node_name: str) -> dict:
    """A kubeproxy.config.k8s.io/v1alpha1 KubeProxyConfiguration."""
    return {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "mode": "iptables",
        "clientConnection": {"kubeconfig": str(kubeconfig)},
        "hostnameOverride": node_name,
        # Traffic from outside this range to a Service is masqueraded, so
        # replies from a pod find their way back to the host or a NodePort
        # client.
        "clusterCIDR": POD_CIDR,
        "healthzBindAddress": f"127.0.0.1:{PROXY_HEALTHZ_PORT}",
        "metricsBindAddress": f"127.0.0.1:{PROXY_METRICS_PORT}",
        # Not -999: lowering it needs CAP_SYS_RESOURCE (see kubelet.py).
        "oomScoreAdj": 0,
        "conntrack": {
            "maxPerCore": 0,
            "min": 0,
            "tcpEstablishedTimeout": "0s",
            "tcpCloseWaitTimeout": "0s",
        },
        "iptables": {"localhostNodePorts": False, "syncPeriod": "30s", "minSyncPeriod": "0s"},
    }


def kube_proxy_args(binary: Path, config: Path) -> list[str]:
    return [str(binary), f"--config={config}", "--v=1"]
