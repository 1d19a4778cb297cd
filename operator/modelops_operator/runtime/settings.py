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
    # client-go's leader election durations (runtime/leader.py): the lease
    # duration, the retry period (`--renew-seconds`: how often the leader
    # renews and a follower tries), and the renew deadline, by default two
    # thirds of the lease duration (client-go's 15 s / 10 s ratio).
    lease_seconds: float = 15.0
    renew_seconds: float = 2.0
    renew_deadline_seconds: float | None = None
    identity: str = field(default_factory=default_identity)
    verbose: bool = False
    # ServiceAccounts retraining Jobs may run as; None: not restricted by the operator.
    retraining_service_accounts: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not self.all_namespaces and not self.namespaces:
            raise ValueError("give at least one --namespace, or --all-namespaces")
        if self.all_namespaces and self.namespaces:
            raise ValueError("--namespace and --all-namespaces exclude each other")
        if self.leader_election:
            self.timing  # noqa: B018 -- raises ValueError naming the three durations

    @property
    def renew_deadline(self) -> float:
        if self.renew_deadline_seconds is not None:
            return self.renew_deadline_seconds
        return self.lease_seconds * 2 / 3

    @property
    def timing(self):
        from modelops_operator.runtime.leader import Timing

        return Timing(self.lease_seconds, self.renew_deadline, self.renew_seconds)
        if self.resync_seconds <= 0:
            raise ValueError("the resync period must be greater than zero")
