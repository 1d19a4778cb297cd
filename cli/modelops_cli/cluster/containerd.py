"""containerd for the node: its configuration and the `ctr` calls made on it.

Debian's containerd 1.6 runs with a private configuration, root, state and
socket, so it never touches a containerd the machine may already run. The
options that matter here (measured, not guessed):

* `restrict_oom_score_adj`: root on these machines lacks CAP_SYS_RESOURCE,
  so runc cannot lower a container's oom_score_adj and every container start
  fails ("can't get final child's PID from pipe: EOF") unless containerd
  only ever raises it.
* `netns_mounts_under_state_dir`: pod network namespaces are mounted under
  the private state directory instead of /var/run/netns, so `down` finds and
  unmounts exactly the node's own.
* `sandbox_image`: the locally written pause image; nothing is ever pulled.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from .layout import Layout

CRI = 'plugins."io.containerd.grpc.v1.cri"'
# The namespace the CRI plugin keeps Kubernetes' images and containers in.
K8S_NAMESPACE = "k8s.io"
SNAPSHOTTER = "overlayfs"
CTR_TIMEOUT = 300.0


def _q(value: str | Path) -> str:
    # TOML basic strings accept JSON's escapes for everything a path holds.
    return json.dumps(str(value))


def render_config(
    layout: Layout,
    *,
    pause_ref: str,
    cni_bin_dir: Path,
    runc: Path,
) -> str:
    """containerd's config.toml (version 2, the format of containerd 1.6)."""
    lines = [
        "version = 2",
        f"root = {_q(layout.containerd_root)}",
        f"state = {_q(layout.containerd_state)}",
        # Snapshotters the kernel cannot serve here only log errors at start.
        'disabled_plugins = ["io.containerd.snapshotter.v1.aufs", '
        '"io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", '
        '"io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", '
        '"io.containerd.internal.v1.tracing"]',
        "",
        "[grpc]",
        f"  address = {_q(layout.containerd_socket)}",
        "",
        "[debug]",
        '  level = "info"',
        "",
        '[plugins."io.containerd.internal.v1.opt"]',
        f"  path = {_q(layout.containerd / 'opt')}",
        "",
        f"[{CRI}]",
        f"  sandbox_image = {_q(pause_ref)}",
        "  restrict_oom_score_adj = true",
        "  netns_mounts_under_state_dir = true",
        # The streaming server behind `kubectl exec/logs -f` is reached by the
        # kubelet only; it stays on loopback.
        '  stream_server_address = "127.0.0.1"',
        '  stream_server_port = "0"',
        "  enable_selinux = false",
        "",
        f"[{CRI}.containerd]",
        f'  snapshotter = "{SNAPSHOTTER}"',
        '  default_runtime_name = "runc"',
        "",
        f"[{CRI}.containerd.runtimes.runc]",
        '  runtime_type = "io.containerd.runc.v2"',
        "",
        f"[{CRI}.containerd.runtimes.runc.options]",
        f"  BinaryName = {_q(runc)}",
        f"  Root = {_q(layout.runc_root)}",
        # The kubelet runs with the cgroupfs driver: no systemd here.
        "  SystemdCgroup = false",
        "",
        f"[{CRI}.cni]",
        f"  bin_dir = {_q(cni_bin_dir)}",
        f"  conf_dir = {_q(layout.cni_conf_dir)}",
        "  max_conf_num = 1",
        "",
    ]
    return "\n".join(lines)


def containerd_args(binary: Path, layout: Layout) -> list[str]:
    return [str(binary), f"--config={layout.containerd_config}"]


def ctr_args(ctr: Path, layout: Layout, *args: str) -> list[str]:
    """`ctr` against the node's containerd, in the Kubernetes namespace."""
    return [
        str(ctr),
        f"--address={layout.containerd_socket}",
        f"--namespace={K8S_NAMESPACE}",
        *args,
    ]


def import_args(ctr: Path, layout: Layout, archive: Path) -> list[str]:
    # As `kind load image-archive` does: every platform in the archive,
    # unpacked for the CRI's snapshotter so the kubelet starts it without a
    # pull. (No --digests: every archive here carries its tags, and digest
    # names would only clutter `ctr images ls`.)
    return ctr_args(
        ctr,
        layout,
        "images",
        "import",
        "--all-platforms",
        f"--snapshotter={SNAPSHOTTER}",
        str(archive),
    )


def run_ctr(argv: list[str], timeout: float = CTR_TIMEOUT) -> str:
    """Run one ctr command and return its output; raise with its error text."""
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv[3:])} failed (exit {result.returncode}): "
            f"{(result.stderr or result.stdout).strip()}"
        )
    return result.stdout


def container_filter(namespace: str | None = None, kind: str | None = None) -> list[str]:
    """ctr's filter argument for the containers of one Kubernetes namespace
    and/or of one CRI kind ("sandbox" or "container")."""
    conditions = []
    if namespace:
        conditions.append(f'labels."io.kubernetes.pod.namespace"=={namespace}')
    if kind:
        conditions.append(f'labels."io.cri-containerd.kind"=={kind}')
    # ctr ORs separate filter arguments; commas AND conditions within one.
    return [",".join(conditions)] if conditions else []


def remove_all_containers(ctr: Path, layout: Layout) -> list[str]:
    """Kill every container through containerd (so their shims exit cleanly)
    and delete them, so a restarted containerd recovers nothing stale.
    Returns problems instead of raising: tear-down goes on regardless."""
    try:
        ids = parse_quiet_list(run_ctr(ctr_args(ctr, layout, "containers", "ls", "-q"), 30))
        if ids:
            subprocess.run(
                ctr_args(ctr, layout, "tasks", "rm", "-f", *ids),
                capture_output=True,
                timeout=60,
                check=False,
            )
            run_ctr(ctr_args(ctr, layout, "containers", "rm", *ids), 60)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        return [f"removing containers through containerd: {exc}"]
    return []


def parse_quiet_list(output: str) -> list[str]:
    """IDs from `ctr ... ls -q` output (one per line)."""
    return [line.strip() for line in output.splitlines() if line.strip()]


def parse_running_tasks(output: str) -> list[str]:
    """Container IDs of RUNNING tasks in `ctr tasks ls` output (TASK PID STATUS)."""
    running = []
    for line in output.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 3 and fields[2] == "RUNNING":
            running.append(fields[0])
    return running
