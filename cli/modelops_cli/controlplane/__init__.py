"""Local Kubernetes control plane: provisioning lookup, processes, CLI.

`ControlPlane` is the Python API (used by the pytest fixture); `controlplane`
is the click group registered as `modelops controlplane`.
"""

from __future__ import annotations

from .assets import MissingBinariesError, discover
from .commands import controlplane
from .runner import AlreadyRunningError, ControlPlane, StartupError, default_state_dir

__all__ = [
    "AlreadyRunningError",
    "ControlPlane",
    "MissingBinariesError",
    "StartupError",
    "controlplane",
    "default_state_dir",
    "discover",
]
