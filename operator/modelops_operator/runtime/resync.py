"""Level-based re-reconciliation of every ModelDeployment on a fixed period.

Watches can miss events (a dropped connection, an operator restart in the
middle of a burst) and some inputs are not Kubernetes objects at all (a new
approved version in the registry for a `@latest-approved` channel). A periodic
pass that puts every object in the work queue makes the operator converge
regardless. It replaces a kopf timer, which would add a finalizer to every
object (see handlers.py). Each pass first lists the children again
(`before_pass`, Engine.prime), since reconciles observe them from memory that
only the watches keep current. Drift and retraining need nothing of their own
here: each reconcile measures drift when it is due and follows its Job.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from modelops_operator.adapters.kube import KubeAdapter, KubeError
from modelops_operator.runtime.queue import WorkQueue

log = logging.getLogger("modelops.operator.resync")


class Resyncer:
    def __init__(
        self,
        kube: KubeAdapter,
        queue: WorkQueue,
        *,
        namespaces: tuple[str, ...],
        period: float,
        before_pass: Callable[[], None] | None = None,
    ) -> None:
        self.kube = kube
        self.before_pass = before_pass
        self.queue = queue
        # An empty tuple means every namespace.
        self.namespaces: tuple[str | None, ...] = namespaces or (None,)
        self.period = period
        self._stop = threading.Event()

    def pass_once(self) -> int:
        """Queue every ModelDeployment once; returns how many were queued."""
        if self.before_pass is not None:
            try:
                self.before_pass()
            except Exception as exc:  # the queueing below must still happen
                log.warning("resync: refreshing the children failed: %s", exc)
        count = 0
        for namespace in self.namespaces:
            try:
                items = self.kube.list_model_deployments(namespace)
            except KubeError as exc:
                log.warning("resync: cannot list ModelDeployments in %s: %s", namespace, exc)
                continue
            for item in items:
                if self._stop.is_set():
                    return count
                meta = item["metadata"]
                # The listed body saves a GET per object; force re-applies
                # children whose drift no watch reports (e.g. a deleted Service).
                self.queue.add(
                    meta["namespace"], meta["name"], body=item, force=True, trigger="resync"
                )
                count += 1
        return count

    def start(self) -> threading.Thread:
        def loop() -> None:
            while not self._stop.wait(self.period):
                try:
                    self.pass_once()
                except Exception as exc:  # the next pass tries again; the thread must not die
                    log.warning("resync pass failed: %s", exc)

        thread = threading.Thread(target=loop, name="resync", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()
