"""Leader election decisions (pure), the elector against a scripted Lease, the follower probe."""

from __future__ import annotations

import copy
import datetime as dt
import json
import socket
import urllib.error
import urllib.request

import pytest

from modelops_operator.runtime.leader import (
    ACQUIRE,
    RENEW,
    WAIT,
    LeaderElector,
    Timing,
    decide,
    holds,
    lease_spec,
)
from modelops_operator.runtime.probe import FollowerProbe
from modelops_testkit.net import free_port

NOW = dt.datetime(2026, 11, 23, 12, 0, 0, tzinfo=dt.UTC)


def held(by: str, renewed_seconds_ago: float, duration: int = 15) -> dict:
    renewed = NOW - dt.timedelta(seconds=renewed_seconds_ago)
    return {
        "holderIdentity": by,
        "leaseDurationSeconds": duration,
        "renewTime": renewed.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }


# observed_at and now are this replica's monotonic seconds; the renewTime in
# the record is another machine's wall clock and must not matter.
@pytest.mark.parametrize(
    ("spec", "observed_at", "now", "expected"),
    [
        (None, 0, 0, ACQUIRE),
        ({}, 0, 0, ACQUIRE),
        ({"holderIdentity": ""}, 0, 0, ACQUIRE),  # released at shutdown
        (held("me", 1), 0, 1, RENEW),
        (held("me", 60), 0, 60, RENEW),  # still ours even if late: renew it
        (held("other", 1), 100, 101, WAIT),
        (held("other", 1), 100, 114.9, WAIT),
        (held("other", 1), 100, 115, ACQUIRE),  # unchanged for a lease duration
        # The holder's clock is an hour behind: its renewTime looks ancient, but
        # the record just changed, so it is alive.
        (held("other", 3600), 100, 101, WAIT),
        # The holder's clock is an hour ahead: its renewTime looks fresh, but the
        # record has not changed for 20 s, so it is dead.
        (held("other", -3600), 100, 120, ACQUIRE),
        (held("other", 1, duration=40), 100, 120, WAIT),  # the record's duration counts
        ({"holderIdentity": "other"}, 100, 114, WAIT),  # no duration written: ours (15 s)
        ({"holderIdentity": "other"}, 100, 115, ACQUIRE),
    ],
)
def test_decide(spec, observed_at, now, expected):
    assert decide(spec, "me", observed_at, now, 15.0) == expected


@pytest.mark.parametrize(
    ("last_renewed", "now", "lost", "expected"),
    [
        (None, 0.0, False, False),  # never acquired
        (100.0, 100.0, False, True),
        (100.0, 109.9, False, True),
        (100.0, 110.0, False, False),  # the renew deadline (10 s) has passed
        (100.0, 105.0, True, False),  # lost is final, whatever the clock says
    ],
)
def test_holds(last_renewed, now, lost, expected):
    assert holds(last_renewed, now, 10.0, lost) is expected


@pytest.mark.parametrize(
    ("lease", "deadline", "retry"),
    [(15, 15, 2), (15, 20, 2), (15, 10, 10), (15, 10, 0), (6, 4, 5)],
)
def test_timing_refuses_durations_out_of_order(lease, deadline, retry):
    with pytest.raises(ValueError, match="retry period < renew deadline < lease duration"):
        Timing(lease, deadline, retry)


class ScriptedLease:
    """A Lease store with the adapter's verbs; `fail` makes calls raise like a down API server."""

    def __init__(self, spec=None):
        self.obj = None
        if spec is not None:
            self.obj = {"metadata": {"resourceVersion": "1"}, "spec": spec}
        self.fail = False

    def with_timeout(self, _):
        return self

    def _check(self):
        from modelops_operator.adapters.kube import KubeError

        if self.fail:
            raise KubeError(0, "API server unreachable")

    def get(self, *_):
        self._check()
        return copy.deepcopy(self.obj)

    def create(self, body):
        self._check()
        self.obj = {**copy.deepcopy(body), "metadata": {"resourceVersion": "1"}}
        return copy.deepcopy(self.obj)

    def replace(self, body):
        self._check()
        rv = str(int(self.obj["metadata"]["resourceVersion"]) + 1)
        self.obj = {**copy.deepcopy(body), "metadata": {"resourceVersion": rv}}
        return copy.deepcopy(self.obj)


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def elector(store, clock):
    return LeaderElector(
        store,
        namespace="ns",
        name="lease",
        identity="me",
        timing=Timing(15.0, 10.0, 2.0),
        clock=lambda: NOW,
        monotonic=clock,
    )


def test_a_skewed_holder_that_keeps_renewing_is_never_taken_over():
    store, clock = ScriptedLease(held("other", 3600)), Clock()
    me = elector(store, clock)
    for _ in range(20):  # 40 s; the holder renews every 2 s, with a clock an hour behind
        assert not me.try_acquire_or_renew()
        clock.t += 2
        store.obj["spec"]["renewTime"] = f"2026-11-23T11:00:{int(clock.t) % 60:02d}.000000Z"
    assert store.obj["spec"]["holderIdentity"] == "other"


def test_a_holder_that_stops_renewing_is_taken_over_one_lease_duration_after_it_was_seen():
    store, clock = ScriptedLease(held("other", -3600)), Clock()  # clock an hour ahead
    me = elector(store, clock)
    assert not me.try_acquire_or_renew()
    clock.t += 14.9
    assert not me.try_acquire_or_renew()
    clock.t += 0.1
    assert me.try_acquire_or_renew()
    assert store.obj["spec"]["holderIdentity"] == "me"
    assert me.held()


def test_a_failure_shorter_than_the_renew_deadline_keeps_the_lease_a_longer_one_loses_it():
    store, clock = ScriptedLease(), Clock()
    me = elector(store, clock)
    assert me.try_acquire_or_renew()
    store.fail = True
    clock.t += 9.9
    assert me.held()  # failed renewals so far, but within the 10 s deadline
    store.fail = False
    assert me.try_acquire_or_renew()
    clock.t += 9.9
    assert me.held()  # counted from the renewal that succeeded
    clock.t += 0.1
    assert not me.held()
    assert me.lost
    clock.t -= 5  # lost is final: no write slips through afterwards
    assert not me.held()


def test_lease_spec_counts_transitions_and_keeps_acquire_time_on_renew():
    taken = lease_spec(held("other", 100), "me", NOW, 15)
    assert taken["holderIdentity"] == "me"
    assert taken["leaseTransitions"] == 1
    assert taken["acquireTime"] == taken["renewTime"] == "2026-11-23T12:00:00.000000Z"
    later = NOW + dt.timedelta(seconds=5)
    renewed = lease_spec(taken, "me", later, 15)
    assert renewed["acquireTime"] == taken["acquireTime"]
    assert renewed["renewTime"] == "2026-11-23T12:00:05.000000Z"
    assert renewed["leaseTransitions"] == 1


def test_follower_probe_answers_until_closed_and_frees_the_port():
    port = free_port()
    probe = FollowerProbe(f"http://127.0.0.1:{port}/healthz")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
        assert answer.status == 200
        assert json.loads(answer.read()) == {"leader": False}
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/other", timeout=5)
    probe.close()
    # kopf binds the same port next.
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
