"""Leader election decisions (pure) and the follower's liveness probe."""

from __future__ import annotations

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
    call_timeout_for,
    decide,
    lease_spec,
    may_keep_leading,
)
from modelops_operator.runtime.probe import FollowerProbe

NOW = dt.datetime(2026, 11, 23, 12, 0, 0, tzinfo=dt.UTC)


def held(by: str, renewed_seconds_ago: float, duration: int = 15) -> dict:
    renewed = NOW - dt.timedelta(seconds=renewed_seconds_ago)
    return {
        "holderIdentity": by,
        "leaseDurationSeconds": duration,
        "renewTime": renewed.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (None, ACQUIRE),
        ({}, ACQUIRE),
        ({"holderIdentity": ""}, ACQUIRE),  # released at shutdown
        (held("me", 1), RENEW),
        (held("me", 60), RENEW),  # still ours even if late: renew it
        (held("other", 1), WAIT),
        (held("other", 14.9), WAIT),
        (held("other", 15), ACQUIRE),  # expired exactly now
        (held("other", 100), ACQUIRE),
        ({"holderIdentity": "other", "leaseDurationSeconds": 15}, ACQUIRE),  # never renewed
    ],
)
def test_decide(spec, expected):
    assert decide(spec, "me", NOW) == expected


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


@pytest.mark.parametrize(
    ("elapsed", "expected"),
    [(0.0, True), (4.9, True), (5.0, False), (9.0, False), (15.0, False)],
)
def test_a_failing_leader_gives_up_while_the_next_attempt_could_still_land(elapsed, expected):
    # lease 15 s, renew every 5 s, calls time out after 2.5 s: an attempt after
    # `elapsed` seconds ends at elapsed + 5 + 2 * 2.5 at the latest.
    assert call_timeout_for(15.0, 5.0) == 2.5
    assert may_keep_leading(elapsed, 5.0, 2.5, 15.0) is expected


def test_lease_calls_get_a_timeout_shorter_than_the_lease():
    for lease, renew in [(15.0, 5.0), (10.0, 2.0), (60.0, 20.0), (2.0, 1.9)]:
        timeout = call_timeout_for(lease, renew)
        assert timeout >= 0.5
        assert renew + 2 * timeout <= lease or timeout == 0.5
