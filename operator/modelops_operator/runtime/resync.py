"""Level-based re-reconciliation of every ModelDeployment on a fixed period.

Watches can miss events (a dropped connection, an operator restart in the
middle of a burst) and some inputs are not Kubernetes objects at all (a new
approved version in the registry for a `@latest-approved` channel). A periodic
pass over every object makes the operator converge regardless. It replaces a
kopf timer, which would add a finalizer to every object (see handlers.py).
"""

from __future__ import annotations

import logging
import threading

from modelops_operator.adapters.kube import KubeAdapter, KubeError
from modelops_operator.runtime.drift_pass import DriftPass
from modelops_operator.runtime.engine import Engine

log = logging.getLogger("modelops.operator.resync")


class Resyncer:
    def __init__(
        self,
        kube: KubeAdapter,
        engine: Engine,
        *,
        namespaces: tuple[str, ...],
        period: float,
        drift: DriftPass | None = None,
    ) -> None:
        self.kube = kube
        self.engine = engine
        # Drift and retraining ride on the same periodic pass (each object says
        # how often it wants drift measured; the pass checks whether it is due).
        self.drift = drift or DriftPass(kube, clock=engine.clock, instance=engine.instance)
        # An empty tuple means every namespace.
        self.namespaces: tuple[str | None, ...] = namespaces or (None,)
        self.period = period
        self._stop = threading.Event()

    def pass_once(self) -> int:
        """Reconcile every ModelDeployment once; returns how many were reconciled."""
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
                try:
                    # The listed body saves a GET per object; force re-applies
                    # children whose drift no watch reports (e.g. a deleted Service).
                    self.engine.reconcile(meta["namespace"], meta["name"], body=item, force=True)
                    count += 1
                except Exception as exc:  # one bad object must not stop the others
                    log.warning("resync of %s/%s failed: %s", meta["namespace"], meta["name"], exc)
                try:
                    self.drift.run(meta["namespace"], meta["name"], listed=item)
                except Exception as exc:  # drift trouble never blocks serving reconciles
                    log.warning(
                        "drift pass of %s/%s failed: %s", meta["namespace"], meta["name"], exc
                    )
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
