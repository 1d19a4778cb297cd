"""What a node changes on the host, recorded before `up` and compared after `down`.

A node changes machine-wide state that outlives its processes: the kubelet
sets kernel tunables, the bridge plugin turns on IP forwarding, kube-proxy
and the CNI plugins write iptables chains (and, through iptables-nft, create
nftables tables), containerd and the kubelet mount network namespaces, shm
and volumes, create links and cgroups, and a few directories are
hard-coded. `snapshot()` records all of it; `diff()` (pure) lists what
differs, which is what `down` undoes (teardown.py) and what the node tests
assert is empty after up + down.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

# Directories the kubelet and containerd use whatever their configuration
# says (the kubelet's /var/log/containers symlinks, containerd's shim sockets
# under /run/containerd/s, the CNI result cache under /var/lib/cni), plus the
# defaults of what the node is configured to keep elsewhere, in case a
# version starts using them.
HOST_PATHS = (
    "/var/lib/kubelet",
    "/var/log/pods",
    "/var/log/containers",
    "/var/lib/cni",
    "/run/containerd",
    "/var/lib/containerd",
    "/opt/containerd",
    "/etc/cni",
    "/opt/cni",
    "/run/netns",
    "/var/lib/kube-proxy",
)
# Sysctls are keyed by their path under /proc/sys (net/ipv4/ip_forward): an
# interface name may itself contain dots. Counters and random values that
# change on their own are never compared.
VOLATILE_SYSCTLS = (
    "fs/dentry-state",
    "fs/file-nr",
    "fs/inode-nr",
    "fs/inode-state",
    "fs/aio-nr",
    "fs/quota/",
    "kernel/ns_last_pid",
    "kernel/pty/nr",
    "kernel/random/",
    "net/netfilter/nf_conntrack_count",
)
# Sysctl sections that exist once per network interface.
_PER_LINK = re.compile(r"^net/ipv[46]/(conf|neigh)/([^/]+)/")
_COUNTERS = re.compile(r"\[\d+:\d+\]")
# Programs a node runs; a process of one of them that was not there before
# `up` and is still there after `down` is a leak.
NODE_PROGRAMS = frozenset(
    {
        "containerd",
        "containerd-shim-runc-v2",
        "containerd-shim",
        "runc",
        "kubelet",
        "kube-proxy",
        "coredns",
        "pause",
    }
)


# Top-level cgroups the kubelet (cgroupfs driver) creates for pods.
POD_CGROUPS = ("kubepods",)


@dataclass
class HostState:
    sysctls: dict[str, str] = field(default_factory=dict)
    iptables: dict[str, list[str]] = field(default_factory=dict)
    nft_tables: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    mounts: list[str] = field(default_factory=list)
    cgroups: dict[str, list[str]] = field(default_factory=dict)
    paths: dict[str, bool] = field(default_factory=dict)
    processes: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> HostState:
        return cls(**json.loads(text))


# -- reading the host (impure) ---------------------------------------------


def read_sysctls(root: Path = Path("/proc/sys")) -> dict[str, str]:
    values = {}
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            path = Path(dirpath) / name
            try:
                values[str(path.relative_to(root))] = path.read_text().strip()
            except OSError:
                continue  # write-only (e.g. vm.compact_memory) or not permitted
    return values


def _run(argv: list[str]) -> str | None:
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode == 0 else None


def read_iptables(tools: dict[str, Path]) -> dict[str, list[str]]:
    rules = {}
    for family, tool in (("ipv4", "iptables-save"), ("ipv6", "ip6tables-save")):
        if tool in tools:
            output = _run([str(tools[tool])])
            if output is not None:
                rules[family] = normalize_iptables(output)
    return rules


def read_nft_tables(tools: dict[str, Path]) -> list[str]:
    if "nft" not in tools:
        return []
    return parse_nft_tables(_run([str(tools["nft"]), "list", "tables"]) or "")


def read_links() -> list[str]:
    return sorted(os.listdir("/sys/class/net"))


def read_mounts() -> list[str]:
    return parse_mountinfo(Path("/proc/self/mountinfo").read_text())


def read_cgroups(root: Path = Path("/sys/fs/cgroup")) -> dict[str, list[str]]:
    """Top-level cgroups of each hierarchy (the kubelet creates `kubepods`)."""
    found = {}
    if not root.is_dir():
        return found
    hierarchies = [root] + [p for p in sorted(root.iterdir()) if p.is_dir()]
    for hierarchy in hierarchies:
        if not (hierarchy / "cgroup.procs").exists():
            continue
        name = "." if hierarchy == root else hierarchy.name
        found[name] = sorted(p.name for p in hierarchy.iterdir() if p.is_dir())
    return found


def cgroup_pids(
    root: Path = Path("/sys/fs/cgroup"), names: tuple[str, ...] = POD_CGROUPS
) -> set[int]:
    """PIDs in the node's pod cgroups, in every hierarchy."""
    pids: set[int] = set()
    if not root.is_dir():
        return pids
    tops = [root / n for n in names] + [h / n for h in root.iterdir() if h.is_dir() for n in names]
    for top in tops:
        if not top.is_dir():
            continue
        for dirpath, _dirs, _files in os.walk(top):
            with contextlib.suppress(OSError, ValueError):
                text = (Path(dirpath) / "cgroup.procs").read_text()
                pids.update(int(p) for p in text.split())
    return pids


