"""Run-time settings of the operator process, filled by `modelops operator run`."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field


def default_identity() -> str:
    """Unique per process, readable in `kubectl get lease`: host name plus pid."""
    return f"{socket.gethostname()}-{os.getpid()}"


@dataclass(frozen=True)
class OperatorSettings:
    namespaces: tuple[str, ...] = ()
    all_namespaces: bool = False
    kubeconfig: str | None = None
    liveness: str | None = None  # e.g. http://127.0.0.1:8081/healthz
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = 8080  # None disables the metrics server
    resync_seconds: float = 60.0  # level-based re-reconcile of every object
    workers: int = 8  # threads running the (synchronous) reconciles
    leader_election: bool = True
    lease_name: str = "modelops-operator"
    lease_namespace: str = "default"
    lease_seconds: float = 15.0
    renew_seconds: float = 5.0
    identity: str = field(default_factory=default_identity)
    verbose: bool = False
    # ServiceAccounts retraining Jobs may run as; None: not restricted by the operator.
    retraining_service_accounts: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not self.all_namespaces and not self.namespaces:
            raise ValueError("give at least one --namespace, or --all-namespaces")
        if self.all_namespaces and self.namespaces:
            raise ValueError("--namespace and --all-namespaces exclude each other")
        if self.renew_seconds >= self.lease_seconds:
            raise ValueError("the renew period must be shorter than the lease duration")
        if self.resync_seconds <= 0:
            raise ValueError("the resync period must be greater than zero")
