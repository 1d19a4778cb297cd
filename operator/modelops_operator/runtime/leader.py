"""Leader election on a coordination.k8s.io/v1 Lease, as client-go does it.

Why a Lease and not kopf peering: peering needs kopf's own cluster-wide
CRDs (KopfPeering) installed next to ours, and when two replicas share a
priority kopf only warns, so both keep acting. A Lease is the standard
Kubernetes mechanism (kube-controller-manager uses it), needs no extra CRD,
is visible with `kubectl get lease`, and gives one writer: a replica starts
kopf only once it holds the lease, and stops (the process exits, to be
restarted as a follower) as soon as it cannot renew it.

The decision is a pure function (`decide`); `LeaderElector` does the I/O
through the kube adapter.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from modelops_operator.adapters.kube import Conflict, KubeAdapter, KubeError
from modelops_operator.runtime import metrics

log = logging.getLogger("modelops.operator.leader")

ACQUIRE = "acquire"  # the lease is free or expired: take it
RENEW = "renew"  # we hold it: extend it
WAIT = "wait"  # someone else holds a live lease


def _parse(ts: str | None) -> dt.datetime | None:
    if not ts:
        return None
    return dt.datetime.fromisoformat(ts.replace("Z", "+00:00"))


def micro_time(now: dt.datetime) -> str:
    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def decide(spec: Mapping[str, Any] | None, identity: str, now: dt.datetime) -> str:
    """What a candidate should do with a Lease whose spec is `spec`."""
    if not spec or not spec.get("holderIdentity"):
        return ACQUIRE
    if spec["holderIdentity"] == identity:
        return RENEW
    renewed = _parse(spec.get("renewTime")) or _parse(spec.get("acquireTime"))
    duration = float(spec.get("leaseDurationSeconds") or 0)
    if renewed is None or now >= renewed + dt.timedelta(seconds=duration):
        return ACQUIRE
    return WAIT


def lease_spec(
    old: Mapping[str, Any] | None, identity: str, now: dt.datetime, seconds: float
) -> dict[str, Any]:
    """The spec to write when acquiring or renewing."""
    old = old or {}
    holding = old.get("holderIdentity") == identity
    return {
        "holderIdentity": identity,
        "leaseDurationSeconds": int(seconds),
        "acquireTime": old.get("acquireTime") if holding else micro_time(now),
        "renewTime": micro_time(now),
        "leaseTransitions": int(old.get("leaseTransitions") or 0) + (0 if holding else 1),
    }


def call_timeout_for(lease_seconds: float, renew_seconds: float) -> float:
    """Per-request timeout of the lease calls: two of them fit in half the renewal slack."""
    return max(0.5, (lease_seconds - renew_seconds) / 4)


def may_keep_leading(
    elapsed: float, renew_seconds: float, call_timeout: float, lease_seconds: float
) -> bool:
    """After a failed renewal: can the next attempt (wait, GET, PUT) still land in the lease?

    Giving up when it cannot, rather than when the lease has already lapsed,
    keeps a leader that cannot reach the API server from acting past the time
    another replica may take over.
    """
    return elapsed + renew_seconds + 2 * call_timeout < lease_seconds


class LeaderElector:
    def __init__(
        self,
        kube: KubeAdapter,
        *,
        namespace: str,
        name: str,
        identity: str,
        lease_seconds: float,
        renew_seconds: float,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.lease_seconds = lease_seconds
        self.renew_seconds = renew_seconds
        # A lease call that hangs (an API server that stops answering rather
        # than refusing) must not outlive the lease: with the adapter's default
        # 30 s timeout a 15 s lease could lapse while this leader still acted.
        # One attempt (GET + PUT) fits in half of the slack between renewals.
        self.call_timeout = call_timeout_for(lease_seconds, renew_seconds)
        self.kube = kube.with_timeout(self.call_timeout)
        self.clock = clock
        self._stop = threading.Event()

    def try_acquire_or_renew(self) -> bool:
        """One attempt; True when we hold the lease afterwards."""
        lease = self.kube.get("coordination.k8s.io/v1", "Lease", self.namespace, self.name)
        now = self.clock()
        if lease is None:
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": lease_spec(None, self.identity, now, self.lease_seconds),
            }
            try:
                self.kube.create(body)
            except Conflict:
                return False  # another candidate created it first
            return True
        spec = lease.get("spec") or {}
        if decide(spec, self.identity, now) == WAIT:
            return False
        lease["spec"] = lease_spec(spec, self.identity, now, self.lease_seconds)
        try:
            # PUT carries the resourceVersion we read: of two racing candidates one gets 409.
            self.kube.replace(lease)
        except Conflict:
            return False
        return True

    def acquire(self, stop: threading.Event | None = None) -> bool:
        """Block until we lead (True) or `stop` is set (False)."""
        stop = stop or self._stop
        while not stop.is_set():
            try:
                if self.try_acquire_or_renew():
                    metrics.LEADER.set(1)
                    log.info("%s acquired lease %s/%s", self.identity, self.namespace, self.name)
                    return True
            except KubeError as exc:
                log.warning("leader election: %s", exc)
            stop.wait(self.renew_seconds)
        return False

    def keep_renewing(self, on_lost: Callable[[], None]) -> threading.Thread:
        """Renew in the background; call `on_lost` once if the lease cannot be kept."""

        def loop() -> None:
            last_renewed = self.clock()
            while not self._stop.wait(self.renew_seconds):
                try:
                    if self.try_acquire_or_renew():
                        last_renewed = self.clock()
                        continue
                    reason = "another replica holds the lease"
                except Exception as exc:  # any failure to renew counts, never kills this thread
                    reason = str(exc)
                    # Transient API errors are tolerated while the next attempt
                    # could still renew before the lease lapses.
                    elapsed = (self.clock() - last_renewed).total_seconds()
                    if may_keep_leading(
                        elapsed, self.renew_seconds, self.call_timeout, self.lease_seconds
                    ):
                        continue
                metrics.LEADER.set(0)
                log.error("lost leadership of %s/%s: %s", self.namespace, self.name, reason)
                on_lost()
                return

        thread = threading.Thread(target=loop, name="lease-renewer", daemon=True)
        thread.start()
        return thread

    def release(self) -> None:
        """Give the lease up at shutdown so a follower takes over without waiting for expiry."""
        self._stop.set()
        try:
            lease = self.kube.get("coordination.k8s.io/v1", "Lease", self.namespace, self.name)
            if lease and (lease.get("spec") or {}).get("holderIdentity") == self.identity:
                lease["spec"]["holderIdentity"] = ""
                self.kube.replace(lease)
        except KubeError as exc:
            log.warning("could not release the lease: %s", exc)
        metrics.LEADER.set(0)
