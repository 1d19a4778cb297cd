"""Bringing a `Cluster`'s node up, step by step, and waiting on each step.

`boot` runs the start-up sequence `Cluster.start` hands it once the machine
is locked: containerd, the control plane, the node's images, the kubelet to
node Ready, kube-proxy, then CoreDNS; each phase's time goes to
`cluster.timings`. A step that does not come up raises `StartupError`
carrying the last lines of every process's log.
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import TYPE_CHECKING

from modelops_cli.controlplane import ControlPlane, processes
from modelops_cli.controlplane.processes import Proc
from modelops_cli.controlplane.runner import prepare_state_dir

from . import api, containerd, coredns, hoststate, kubelet, kubeproxy, nodefiles
from .layout import KUBELET_HEALTHZ_PORT, PROXY_HEALTHZ_PORT, Layout

if TYPE_CHECKING:
    from .runner import Cluster

POLL_SECONDS = 0.2
_SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Kept between runs: logs (they explain a crash after the fact) and the
# containerd image store (imported images survive `down`).
_STALE = ("pki", "kubelet", "kube-proxy", "cni", "containerd/state", "containerd/runc")


class StartupError(RuntimeError):
    """The node did not come up; the message carries the logs' last lines."""


def boot(cluster: Cluster) -> None:
    """Start every process of the node and return once DNS runs."""
    assets = cluster.assets
    layout = cluster.layout
    prepare_dir(layout)
    before = hoststate.snapshot(assets.tools)
    layout.host_before.write_text(before.to_json())
    cluster.save_state()
    nodefiles.set_sysctls()
    nodefiles.protect_kubelet(assets.tool("iptables"))

    nodefiles.write_containerd_files(layout, assets)
    cd = spawn(cluster, "containerd", containerd.containerd_args(assets.tool("containerd"), layout))
    phase = time.monotonic()
    cluster.plane = ControlPlane(
        layout.controlplane,
        with_controllers=True,
        assets=assets.plane,
        tie_to_parent=cluster.tie_to_parent,
        startup_timeout=cluster.startup_timeout,
        node_address=cluster.node_ip,
    )
    cluster.plane.start()
    cluster.save_state()
    cluster.timings["control plane"] = time.monotonic() - phase
    deadline = time.monotonic() + cluster.startup_timeout

    phase = time.monotonic()
    wait(
        cluster,
        cd,
        lambda: containerd_ready(cluster),
        deadline,
        "containerd answering on its socket",
    )
    cluster.import_images([assets.path("PAUSE_IMAGE"), assets.path("COREDNS_IMAGE")])
    cluster.timings["containerd + node images"] = time.monotonic() - phase

    phase = time.monotonic()
    nodefiles.write_node_files(
        layout, cluster.plane, node_name=cluster.node_name, node_ip=cluster.node_ip
    )
    kl = spawn(
        cluster,
        "kubelet",
        kubelet.kubelet_args(
            assets.path("KUBELET"),
            layout,
            config=layout.kubelet / "config.yaml",
            kubeconfig=layout.kubelet / "kubeconfig",
            node_name=cluster.node_name,
            node_ip=cluster.node_ip,
        ),
    )
    healthz = f"http://127.0.0.1:{KUBELET_HEALTHZ_PORT}/healthz"
    wait(cluster, kl, lambda: http_ok(healthz), deadline, f"kubelet healthz at {healthz}")
    wait(cluster, kl, cluster.node_ready, deadline, f"Node {cluster.node_name} Ready")
    cluster.timings["kubelet to node Ready"] = time.monotonic() - phase

    phase = time.monotonic()
    kp = spawn(
        cluster,
        "kube-proxy",
        kubeproxy.kube_proxy_args(assets.path("KUBE_PROXY"), layout.kube_proxy / "config.yaml"),
    )
    proxy_healthz = f"http://127.0.0.1:{PROXY_HEALTHZ_PORT}/healthz"
    wait(cluster, kp, lambda: http_ok(proxy_healthz), deadline, "kube-proxy healthz")
    cluster.timings["kube-proxy"] = time.monotonic() - phase

    phase = time.monotonic()
    for obj in coredns.manifests(
        image=assets.node_env["COREDNS_REF"], corefile=coredns.render_corefile()
    ):
        cluster.api_client().create(obj)
    wait(cluster, kl, lambda: dns_available(cluster), deadline, "CoreDNS Deployment available")
    cluster.timings["cluster DNS"] = time.monotonic() - phase


def prepare_dir(layout: Layout) -> None:
    """Make the state dir, dropping what a previous run left that must not be reused."""
    stale = [layout.root / name for name in _STALE]
    prepare_state_dir(layout.root, [*stale, layout.state_file, layout.host_before], layout.logs)


def spawn(cluster: Cluster, name: str, argv: list[str]) -> Proc:
    """Start one of the node's processes and record it in the cluster's state."""
    # containerd finds its shim, and the kubelet and kube-proxy find
    # iptables, mount and friends, on PATH; a non-login root shell (or a
    # test runner) may lack the sbin directories.
    path = os.pathsep.join([os.environ.get("PATH", ""), _SYSTEM_PATH]).strip(os.pathsep)
    proc = processes.spawn(
        name,
        argv,
        cluster.layout.log(name),
        tie_to_parent=cluster.tie_to_parent,
        env={**os.environ, "PATH": path},
    )
    cluster.procs.append(proc)
    cluster.save_state()
    return proc


def containerd_ready(cluster: Cluster) -> bool:
    result = subprocess.run(
        containerd.ctr_args(cluster.tool("ctr"), cluster.layout, "version"),
        capture_output=True,
        check=False,
        timeout=10,
    )
    return result.returncode == 0


def dns_available(cluster: Cluster) -> bool:
    deployment = cluster.api_client().get(
        f"/apis/apps/v1/namespaces/{coredns.NAMESPACE}/deployments/{coredns.NAME}"
    )
    return (deployment.get("status", {}).get("availableReplicas") or 0) >= 1


def wait(
    cluster: Cluster, proc: Proc, check: Callable[[], bool], deadline: float, what: str
) -> None:
    """Poll `check` until it holds; StartupError when `proc` dies or the deadline passes."""
    last = "not checked yet"
    while time.monotonic() < deadline:
        if not processes.is_alive(proc):
            raise StartupError(failure(cluster, f"{proc.name} exited while waiting for {what}"))
        try:
            if check():
                return
        except (
            api.ApiError,
            OSError,
            urllib.error.URLError,
            subprocess.SubprocessError,
        ) as exc:
            last = str(exc)
        time.sleep(POLL_SECONDS)
    raise StartupError(
        failure(cluster, f"no {what} within {cluster.startup_timeout:.0f} s (last error: {last})")
    )


def failure(cluster: Cluster, headline: str) -> str:
    """The start-up error's message: the headline, then each process's last log lines."""
    parts = [f"cluster start-up failed: {headline}"]
    for proc in cluster.procs:
        parts.append(f"--- last lines of {proc.log} ---\n{processes.tail(proc.log, 25)}")
    return "\n".join(parts)


def http_ok(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=3) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False
