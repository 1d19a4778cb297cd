"""A local Kubernetes cluster with a real node: kubelet, containerd, kube-proxy, CoreDNS.

`Cluster` is the Python API (the node tests' fixture and the demo use it);
`cluster` is the click group registered as `modelops cluster`.
`write_docker_archive` writes images for it without Docker.
"""

from __future__ import annotations

from .archive import ArchiveError, File, ImageConfig, write_docker_archive
from .boot import StartupError
from .commands import cluster
from .lock import NodeBusyError
from .preflight import PreflightError
from .runner import Cluster

__all__ = [
    "ArchiveError",
    "Cluster",
    "File",
    "ImageConfig",
    "NodeBusyError",
    "PreflightError",
    "StartupError",
    "cluster",
    "write_docker_archive",
]
