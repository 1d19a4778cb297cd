"""A local Kubernetes cluster with one real node: `Cluster`.

`up` records the host's state, starts the control plane (etcd, apiserver on
the node's address, controller-manager, scheduler), then containerd, the
kubelet and kube-proxy as local processes, imports the node's images and
deploys CoreDNS. `down` stops all of it, including the pods' containers and
their shims, and restores what the node changed on the host (teardown.py).
One node per machine (lock.py).

    with Cluster(state_dir) as cluster:
        cluster.import_images([archive])
        subprocess.run(["kubectl", ...], env=cluster.env())
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from modelops_cli.controlplane import ControlPlane, processes
from modelops_cli.controlplane.processes import Proc

from . import (
    api,
    archive,
    containerd,
    coredns,
    hoststate,
    kubelet,
    kubeproxy,
    lock,
    netinfo,
    nodefiles,
    preflight,
    teardown,
)
from .assets import NodeAssets, find_tools, read_node_env
from .layout import KUBELET_HEALTHZ_PORT, PROXY_HEALTHZ_PORT, Layout, default_state_dir

DEFAULT_STARTUP_TIMEOUT = 180.0
POLL_SECONDS = 0.2
_SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Kept between runs: logs (they explain a crash after the fact) and the
# containerd image store (imported images survive `down`).
_STALE = ("pki", "kubelet", "kube-proxy", "cni", "containerd/state", "containerd/runc")


class StartupError(RuntimeError):
    """The node did not come up; the message carries the logs' last lines."""


