"""Leader election decisions (pure) and the follower's liveness probe."""

from __future__ import annotations

import datetime as dt
import json
import socket
import urllib.error
import urllib.request

import pytest

from modelops_operator.leader import ACQUIRE, RENEW, WAIT, decide, lease_spec
from modelops_operator.probe import FollowerProbe

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
