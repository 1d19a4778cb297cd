"""Can this machine run a node? Checked before anything starts.

`gather()` reads the machine; `problems(facts)` is pure and returns one line
per missing thing with how to get it, so `cluster up` fails with a single
message instead of half-starting.
"""

from __future__ import annotations

import os
import shutil
import socket
from dataclasses import dataclass, field
from pathlib import Path

from modelops_cli.controlplane import assets as cp_assets

from . import assets, netinfo
from .kubelet import EVICTION_HARD
from .layout import (
    KUBELET_HEALTHZ_PORT,
    KUBELET_PORT,
    MAX_SOCKET_PATH,
    POD_CIDR,
    PROXY_HEALTHZ_PORT,
    PROXY_METRICS_PORT,
    SERVICE_CIDR,
    Layout,
)

MAKE_NODE = "run `make node` (tools/node/provision.sh)"
# Controllers the kubelet's cgroupfs driver and runc need on cgroup v1.
CGROUP_V1_CONTROLLERS = ("cpu", "cpuacct", "cpuset", "memory", "pids", "devices", "freezer")
# Which Debian package provides each tool `make node` installs.
PACKAGES = {
    "containerd": "containerd",
    "containerd-shim-runc-v2": "containerd",
    "ctr": "containerd",
    "runc": "runc",
    "iptables": "iptables",
    "iptables-save": "iptables",
    "ip6tables": "iptables",
    "ip6tables-save": "iptables",
    "nft": "nftables",
    "conntrack": "conntrack",
    "ip": "iproute2",
}
NODE_ENV_FILES = ("KUBELET", "KUBE_PROXY", "KUBECTL", "COREDNS", "PAUSE_IMAGE", "COREDNS_IMAGE")
# Disk the node's state directory needs beyond the kubelet's eviction reserve:
# containerd unpacks every product image there (the test layer's node went
# from 13 to 6.8 GB free on / while it ran, 2026-12-06). Below the reserve the
# kubelet reports DiskPressure and evicts pods, which tests only see as pods
# that never become ready.
NODE_DISK_BYTES = 6 * 2**30


class PreflightError(RuntimeError):
    """The machine cannot run a node; the message lists what is missing."""


@dataclass(frozen=True)
class Facts:
    is_root: bool
    filesystems: frozenset[str]
    cgroup_v1: frozenset[str]
    cgroup_v2: bool
    tools: dict[str, Path | None]
    cni_dir: Path | None
    node_env: dict[str, str] | None
    node_env_path: Path
    plane_error: str | None
    bridge_netfilter: bool
    busy_ports: tuple[int, ...] = ()
    route_conflicts: tuple[str, ...] = ()
    existing_files: frozenset[str] = field(default_factory=frozenset)
    socket_path: str = ""  # the longest unix socket path the node will listen on
    disk_free: int | None = None  # bytes free on the state directory's filesystem
    disk_total: int | None = None


def _mounted_cgroups(mounts_text: str) -> tuple[frozenset[str], bool]:
    v1, v2 = set(), False
    for line in mounts_text.splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        if fields[2] == "cgroup":
            v1.update(o for o in fields[3].split(",") if o in CGROUP_V1_CONTROLLERS)
        elif fields[2] == "cgroup2" and fields[1] == "/sys/fs/cgroup":
            v2 = True
    return frozenset(v1), v2


def _port_busy(port: int, address: str) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As Go's listeners do: connections of a node that just stopped may
        # linger in TIME_WAIT; only a listener makes the port busy.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError:
            return True
    return False


def gather(node_ip: str, layout: Layout) -> Facts:
    mounts = Path("/proc/mounts").read_text()
    v1, v2 = _mounted_cgroups(mounts)
    node_env = assets.read_node_env()
    try:
        cp_assets.discover(controllers=True)
        plane_error = None
    except cp_assets.MissingBinariesError as exc:
        plane_error = str(exc)
    ports = [(KUBELET_PORT, node_ip), (KUBELET_HEALTHZ_PORT, "127.0.0.1")]
    ports += [(PROXY_METRICS_PORT, "127.0.0.1"), (PROXY_HEALTHZ_PORT, "127.0.0.1")]
    routes = netinfo.parse_routes(Path("/proc/net/route").read_text())
    conflicts = [
        f"{cidr} overlaps the host's route {r.destination} on {r.iface}"
        for cidr in (POD_CIDR, SERVICE_CIDR)
        for r in netinfo.conflicts(cidr, routes, ignore_ifaces=("modelops0",))
    ]
    files = {
        value
        for key, value in (node_env or {}).items()
        if key in NODE_ENV_FILES and Path(value).is_file()
    }
    return Facts(
        is_root=os.geteuid() == 0,
        filesystems=frozenset(
            line.split()[-1] for line in Path("/proc/filesystems").read_text().splitlines()
        ),
        cgroup_v1=v1,
        cgroup_v2=v2,
        tools=assets.find_tools(),
        cni_dir=assets.cni_dir(),
        node_env=node_env,
        node_env_path=assets.node_env_file(),
        plane_error=plane_error,
        bridge_netfilter=Path("/proc/sys/net/bridge/bridge-nf-call-iptables").exists(),
        busy_ports=tuple(port for port, address in ports if _port_busy(port, address)),
        route_conflicts=tuple(conflicts),
        existing_files=frozenset(files),
        socket_path=str(layout.longest_socket),
        **_disk(layout.root),
    )