def read_node_processes() -> list[str]:
    """`name pid` of every running process of a NODE_PROGRAMS program or in
    the pods' cgroups (whatever the containers run)."""
    in_pods = cgroup_pids()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            exe = os.path.basename(os.readlink(f"/proc/{entry}/exe"))
        except OSError:
            continue
        exe = exe.removesuffix(" (deleted)")
        if exe in NODE_PROGRAMS or int(entry) in in_pods:
            found.append(f"{exe} {entry}")
    return sorted(found)


def snapshot(tools: dict[str, Path]) -> HostState:
    return HostState(
        sysctls=read_sysctls(),
        iptables=read_iptables(tools),
        nft_tables=read_nft_tables(tools),
        links=read_links(),
        mounts=read_mounts(),
        cgroups=read_cgroups(),
        paths={path: os.path.lexists(path) for path in HOST_PATHS},
        processes=read_node_processes(),
    )


# -- parsing and comparing (pure) --------------------------------------------


def normalize_iptables(save_output: str) -> list[str]:
    """iptables-save output without comments and packet counters."""
    lines = []
    for line in save_output.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        lines.append(_COUNTERS.sub("[0:0]", line))
    return lines


def parse_nft_tables(output: str) -> list[str]:
    """`nft list tables` output -> ["ip filter", "ip6 nat", ...]."""
    return sorted(
        line.strip().removeprefix("table ").strip()
        for line in output.splitlines()
        if line.strip().startswith("table ")
    )


def _unescape_mount(path: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as octal.
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), path)


def parse_mountinfo(text: str) -> list[str]:
    """Mount points in /proc/self/mountinfo, one entry per mount (stacked
    mounts on the same point appear as often as they are stacked)."""
    points = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) > 4:
            points.append(_unescape_mount(fields[4]))
    return sorted(points)


def volatile(key: str) -> bool:
    return any(key == v or (v.endswith("/") and key.startswith(v)) for v in VOLATILE_SYSCTLS)


def per_link(key: str) -> str | None:
    """The interface a per-interface sysctl belongs to (None for all/default)."""
    match = _PER_LINK.match(key)
    if not match or match.group(2) in ("all", "default"):
        return None
    return match.group(2)


def changed_sysctls(before: HostState, after: HostState) -> dict[str, tuple[str, str]]:
    """Sysctls present in both with different values, minus counters and the
    sections of links that exist in only one of the two states."""
    common_links = set(before.links) & set(after.links)
    changed = {}
    for key, old in before.sysctls.items():
        new = after.sysctls.get(key)
        if new is None or new == old or volatile(key):
            continue
        link = per_link(key)
        if link is not None and link not in common_links:
            continue
        changed[key] = (old, new)
    return changed


def multiset_minus(a: list[str], b: list[str]) -> list[str]:
    """Items of `a` not matched by an equal item of `b`, in `a`'s order."""
    remaining = Counter(b)
    extra = []
    for item in a:
        if remaining[item]:
            remaining[item] -= 1
        else:
            extra.append(item)
    return extra


def diff(before: HostState, after: HostState) -> list[str]:
    """Every difference between two states, one line each (empty: identical)."""
    lines = [
        f"sysctl {key}: {old!r} -> {new!r}"
        for key, (old, new) in sorted(changed_sysctls(before, after).items())
    ]
    for family in sorted(set(before.iptables) | set(after.iptables)):
        old, new = before.iptables.get(family, []), after.iptables.get(family, [])
        lines += [f"{family} iptables: added {line}" for line in multiset_minus(new, old)]
        lines += [f"{family} iptables: removed {line}" for line in multiset_minus(old, new)]
    for label, old, new in (
        ("nft table", before.nft_tables, after.nft_tables),
        ("link", before.links, after.links),
        ("mount", before.mounts, after.mounts),
        ("process", before.processes, after.processes),
    ):
        lines += [f"{label} added: {item}" for item in multiset_minus(new, old)]
        lines += [f"{label} removed: {item}" for item in multiset_minus(old, new)]
    for hierarchy in sorted(set(before.cgroups) | set(after.cgroups)):
        old, new = before.cgroups.get(hierarchy, []), after.cgroups.get(hierarchy, [])
        lines += [f"cgroup added: {hierarchy}/{name}" for name in sorted(set(new) - set(old))]
        lines += [f"cgroup removed: {hierarchy}/{name}" for name in sorted(set(old) - set(new))]
    for path in sorted(set(before.paths) | set(after.paths)):
        was, now = before.paths.get(path), after.paths.get(path)
        if was is not None and now is not None and was != now:
            lines.append(f"path {'created' if now else 'removed'}: {path}")
    return lines
