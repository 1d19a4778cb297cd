"""A local Kubernetes cluster with one real node: `Cluster`.

`up` records the host's state, starts the control plane (etcd, apiserver on
the node's address, controller-manager, scheduler), then containerd, the
kubelet and kube-proxy as local processes, imports the node's images and
deploys CoreDNS (the sequence is boot.py). `down` stops all of it, including
the pods' containers and their shims, and restores what the node changed on
the host (down.py, teardown.py). One node per machine (lock.py). This module
holds the handle itself: what clients use, the lock around start and stop,
and the state file `attach` reads.

    with Cluster(state_dir) as cluster:
        cluster.import_images([archive])
        subprocess.run(["kubectl", ...], env=cluster.env())
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
from pathlib import Path

from modelops_cli.controlplane import ControlPlane, processes
from modelops_cli.controlplane.processes import Proc

from . import api, archive, containerd, down, lock, netinfo, preflight
from .assets import NodeAssets, find_tools, read_node_env
from .boot import boot
from .layout import Layout, default_state_dir

DEFAULT_STARTUP_TIMEOUT = 180.0


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
        ctr = self.tool("ctr")
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
            containerd.ctr_args(self.tool("ctr"), self.layout, "images", "ls", "-q")
        )
        # The CRI also names each image by its config digest; those are not
        # references anyone loaded.
        return [r for r in containerd.parse_quiet_list(out) if not r.startswith("sha256:")]

    def containers(self, namespace: str | None = None, kind: str | None = None) -> list[str]:
        """IDs of the containers containerd holds for pods, optionally only those
        of one Kubernetes namespace and of one kind: "sandbox" (a pod's pause
        container) or "container" (what the pod spec lists)."""
        args = ["containers", "ls", "-q", *containerd.container_filter(namespace, kind)]
        out = containerd.run_ctr(containerd.ctr_args(self.tool("ctr"), self.layout, *args))
        return containerd.parse_quiet_list(out)

    def running_tasks(self) -> list[str]:
        """IDs of containers whose process runs (containerd's tasks)."""
        out = containerd.run_ctr(containerd.ctr_args(self.tool("ctr"), self.layout, "tasks", "ls"))
        return containerd.parse_running_tasks(out)

    def node_ready(self) -> bool:
        try:
            node = self.api_client().get(f"/api/v1/nodes/{self.node_name}")
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
        self.assets = preflight.check(self.node_ip, self.layout)
        lock.acquire(self.layout.root, _node_alive, self._clean_stale)
        if self.layout.host_before.is_file():
            # A node of this state dir stopped without restoring everything;
            # its record of the host must be used before it is replaced.
            self._clean_stale(self.layout.root)
        try:
            boot(self)
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
        with down.no_interrupts():
            problems = down.teardown(self)
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

    # -- a node that died without `down` ----------------------------------------------

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

    # -- state and clients -----------------------------------------------------------------

    def save_state(self) -> None:
        """Record the node (name, address, processes, tools) for `attach`."""
        state = {
            "node_name": self.node_name,
            "node_ip": self.node_ip,
            "processes": [p.to_json() for p in self.procs],
            "tools": {k: str(v) for k, v in (self.assets.tools if self.assets else {}).items()},
        }
        tmp = self.layout.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self.layout.state_file)

    def tools(self) -> dict[str, Path]:
        """The node's tools by name: from preflight, the state file, or found afresh."""
        if self.assets is not None:
            return self.assets.tools
        if self._attached_tools:
            return self._attached_tools
        return {name: path for name, path in find_tools().items() if path is not None}

    def tool(self, name: str) -> Path:
        tools = self.tools()
        if name not in tools:
            raise RuntimeError(f"{name} not found; run `make node`")
        return tools[name]

    def api_client(self) -> api.Api:
        """A client of the cluster's API server with the admin's certificate."""
        plane_pki = self.plane.layout.pki
        return api.Api(
            self.plane.server, plane_pki.ca_cert, plane_pki.admin_cert, plane_pki.admin_key
        )


def _node_alive(state_dir: Path) -> bool:
    cluster = Cluster.attach(state_dir)
    return cluster is not None and any(cluster.status().values())


def _clean_stale(state_dir: Path) -> list[str]:
    """Undo what a node that died without `down` left behind (called under the
    lock, which the new node takes over, so it is not released here)."""
    cluster = Cluster.attach(state_dir) or Cluster(state_dir)
    return down.teardown(cluster)
