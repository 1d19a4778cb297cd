"""Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics.

Why a Lease and not kopf peering: peering needs kopf's own cluster-wide
CRDs (KopfPeering) installed next to ours, and when two replicas share a
priority kopf only warns, so both keep acting. A Lease is the standard
Kubernetes mechanism (kube-controller-manager uses it), needs no extra CRD,
is visible with `kubectl get lease`, and gives one writer: a replica starts
kopf only once it holds the lease, and stops (the process exits, to be
restarted as a follower) as soon as it cannot renew it.

The three durations are client-go's (k8s.io/client-go/tools/leaderelection):

* lease duration: how long a follower waits, after it last saw the Lease
  record *change*, before it takes the lease over;
* renew deadline (< lease duration): how long the leader keeps leading
  without a successful renewal. Failed renewals (an API server that blips)
  are retried every retry period until then, so a blip shorter than the
  deadline costs nothing;
* retry period: the pause between attempts (acquire or renew).

Two rules make this safe without synchronised clocks:

* A follower judges expiry by its own monotonic clock: the lease is expired
  when the record has not changed for a lease duration *as this replica
  observed it* (client-go's observedTime), never by comparing the holder's
  renewTime with the local wall clock, which a skewed clock would get wrong.
* The leader counts its leadership from the monotonic instant it *sent* its
  last successful renewal: no follower can have seen that renewal before it
  was sent, so none can take over before that instant + lease duration. The
  leader stops writing at that instant + renew deadline (see `held`, which
  the write guard asks before each write); the difference between the two is
  the margin for a write already on the wire.

The decisions are pure functions (`decide`, `holds`); `LeaderElector` does the
I/O through the kube adapter.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from modelops_operator.adapters.kube import Conflict, KubeAdapter, KubeError
from modelops_operator.runtime import metrics

log = logging.getLogger("modelops.operator.leader")

ACQUIRE = "acquire"  # the lease is free, or unchanged for a lease duration: take it
RENEW = "renew"  # we hold it: extend it
WAIT = "wait"  # someone else holds a lease we saw change less than a lease duration ago


def micro_time(now: dt.datetime) -> str:
    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_of(spec: Mapping[str, Any] | None) -> tuple:
    """What identifies one version of the Lease record (client-go compares the whole record)."""
    spec = spec or {}
    keys = ("holderIdentity", "leaseDurationSeconds", "acquireTime", "renewTime")
    return tuple(spec.get(key) for key in (*keys, "leaseTransitions"))


def decide(
    spec: Mapping[str, Any] | None,
    identity: str,
    observed_at: float,
    now: float,
    lease_seconds: float,
) -> str:
    """What a candidate should do with a Lease whose spec is `spec`.

    `observed_at` is this replica's monotonic time when it first saw the
    record as it is now; `now` is its monotonic time. The holder's own
    timestamps are not compared with anything: they come from another clock.
    """
    if not spec or not spec.get("holderIdentity"):
        return ACQUIRE
    if spec["holderIdentity"] == identity:
        return RENEW
    # client-go uses the duration written in the record; ours when it is missing.
    duration = float(spec.get("leaseDurationSeconds") or lease_seconds)
    if now >= observed_at + duration:
        return ACQUIRE
    return WAIT


def holds(last_renewed: float | None, now: float, renew_deadline: float, lost: bool) -> bool:
    """May the leader still write? Only before its renew deadline, counted from
    the monotonic instant its last successful renewal was sent."""
    return not lost and last_renewed is not None and now < last_renewed + renew_deadline


def lease_spec(
    old: Mapping[str, Any] | None, identity: str, now: dt.datetime, seconds: float
) -> dict[str, Any]:
    """The spec to write when acquiring or renewing."""
    old = old or {}
    holding = old.get("holderIdentity") == identity
    return {
        "holderIdentity": identity,
        "leaseDurationSeconds": max(1, round(seconds)),
        "acquireTime": old.get("acquireTime") if holding else micro_time(now),
        "renewTime": micro_time(now),
        "leaseTransitions": int(old.get("leaseTransitions") or 0) + (0 if holding else 1),
    }


@dataclass(frozen=True)
class Timing:
    lease_seconds: float
    renew_deadline: float
    retry_period: float

    def __post_init__(self) -> None:
        if not 0 < self.retry_period < self.renew_deadline < self.lease_seconds:
            raise ValueError(
                "leader election needs retry period < renew deadline < lease duration, got "
                f"{self.retry_period:g} < {self.renew_deadline:g} < {self.lease_seconds:g}"
            )

    @property
    def call_timeout(self) -> float:
        """Per-request timeout of the lease calls: one retry period. Attempts start
        every retry period, so one is always waiting on a silent API server and is
        answered the moment it comes back: a leader survives any outage shorter
        than the renew deadline that starts right after a renewal, and any outage
        shorter than renew deadline - retry period whenever it starts."""
        return max(0.5, self.retry_period)


class LeaderElector:
    def __init__(
        self,
        kube: KubeAdapter,
        *,
        namespace: str,
        name: str,
        identity: str,
        timing: Timing,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.timing = timing
        self.kube = kube.with_timeout(timing.call_timeout)
        self.clock = clock  # only for the timestamps written for humans (kubectl)
        self.monotonic = monotonic
        self._stop = threading.Event()
        self._observed: tuple | None = None
        self._observed_at = 0.0
        self._last_renewed: float | None = None  # monotonic, when the last good renewal was sent
        self._lost = threading.Event()
        self._on_lost: Callable[[], None] | None = None
        self._lost_lock = threading.Lock()

    # --- the write guard asks this --------------------------------------------------

    def held(self) -> bool:
        """True while this replica may write (see `holds`); the first False that
        the renewer has not noticed yet starts stepping down at once."""
        if holds(self._last_renewed, self.monotonic(), self.timing.renew_deadline, self.lost):
            return True
        if self._last_renewed is not None:
            self._lose("renew deadline passed without a successful renewal")
        return False

    @property
    def lost(self) -> bool:
        return self._lost.is_set()

    # --- one attempt ---------------------------------------------------------------------

    def _observe(self, spec: Mapping[str, Any] | None, at: float) -> None:
        record = record_of(spec)
        if record != self._observed:
            self._observed, self._observed_at = record, at

    def try_acquire_or_renew(self) -> bool:
        """One attempt; True when we hold the lease afterwards."""
        sent = self.monotonic()  # before the GET: the most conservative start of this renewal
        lease = self.kube.get("coordination.k8s.io/v1", "Lease", self.namespace, self.name)
        if lease is None:
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": lease_spec(None, self.identity, self.clock(), self.timing.lease_seconds),
            }
            try:
                created = self.kube.create(body)
            except Conflict:
                return False  # another candidate created it first
            return self._renewed(created, sent)
        spec = lease.get("spec") or {}
        self._observe(spec, self.monotonic())
        now = self.monotonic()
        move = decide(spec, self.identity, self._observed_at, now, self.timing.lease_seconds)
        if move == WAIT:
            return False
        if move == RENEW and self._last_renewed is not None and not self.held():
            # Past our deadline a successor may be taking over: renewing now
            # would only make it wait, and we stop anyway.
            return False
        lease["spec"] = lease_spec(spec, self.identity, self.clock(), self.timing.lease_seconds)
        try:
            # PUT carries the resourceVersion we read: of two racing candidates one gets 409.
            answer = self.kube.replace(lease)
        except Conflict:
            return False
        return self._renewed(answer, sent)

    def _renewed(self, lease: Mapping[str, Any], sent: float) -> bool:
        self._observe(lease.get("spec"), sent)
        self._last_renewed = sent
        return True

    # --- follower: wait for the lease --------------------------------------------------

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
            stop.wait(self.timing.retry_period)
        return False

    # --- leader: keep it ---------------------------------------------------------------

    def keep_renewing(self, on_lost: Callable[[], None]) -> threading.Thread:
        """Renew every retry period; call `on_lost` once when the lease is lost.

        A failed renewal is retried every retry period until the renew deadline
        (counted from the last renewal that succeeded); the lease is lost when
        the deadline passes or another replica holds it.
        """
        self._on_lost = on_lost
        if self._lost.is_set():  # lost between acquiring and starting the renewer
            on_lost()

        def loop() -> None:
            # Attempts start every retry period, counted from the start of the
            # previous one: with a call timeout no longer than the period, an
            # attempt is always under way, and the first one the API server
            # answers after an outage renews the lease.
            next_attempt = self.monotonic() + self.timing.retry_period
            while not self._stop.wait(max(0.0, next_attempt - self.monotonic())):
                if self.lost or not self.held():
                    return
                next_attempt = self.monotonic() + self.timing.retry_period
                try:
                    if self.try_acquire_or_renew():
                        continue
                    reason = "another replica holds the lease"
                except Exception as exc:  # any failure to renew counts, never kills this thread
                    log.warning("lease renewal failed (retrying until the deadline): %s", exc)
                    continue
                self._lose(reason)
                return

        thread = threading.Thread(target=loop, name="lease-renewer", daemon=True)
        thread.start()
        return thread

    def _lose(self, reason: str) -> None:
        with self._lost_lock:
            if self._lost.is_set():
                return
            self._lost.set()
        metrics.LEADER.set(0)
        log.error("lost leadership of %s/%s: %s", self.namespace, self.name, reason)
        if self._on_lost is not None:
            self._on_lost()

    def release(self) -> None:
        """Give the lease up at shutdown so a follower takes over without waiting for expiry.

        Only while still held: a leader past its deadline may already have a
        successor, whose lease this would clear.
        """
        self._stop.set()
        if not holds(self._last_renewed, self.monotonic(), self.timing.renew_deadline, self.lost):
            return
        try:
            lease = self.kube.get("coordination.k8s.io/v1", "Lease", self.namespace, self.name)
            if lease and (lease.get("spec") or {}).get("holderIdentity") == self.identity:
                lease["spec"]["holderIdentity"] = ""
                self.kube.replace(lease)
        except KubeError as exc:
            log.warning("could not release the lease: %s", exc)
        metrics.LEADER.set(0)
