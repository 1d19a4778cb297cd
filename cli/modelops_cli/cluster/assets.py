"""Finding what a node runs: binaries and images from `make node`, tools from Debian.

tools/node/provision.sh records the kubelet, kube-proxy, kubectl, CoreDNS and
the two node images in ~/.cache/modelops/node/node.env; containerd, runc, ctr, the
CNI plugins, iptables and nft come from Debian's packages on PATH.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from modelops_cli.controlplane import assets as cp_assets

# Debian installs the CNI plugins here; /opt/cni/bin is the upstream default.
CNI_DIRS = (Path("/usr/lib/cni"), Path("/opt/cni/bin"))
CNI_PLUGINS = ("bridge", "host-local", "loopback", "portmap")
# Looked up on PATH plus the sbin directories a non-login root shell may lack.
SYSTEM_TOOLS = (
    "containerd",
    "containerd-shim-runc-v2",
    "runc",
    "ctr",
    "iptables",
    "iptables-save",
    "ip6tables",
    "ip6tables-save",
    "nft",
    "conntrack",
    "ip",
)
NODE_ENV_KEYS = (
    "KUBELET",
    "KUBE_PROXY",
    "KUBECTL",
    "COREDNS",
    "PAUSE_IMAGE",
    "PAUSE_REF",
    "COREDNS_IMAGE",
    "COREDNS_REF",
)
_SEARCH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def node_env_file() -> Path:
    base = os.environ.get("MODELOPS_CACHE") or str(Path.home() / ".cache" / "modelops")
    return Path(base) / "node" / "node.env"


def parse_env(text: str) -> dict[str, str]:
    """KEY=VALUE lines (comments and blank lines ignored)."""
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip("'\"")
    return values


def which(name: str) -> Path | None:
    path = os.environ.get("PATH", "")
    found = shutil.which(name, path=f"{path}:{_SEARCH}" if path else _SEARCH)
    return Path(found) if found else None


def cni_dir() -> Path | None:
    for directory in CNI_DIRS:
        if all((directory / plugin).is_file() for plugin in CNI_PLUGINS):
            return directory
    return None


@dataclass(frozen=True)
class NodeAssets:
    """Everything a node starts, by name; values of node.env as given."""

    tools: dict[str, Path]
    node_env: dict[str, str]
    cni_dir: Path
    plane: cp_assets.Assets

    def tool(self, name: str) -> Path:
        return self.tools[name]

    def path(self, key: str) -> Path:
        return Path(self.node_env[key])


def find_tools() -> dict[str, Path | None]:
    return {name: which(name) for name in SYSTEM_TOOLS}


def read_node_env() -> dict[str, str] | None:
    path = node_env_file()
    return parse_env(path.read_text()) if path.is_file() else None
