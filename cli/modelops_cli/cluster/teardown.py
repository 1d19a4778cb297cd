"""Undoing what a node did to the host (see hoststate.py for what that is).

Every step works from the state recorded before `up` and touches only what
is new since then *and* recognisably the node's: processes in the
`kubepods` cgroups or shims of its containerd socket, mounts under its state
directory or the kubelet's hard-coded directories, its bridge and veths,
iptables chains named KUBE-*, CNI-* or MODELOPS-*, nftables tables that did
not exist, cgroups it created. Each step reports problems instead of
raising, so one stuck mount does not leave everything else behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shlex
import shutil
import signal
import subprocess
import time
from pathlib import Path

from . import hoststate
from .hoststate import HostState
from .layout import BRIDGE, POD_CIDR, SERVICE_CIDR, Layout

OWN_CHAIN_PREFIXES = ("KUBE-", "CNI-", "MODELOPS-")
OWN_CGROUPS = hoststate.POD_CGROUPS
_MNT_DETACH = 2
KILL_TIMEOUT = 10.0
LINK_TIMEOUT = 5.0


# -- processes -----------------------------------------------------------------


def shim_pids(socket: Path) -> set[int]:
    """containerd shims started for the node's containerd (by its socket)."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if (
            argv
            and os.path.basename(argv[0]).startswith(b"containerd-shim")
            and str(socket).encode() in argv
        ):
            found.add(int(entry))
    return found


def kill_all(find, timeout: float = KILL_TIMEOUT) -> list[str]:
    """SIGKILL whatever `find()` returns until it returns nothing."""
    deadline = time.monotonic() + timeout
    while True:
        pids = find()
        if not pids:
            return []
        if time.monotonic() > deadline:
            return [f"processes still running after SIGKILL: {sorted(pids)}"]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)


# -- mounts ------------------------------------------------------------------


def owned(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes)


def mounts_to_remove(before: list[str], now: list[str], prefixes: tuple[str, ...]) -> list[str]:
    """New mount points under `prefixes`, deepest first (so parents come free)."""
    extra = hoststate.multiset_minus(now, before)
    return sorted((m for m in extra if owned(m, prefixes)), key=lambda m: (-m.count("/"), m))


def unmount(points: list[str]) -> list[str]:
    libc = ctypes.CDLL(None, use_errno=True)
    problems = []
    for point in points:
        # Lazy (MNT_DETACH): a mount still held by a dying process goes away
        # once it is released, instead of failing with EBUSY.
        if libc.umount2(point.encode(), _MNT_DETACH) != 0:
            errno = ctypes.get_errno()
            if errno not in (22, 2):  # EINVAL: not a mount any more; ENOENT: gone
                problems.append(f"umount {point}: {os.strerror(errno)}")
    return problems


# -- links -------------------------------------------------------------------


def links_to_remove(before: list[str], now: list[str], bridge: str) -> list[str]:
    return sorted(
        link for link in set(now) - set(before) if link == bridge or link.startswith("veth")
    )


def delete_links(ip: Path, before: list[str], bridge: str) -> list[str]:
    # A pod's veth disappears with its network namespace once that is
    # unmounted and its processes are gone; give the kernel a moment first.
    deadline = time.monotonic() + LINK_TIMEOUT
    while time.monotonic() < deadline:
        leftover = links_to_remove(before, hoststate.read_links(), bridge)
        if leftover in ([], [bridge]):
            break
        time.sleep(0.1)
    problems = []
    for link in links_to_remove(before, hoststate.read_links(), bridge):
        result = subprocess.run(
            [str(ip), "link", "delete", link], capture_output=True, text=True, check=False
        )
        if result.returncode != 0 and link in hoststate.read_links():
            problems.append(f"ip link delete {link}: {result.stderr.strip()}")
    return problems


# -- iptables and nftables ----------------------------------------------------


def _chain_of(rule: str) -> str:
    return shlex.split(rule)[1]


def _target_of(rule: str) -> str | None:
    parts = shlex.split(rule)
    for flag in ("-j", "-g"):
        if flag in parts and parts.index(flag) + 1 < len(parts):
            return parts[parts.index(flag) + 1]
    return None


def iptables_cleanup(before: list[str], now: list[str]) -> str:
    """An iptables-restore --noflush script removing the node's rules and chains.

    Rules the node added to chains that stay (INPUT, POSTROUTING, ...) are
    deleted one by one; chains it created are flushed, then deleted (a chain
    still referenced cannot be deleted, hence the order).
    """
    existing: dict[str, set[str]] = {}
    table = None
    for line in before:
        if line.startswith("*"):
            table = line[1:]
            existing.setdefault(table, set())
        elif line.startswith(":") and table:
            existing[table].add(line[1:].split()[0])
    new_rules = set(hoststate.multiset_minus(now, before))
    script: list[str] = []
    table = None
    deletes: list[str] = []
    chains: list[str] = []

    def close() -> None:
        if table and (deletes or chains):
            script.append(f"*{table}")
            script.extend(deletes)
            script.extend(f"-F {c}" for c in chains)
            script.extend(f"-X {c}" for c in chains)
            script.append("COMMIT")

    for line in now:
        if line.startswith("*"):
            close()
            table, deletes, chains = line[1:], [], []
        elif line.startswith(":") and table:
            chain = line[1:].split()[0]
            if chain.startswith(OWN_CHAIN_PREFIXES) and chain not in existing.get(table, set()):
                chains.append(chain)
        elif line.startswith("-A ") and table and line in new_rules:
            chain, target = _chain_of(line), _target_of(line)
            if chain in chains:
                continue  # flushed with its chain
            if chain.startswith(OWN_CHAIN_PREFIXES) or (target or "").startswith(
                OWN_CHAIN_PREFIXES
            ):
                deletes.append("-D " + line[3:])
    close()
    return "\n".join(script) + ("\n" if script else "")