class Cluster:
    """Start, stop and describe the machine's local cluster with a real node."""

    def __init__(
        self,
        state_dir: str | Path | None = None,
        *,
        node_ip: str | None = None,
        tie_to_parent: bool = False,
        startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
    ) -> None:
        self.layout = Layout(Path(state_dir) if state_dir else default_state_dir())
        self._requested_ip = node_ip
        self.tie_to_parent = tie_to_parent
        self.startup_timeout = startup_timeout
        self.node_name: str | None = None
        self.node_ip: str | None = None
        self.plane: ControlPlane | None = None
        self.procs: list[Proc] = []
        self.assets: NodeAssets | None = None
        self.timings: dict[str, float] = {}
        self._attached_tools: dict[str, Path] = {}
        # Things `up` did besides starting the node, for the user to read.
        self.notes: list[str] = []

    # -- what clients use -------------------------------------------------

    @property
    def state_dir(self) -> Path:
        return self.layout.root

    @property
    def kubeconfig(self) -> Path:
        return self.layout.kubeconfig

    @property
    def server(self) -> str | None:
        return self.plane.server if self.plane else None

    @property
    def kubectl(self) -> Path:
        """kubectl of the cluster's own version, built by `make node`."""
        node_env = self.assets.node_env if self.assets else read_node_env() or {}
        if "KUBECTL" not in node_env:
            raise RuntimeError("no kubectl recorded in node.env; run `make node`")
        return Path(node_env["KUBECTL"])

    def env(self) -> dict[str, str]:
        """An environment for subprocesses (kubectl, the operator) with
        KUBECONFIG set, the node's address exempt from any proxy and the
        cluster's own kubectl first on PATH."""
        if self.plane is None:
            raise RuntimeError("the cluster is not running")
        env = self.plane.env()
        env["PATH"] = os.pathsep.join([str(self.kubectl.parent), env.get("PATH", "")])
        return env

    def import_images(self, paths: list[str | Path]) -> list[str]:
        """Import docker-archive or OCI tarballs into the node's containerd
        (namespace k8s.io, the CRI's snapshotter) and return their references.

        Pods use them with `imagePullPolicy: Never` (or IfNotPresent): no
        registry is involved.
        """
        ctr = self._tool("ctr")
        # Every archive is read before any is imported: a bad path in the
        # list fails the call before it has changed anything.
        found = {Path(path): archive.archive_refs(path) for path in paths}
        for path, refs in found.items():
            if not refs:
                raise archive.ArchiveError(f"{path}: the archive names no image reference")
        for path in found:
            containerd.run_ctr(containerd.import_args(ctr, self.layout, path))
        return [ref for refs in found.values() for ref in refs]

    def images(self) -> list[str]:
        """References of the images the node's containerd holds."""
        out = containerd.run_ctr(
            containerd.ctr_args(self._tool("ctr"), self.layout, "images", "ls", "-q")
        )
        # The CRI also names each image by its config digest; those are not
        # references anyone loaded.
        return [r for r in containerd.parse_quiet_list(out) if not r.startswith("sha256:")]

    def containers(self, namespace: str | None = None, kind: str | None = None) -> list[str]:
        """IDs of the containers containerd holds for pods, optionally only those
        of one Kubernetes namespace and of one kind: "sandbox" (a pod's pause
        container) or "container" (what the pod spec lists)."""
        args = ["containers", "ls", "-q", *containerd.container_filter(namespace, kind)]
        out = containerd.run_ctr(containerd.ctr_args(self._tool("ctr"), self.layout, *args))
        return containerd.parse_quiet_list(out)

    def running_tasks(self) -> list[str]:
        """IDs of containers whose process runs (containerd's tasks)."""
        out = containerd.run_ctr(containerd.ctr_args(self._tool("ctr"), self.layout, "tasks", "ls"))
        return containerd.parse_running_tasks(out)

    def node_ready(self) -> bool:
        try:
            node = self._api().get(f"/api/v1/nodes/{self.node_name}")
        except (api.ApiError, OSError, urllib.error.URLError):
            return False
        conditions = node.get("status", {}).get("conditions") or []
        return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)

    def status(self) -> dict[str, bool]:
        """Each process by name -> running."""
        alive = dict(self.plane.status()) if self.plane else {}
        alive.update({p.name: processes.is_alive(p) for p in self.procs})
        return alive

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> Cluster:
        """Bring the cluster up and return once the node is Ready and DNS runs.

        Anything that fails, Ctrl-C included, stops what was started and
        restores the host before the exception propagates.
        """
        started = time.monotonic()
        self.node_ip = (
            netinfo.check_node_ip(self._requested_ip) if self._requested_ip else netinfo.node_ip()
        )
        self.node_name = netinfo.node_name()
        taken = lock.busy(_node_alive)
        if taken is not None:
            raise taken
        self.assets = preflight.check(self.node_ip)
        lock.acquire(self.layout.root, _node_alive, self._clean_stale)
        if self.layout.host_before.is_file():
            # A node of this state dir stopped without restoring everything;
            # its record of the host must be used before it is replaced.
            self._clean_stale(self.layout.root)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        self.timings["total"] = time.monotonic() - started
        return self

    def stop(self) -> list[str]:
        """Stop everything and restore the host; return what could not be undone.

        While something could not be undone the machine's lock stays: the next
        `up` (whatever its state dir) then retries restoring this one first.
        """
        with _no_interrupts():
            problems = self._teardown()
            if not problems:
                lock.release(self.layout.root)
        return problems

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @classmethod
    def attach(cls, state_dir: str | Path | None = None) -> Cluster | None:
        """A handle on the cluster recorded in `state_dir` (for down/status/env)."""
        cluster = cls(state_dir)
        if not cluster.layout.state_file.is_file():
            return None
        state = json.loads(cluster.layout.state_file.read_text())
        cluster.node_name = state.get("node_name")
        cluster.node_ip = state.get("node_ip")
        cluster.procs = [Proc.from_json(p) for p in state.get("processes", [])]
        cluster.plane = ControlPlane.attach(cluster.layout.controlplane)
        tools = state.get("tools") or {}
        cluster._attached_tools = {k: Path(v) for k, v in tools.items()}
        return cluster

    # -- start-up ---------------------------------------------------------------

    def _clean_stale(self, state_dir: Path) -> None:
        problems = _clean_stale(state_dir)
        if problems:
            raise lock.NodeBusyError(
                f"a node from {state_dir} died without `down`, and cleaning up after it "
                "failed:\n" + "\n".join(f"  - {p}" for p in problems)
            )
        self.notes.append(
            f"cleaned up after a node that died without `down` (state dir {state_dir})"
        )

    def _start(self) -> None:
        assets = self.assets
        layout = self.layout
        self._prepare_dir()
        before = hoststate.snapshot(assets.tools)
        layout.host_before.write_text(before.to_json())
        self._save_state()
        nodefiles.set_sysctls()
        nodefiles.protect_kubelet(assets.tool("iptables"))

        nodefiles.write_containerd_files(layout, assets)
        cd = self._spawn(
            "containerd", containerd.containerd_args(assets.tool("containerd"), layout)
        )
        phase = time.monotonic()
        self.plane = ControlPlane(
            layout.controlplane,
            with_controllers=True,
            assets=assets.plane,
            tie_to_parent=self.tie_to_parent,
            startup_timeout=self.startup_timeout,
            node_address=self.node_ip,
        )
        self.plane.start()
        self._save_state()
        self.timings["control plane"] = time.monotonic() - phase
        deadline = time.monotonic() + self.startup_timeout

        phase = time.monotonic()
        self._wait(cd, self._containerd_ready, deadline, "containerd answering on its socket")
        self.import_images([assets.path("PAUSE_IMAGE"), assets.path("COREDNS_IMAGE")])
        self.timings["containerd + node images"] = time.monotonic() - phase

        phase = time.monotonic()
        nodefiles.write_node_files(
            layout, self.plane, node_name=self.node_name, node_ip=self.node_ip
        )
        kl = self._spawn(
            "kubelet",
            kubelet.kubelet_args(
                assets.path("KUBELET"),
                layout,
                config=layout.kubelet / "config.yaml",
                kubeconfig=layout.kubelet / "kubeconfig",
                node_name=self.node_name,
                node_ip=self.node_ip,
            ),
        )
        healthz = f"http://127.0.0.1:{KUBELET_HEALTHZ_PORT}/healthz"
        self._wait(kl, lambda: _http_ok(healthz), deadline, f"kubelet healthz at {healthz}")
        self._wait(kl, self.node_ready, deadline, f"Node {self.node_name} Ready")
        self.timings["kubelet to node Ready"] = time.monotonic() - phase

        phase = time.monotonic()
        kp = self._spawn(
            "kube-proxy",
            kubeproxy.kube_proxy_args(assets.path("KUBE_PROXY"), layout.kube_proxy / "config.yaml"),
        )
        proxy_healthz = f"http://127.0.0.1:{PROXY_HEALTHZ_PORT}/healthz"
        self._wait(kp, lambda: _http_ok(proxy_healthz), deadline, "kube-proxy healthz")
        self.timings["kube-proxy"] = time.monotonic() - phase

        phase = time.monotonic()
        for obj in coredns.manifests(
            image=assets.node_env["COREDNS_REF"], corefile=coredns.render_corefile()
        ):
            self._api().create(obj)
        self._wait(kl, self._dns_available, deadline, "CoreDNS Deployment available")
        self.timings["cluster DNS"] = time.monotonic() - phase

    def _prepare_dir(self) -> None:
        root = self.layout.root
        root.mkdir(parents=True, exist_ok=True)
        root.chmod(0o700)
        for name in _STALE:
            path = root / name
            if path.is_dir():
                shutil.rmtree(path)
        for path in (self.layout.state_file, self.layout.host_before):
            path.unlink(missing_ok=True)
        self.layout.logs.mkdir(exist_ok=True)

    def _spawn(self, name: str, argv: list[str]) -> Proc:
        # containerd finds its shim, and the kubelet and kube-proxy find
        # iptables, mount and friends, on PATH; a non-login root shell (or a
        # test runner) may lack the sbin directories.
        path = os.pathsep.join([os.environ.get("PATH", ""), _SYSTEM_PATH]).strip(os.pathsep)
        proc = processes.spawn(
            name,
            argv,
            self.layout.log(name),
            tie_to_parent=self.tie_to_parent,
            env={**os.environ, "PATH": path},
        )
        self.procs.append(proc)
        self._save_state()
        return proc

    def _containerd_ready(self) -> bool:
        result = subprocess.run(
            containerd.ctr_args(self._tool("ctr"), self.layout, "version"),
            capture_output=True,
            check=False,
            timeout=10,
        )
        return result.returncode == 0

    def _dns_available(self) -> bool:
        deployment = self._api().get(
            f"/apis/apps/v1/namespaces/{coredns.NAMESPACE}/deployments/{coredns.NAME}"
        )
        return (deployment.get("status", {}).get("availableReplicas") or 0) >= 1

    def _wait(self, proc: Proc, check, deadline: float, what: str) -> None:
        last = "not checked yet"
        while time.monotonic() < deadline:
            if not processes.is_alive(proc):
                raise StartupError(self._failure(f"{proc.name} exited while waiting for {what}"))
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
            self._failure(f"no {what} within {self.startup_timeout:.0f} s (last error: {last})")
        )

    def _failure(self, headline: str) -> str:
        parts = [f"cluster start-up failed: {headline}"]
        for proc in self.procs:
            parts.append(f"--- last lines of {proc.log} ---\n{processes.tail(proc.log, 25)}")
        return "\n".join(parts)

    def _save_state(self) -> None:
        state = {
            "node_name": self.node_name,
            "node_ip": self.node_ip,
            "processes": [p.to_json() for p in self.procs],
            "tools": {k: str(v) for k, v in (self.assets.tools if self.assets else {}).items()},
        }
        tmp = self.layout.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self.layout.state_file)

    # -- tear-down ---------------------------------------------------------------

    def _teardown(self) -> list[str]:
        problems: list[str] = []
        by_name = {p.name: p for p in self.procs}
        phase = time.monotonic()
        # The kubelet first, so it restarts nothing that is being removed.
        for name in ("kube-proxy", "kubelet"):
            if name in by_name:
                processes.stop(by_name[name])
        if "containerd" in by_name and processes.is_alive(by_name["containerd"]):
            problems += containerd.remove_all_containers(self._tool("ctr"), self.layout)
        self._down_timing("down: node processes and containers", phase)
        phase = time.monotonic()
        if self.plane is not None:
            self.plane.stop()
        if "containerd" in by_name:
            processes.stop(by_name["containerd"])
        self._down_timing("down: control plane and containerd", phase)
        phase = time.monotonic()
        if self.layout.host_before.is_file():
            before = hoststate.HostState.from_json(self.layout.host_before.read_text())
            host_problems = teardown.restore_host(before, self.layout, self._tools())
            if not host_problems:
                self.layout.host_before.unlink()
            problems += host_problems
        self._down_timing("down: host restored", phase)
        self.procs = []
        self.layout.state_file.unlink(missing_ok=True)
        return problems

    def _down_timing(self, step: str, since: float) -> None:
        self.timings[step] = time.monotonic() - since

    # -- helpers -----------------------------------------------------------------

    def _tools(self) -> dict[str, Path]:
        if self.assets is not None:
            return self.assets.tools
        if self._attached_tools:
            return self._attached_tools
        return {name: path for name, path in find_tools().items() if path is not None}

    def _tool(self, name: str) -> Path:
        tools = self._tools()
        if name not in tools:
            raise RuntimeError(f"{name} not found; run `make node`")
        return tools[name]

    def _api(self) -> api.Api:
        plane_pki = self.plane.layout.pki
        return api.Api(
            self.plane.server, plane_pki.ca_cert, plane_pki.admin_cert, plane_pki.admin_key
        )


def _http_ok(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=3) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _node_alive(state_dir: Path) -> bool:
    cluster = Cluster.attach(state_dir)
    return cluster is not None and any(cluster.status().values())


def _clean_stale(state_dir: Path) -> list[str]:
    """Undo what a node that died without `down` left behind (called under the
    lock, which the new node takes over, so it is not released here)."""
    cluster = Cluster.attach(state_dir) or Cluster(state_dir)
    return cluster._teardown()


@contextlib.contextmanager
def _no_interrupts():
    """Tear-down runs to the end: a second Ctrl-C would leave the host half restored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