def _disk(root: Path) -> dict[str, int]:
    """Free and total bytes of the filesystem the state directory is (or will be) on."""
    existing = root
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    usage = shutil.disk_usage(existing)
    return {"disk_free": usage.free, "disk_total": usage.total}


def disk_needed(total: int) -> int:
    """Bytes a node needs free: NODE_DISK_BYTES plus the kubelet's nodefs reserve."""
    reserve_percent = float(EVICTION_HARD["nodefs.available"].rstrip("%"))
    return NODE_DISK_BYTES + int(total * reserve_percent / 100)


def problems(facts: Facts) -> list[str]:
    """Everything that stops a node from running here, each with its remedy."""
    found = []
    if not facts.is_root:
        found.append(
            "not root: a node mounts filesystems, creates network namespaces and "
            "writes iptables rules and cgroups; run `modelops cluster up` as root"
        )
    if "overlay" not in facts.filesystems:
        found.append(
            "no overlay filesystem in the kernel: `modprobe overlay` (containerd needs it)"
        )
    missing_cgroups = sorted(set(CGROUP_V1_CONTROLLERS) - facts.cgroup_v1)
    if not facts.cgroup_v2 and missing_cgroups:
        found.append(
            f"cgroup controllers not mounted: {', '.join(missing_cgroups)} "
            "(mount the cgroup v1 hierarchies or a cgroup v2 /sys/fs/cgroup)"
        )
    if not facts.bridge_netfilter:
        found.append(
            "no bridge netfilter (/proc/sys/net/bridge): `modprobe br_netfilter`, "
            "or Services cannot route between pods on the bridge"
        )
    missing_tools = sorted(name for name, path in facts.tools.items() if path is None)
    if missing_tools:
        packages = sorted({PACKAGES[name] for name in missing_tools if name in PACKAGES})
        found.append(
            f"missing programs: {', '.join(missing_tools)} "
            f"(Debian packages {' '.join(packages)}): {MAKE_NODE} installs them"
        )
    if facts.cni_dir is None:
        found.append(
            f"no CNI plugins ({', '.join(assets.CNI_PLUGINS)}) in "
            f"{' or '.join(str(d) for d in assets.CNI_DIRS)}: {MAKE_NODE} installs "
            "Debian's containernetworking-plugins"
        )
    if facts.node_env is None:
        found.append(
            f"no kubelet, kube-proxy, CoreDNS or node images ({facts.node_env_path} "
            f"is missing): {MAKE_NODE}"
        )
    else:
        absent = [
            key
            for key in assets.NODE_ENV_KEYS
            if key not in facts.node_env
            or (key in NODE_ENV_FILES and facts.node_env[key] not in facts.existing_files)
        ]
        if absent:
            found.append(
                f"{facts.node_env_path} names missing files or lacks {', '.join(absent)}: "
                f"{MAKE_NODE} again"
            )
    if facts.plane_error:
        found.append(facts.plane_error)
    for port in facts.busy_ports:
        found.append(
            f"port {port} is already in use (another kubelet or kube-proxy?); "
            "`ss -ltnp` shows who holds it"
        )
    if facts.disk_free is not None and facts.disk_total is not None:
        needed = disk_needed(facts.disk_total)
        if facts.disk_free < needed:
            found.append(
                f"{facts.disk_free / 2**30:.1f} GiB free for the node's state directory; it "
                f"needs {needed / 2**30:.1f} GiB ({NODE_DISK_BYTES / 2**30:.0f} GiB for the "
                f"unpacked images and pods, plus the kubelet's eviction reserve of "
                f"{EVICTION_HARD['nodefs.available']} of the disk): free some space "
                "(`modelops images prune` drops unused image layers) or pass a --state-dir "
                "on a larger disk"
            )
    found.extend(
        f"{conflict}: pods or Services there would be unreachable"
        for conflict in facts.route_conflicts
    )
    if len(facts.socket_path) > MAX_SOCKET_PATH:
        found.append(
            f"the state directory is too deep for containerd's sockets: {facts.socket_path} "
            f"has {len(facts.socket_path)} characters, containerd accepts {MAX_SOCKET_PATH}; "
            "pass a shorter --state-dir (or a shorter XDG_STATE_HOME)"
        )
    return found


def check(node_ip: str, layout: Layout) -> assets.NodeAssets:
    """Return the node's assets, or raise PreflightError listing every problem."""
    facts = gather(node_ip, layout)
    found = problems(facts)
    if found:
        raise PreflightError(
            "this machine cannot run a node yet:\n" + "\n".join(f"  - {p}" for p in found)
        )
    return assets.NodeAssets(
        tools={name: path for name, path in facts.tools.items() if path is not None},
        node_env=dict(facts.node_env or {}),
        cni_dir=facts.cni_dir,
        plane=cp_assets.discover(controllers=True),
    )