def restore_iptables(before: HostState, tools: dict[str, Path]) -> list[str]:
    problems = []
    now = hoststate.read_iptables(tools)
    for family, restore in (("ipv4", "iptables-restore"), ("ipv6", "ip6tables-restore")):
        script = iptables_cleanup(before.iptables.get(family, []), now.get(family, []))
        if not script:
            continue
        binary = shutil.which(restore, path="/usr/sbin:/sbin:/usr/bin")
        if binary is None:
            problems.append(f"{restore} not found; left {family} rules in place")
            continue
        result = subprocess.run(
            [binary, "--noflush"], input=script, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            problems.append(f"{restore} --noflush failed: {result.stderr.strip()}")
    return problems


def delete_nft_tables(before: HostState, tools: dict[str, Path]) -> list[str]:
    if "nft" not in tools:
        return []
    problems = []
    for table in sorted(set(hoststate.read_nft_tables(tools)) - set(before.nft_tables)):
        family, _, name = table.partition(" ")
        result = subprocess.run(
            [str(tools["nft"]), "delete", "table", family, name],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            problems.append(f"nft delete table {table}: {result.stderr.strip()}")
    return problems


def flush_conntrack(tools: dict[str, Path], pod_cidr: str, service_cidr: str) -> list[str]:
    """Forget the connections of the node's pods and Services.

    The kernel keeps tracking them after the node is gone (UDP for up to two
    minutes), with NAT decisions that point at pods that no longer exist; a
    node started soon after would reuse the same pod addresses and ClusterIPs.
    """
    if "conntrack" not in tools:
        return ["conntrack not found; connection tracking entries of the pods left in place"]
    problems = []
    # (conntrack 1.4 takes CIDRs for the original direction only.)
    for flag, cidr in (("-s", pod_cidr), ("-d", pod_cidr), ("-d", service_cidr)):
        result = subprocess.run(
            [str(tools["conntrack"]), "-D", flag, cidr], capture_output=True, text=True, check=False
        )
        # Exit 1 with "0 flow entries have been deleted" is the common case.
        if result.returncode not in (0, 1):
            problems.append(f"conntrack -D {flag} {cidr}: {result.stderr.strip()}")
    return problems


# -- cgroups, directories, sysctls --------------------------------------------


def remove_cgroups(before: HostState, root: Path = Path("/sys/fs/cgroup")) -> list[str]:
    problems = []
    now = hoststate.read_cgroups(root)
    for hierarchy, names in now.items():
        base = root if hierarchy == "." else root / hierarchy
        for name in set(names) - set(before.cgroups.get(hierarchy, [])):
            if name not in OWN_CGROUPS:
                continue
            # cgroup directories are removed with rmdir, children first.
            for dirpath, _dirs, _files in sorted(
                os.walk(base / name), key=lambda w: -w[0].count("/")
            ):
                try:
                    os.rmdir(dirpath)
                except OSError as exc:
                    problems.append(f"rmdir {dirpath}: {exc.strerror}")
                    break
    return problems


def remove_paths(before: HostState) -> list[str]:
    problems = []
    for path, existed in before.paths.items():
        if existed or not os.path.lexists(path):
            continue
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)
        except OSError as exc:
            problems.append(f"remove {path}: {exc}")
    return problems


def restore_sysctls(before: HostState, root: Path = Path("/proc/sys")) -> list[str]:
    now = HostState(sysctls=hoststate.read_sysctls(root), links=hoststate.read_links())
    reference = HostState(sysctls=before.sysctls, links=before.links)
    problems = []
    for key, (old, _new) in sorted(hoststate.changed_sysctls(reference, now).items()):
        try:
            (root / key).write_text(old + "\n")
        except OSError as exc:
            problems.append(f"sysctl {key}={old!r}: {exc.strerror}")
    return problems


# -- all of it ------------------------------------------------------------------


def restore_host(before: HostState, layout: Layout, tools: dict[str, Path]) -> list[str]:
    """Undo everything the node of `layout` changed since `before`, in an order
    where each step frees what the next needs: processes hold mounts, mounts
    hold network namespaces, namespaces hold veths, cgroups empty last."""
    prefixes = (str(layout.root), *hoststate.HOST_PATHS)
    problems = kill_all(hoststate.cgroup_pids)
    problems += kill_all(lambda: shim_pids(layout.containerd_socket))
    problems += unmount(mounts_to_remove(before.mounts, hoststate.read_mounts(), prefixes))
    if "ip" in tools:
        problems += delete_links(tools["ip"], before.links, BRIDGE)
    problems += restore_iptables(before, tools)
    problems += delete_nft_tables(before, tools)
    problems += flush_conntrack(tools, POD_CIDR, SERVICE_CIDR)
    problems += remove_cgroups(before)
    problems += remove_paths(before)
    problems += restore_sysctls(before)
    return problems
