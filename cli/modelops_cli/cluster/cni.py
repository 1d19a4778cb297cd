"""The pod network: one Linux bridge, addresses from host-local.

`bridge` with `isGateway` gives the bridge the first address of the pod CIDR
and makes it the pods' default route; `ipMasq` masquerades traffic leaving
the pod CIDR, so pods reach the host's DNS and package registries;
`hairpinMode` lets a pod reach itself through a Service. host-local keeps its
allocations under the node's state directory instead of /var/lib/cni. The
`portmap` plugin makes `hostPort` work.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

# Debian's containernetworking-plugins 1.1 understands this spec version.
CNI_VERSION = "1.0.0"


def gateway(pod_cidr: str) -> str:
    """The bridge's address: the first host of the pod CIDR."""
    return str(next(ipaddress.ip_network(pod_cidr).hosts()))


def render_conflist(*, name: str, bridge: str, pod_cidr: str, ipam_dir: Path) -> dict:
    """The CNI network configuration list containerd hands to the plugins."""
    network = ipaddress.ip_network(pod_cidr)
    if network.version != 4:
        raise ValueError(f"pod_cidr: {pod_cidr} is not an IPv4 network")
    return {
        "cniVersion": CNI_VERSION,
        "name": name,
        "plugins": [
            {
                "type": "bridge",
                "bridge": bridge,
                "isGateway": True,
                "ipMasq": True,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": str(network), "gateway": gateway(pod_cidr)}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": str(ipam_dir),
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}, "snat": True},
        ],
    }
