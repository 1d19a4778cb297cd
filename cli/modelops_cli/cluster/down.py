"""Stopping a `Cluster`'s node: processes, pods' containers, control plane, then the host.

`teardown` is the whole of `down` (and of cleaning up after a node that died
without it): the kubelet stops before anything it could restart is removed,
containerd outlives the containers it must remove, and the host is restored
last from the record `up` made (teardown.py). It returns what could not be
undone, for the caller to report; `no_interrupts` keeps a second Ctrl-C from
cutting it short.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from typing import TYPE_CHECKING

from modelops_cli.controlplane import processes

from . import containerd, hoststate
from . import teardown as host_teardown

if TYPE_CHECKING:
    from .runner import Cluster


def teardown(cluster: Cluster) -> list[str]:
    """Stop everything the cluster started and restore the host; return the problems."""
    problems: list[str] = []
    by_name = {p.name: p for p in cluster.procs}
    phase = time.monotonic()
    # The kubelet first, so it restarts nothing that is being removed.
    for name in ("kube-proxy", "kubelet"):
        if name in by_name:
            processes.stop(by_name[name])
    if "containerd" in by_name and processes.is_alive(by_name["containerd"]):
        problems += containerd.remove_all_containers(cluster.tool("ctr"), cluster.layout)
    _timing(cluster, "down: node processes and containers", phase)
    phase = time.monotonic()
    if cluster.plane is not None:
        cluster.plane.stop()
    if "containerd" in by_name:
        processes.stop(by_name["containerd"])
    _timing(cluster, "down: control plane and containerd", phase)
    phase = time.monotonic()
    if cluster.layout.host_before.is_file():
        before = hoststate.HostState.from_json(cluster.layout.host_before.read_text())
        host_problems = host_teardown.restore_host(before, cluster.layout, cluster.tools())
        if not host_problems:
            cluster.layout.host_before.unlink()
        problems += host_problems
    _timing(cluster, "down: host restored", phase)
    cluster.procs = []
    cluster.layout.state_file.unlink(missing_ok=True)
    return problems


def _timing(cluster: Cluster, step: str, since: float) -> None:
    cluster.timings[step] = time.monotonic() - since


@contextlib.contextmanager
def no_interrupts():
    """Tear-down runs to the end: a second Ctrl-C would leave the host half restored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
