"""Leader election against the real API server: clock skew, API outages, a frozen leader.

Who wrote what is read from the API server's audit log (the `audit_log`
fixture restarts the test API server with one): the operator sends its
identity in its User-Agent, so every write names the replica that sent it.
"Never two leaders acting" is checked there: once a replica has taken the
lease, the audit log holds no write from any other replica.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import threading
import time

import pytest

from tests.plugins.controlplane import pause_api_server
from tests.plugins.operator import apply_md, eventually, get_md, md_manifest

LEASE = "modelops-operator"
# Lease 6 s, a renewal attempt every second, renew deadline 4 s (2/3 of the lease).
TIMING = {"lease_seconds": 6.0, "renew_seconds": 1.0}


def lease(kube, namespace) -> dict:
    return kube.get("coordination.k8s.io/v1", "Lease", namespace, LEASE) or {}


def holder(kube, namespace) -> str | None:
    return (lease(kube, namespace).get("spec") or {}).get("holderIdentity")


def agent(identity: str) -> str:
    return f"modelops-operator/{identity}"


def when(entry: dict) -> dt.datetime:
    return dt.datetime.fromisoformat(entry["requestReceivedTimestamp"].replace("Z", "+00:00"))


def took_lease_at(audit_log, identity: str, namespace: str) -> dt.datetime:
    """When `identity` first wrote the Lease successfully, by the API server's clock."""
    for entry in audit_log.writes(agent(identity)):
        ref = entry.get("objectRef") or {}
        code = (entry.get("responseStatus") or {}).get("code")
        if ref.get("resource") == "leases" and ref.get("namespace") == namespace and code < 300:
            return when(entry)
    pytest.fail(f"the audit log has no successful Lease write by {identity}")


def writes_after(audit_log, identity: str, since: dt.datetime) -> list[str]:
    return [
        f"{e['verb']} {(e.get('objectRef') or {}).get('resource')}/"
        f"{(e.get('objectRef') or {}).get('name')} at {e['requestReceivedTimestamp']} "
        f"-> {(e.get('responseStatus') or {}).get('code')}"
        for e in audit_log.writes(agent(identity))
        if when(e) >= since
    ]


def exit_code(operator, timeout: float = 60.0) -> int:
    return operator.proc.wait(timeout)


def test_a_holder_with_a_skewed_clock_is_judged_by_when_its_lease_last_changed(
    kube, namespace, start_operator
):
    # Another replica holds the lease and keeps renewing it, but its clock is an
    # hour behind: every renewTime it writes looks an hour old here.
    skew = dt.timedelta(hours=1)

    def stamp() -> str:
        return (dt.datetime.now(dt.UTC) - skew).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    kube.create(
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": LEASE, "namespace": namespace},
            "spec": {
                "holderIdentity": "skewed",
                "leaseDurationSeconds": 6,
                "acquireTime": stamp(),
                "renewTime": stamp(),
            },
        }
    )
    renewing = threading.Event()
    renewing.set()

    def renew() -> None:
        while renewing.is_set():
            body = lease(kube, namespace)
            body["spec"]["renewTime"] = stamp()
            kube.replace(body)
            time.sleep(1.0)

    renewer = threading.Thread(target=renew, daemon=True)
    renewer.start()
    operator = start_operator(namespace, identity="local", wait_leading=False, **TIMING)
    try:
        # Two lease durations: a replica comparing renewTime with its own clock
        # would have taken the lease at its first attempt.
        time.sleep(12)
        assert holder(kube, namespace) == "skewed"
        assert not operator.leading()
    finally:
        renewing.clear()
        renewer.join(5)
    # The holder stops renewing: one lease duration after the record last
    # changed (as the waiting replica saw it), it takes over.
    eventually(operator.leading, timeout=30, what="took over the lease that stopped changing")
    assert holder(kube, namespace) == "local"


def test_an_api_server_pause_shorter_than_the_renew_deadline_keeps_the_leader(
    control_plane, kube, namespace, start_operator
):
    # Lease 6 s, an attempt every second, renew deadline 5 s: any outage shorter
    # than deadline - retry period (4 s), wherever it falls, is ridden out.
    operator = start_operator(
        namespace, identity="steady", extra=("--lease-renew-deadline", "5"), **TIMING
    )
    before = lease(kube, namespace)["spec"]
    pause_api_server(control_plane, 3.0)
    # It renews again once the API server answers, and keeps acting.
    eventually(
        lambda: lease(kube, namespace)["spec"]["renewTime"] != before["renewTime"],
        timeout=20,
        what="lease renewed after the pause",
    )
    assert operator.running(), operator.log
    assert operator.leading()
    after = lease(kube, namespace)["spec"]
    assert after["holderIdentity"] == "steady"
    assert after.get("leaseTransitions") == before.get("leaseTransitions")
    apply_md(kube, namespace, md_manifest(version="1"))
    eventually(
        lambda: kube.get("apps/v1", "Deployment", namespace, "churn"),
        what="the leader still reconciles",
    )
    assert "lost leadership" not in operator.log


def test_an_api_server_pause_longer_than_the_renew_deadline_hands_over_without_overlap(
    control_plane, kube, namespace, start_operator, audit_log
):
    first = start_operator(namespace, identity="pause-a", **TIMING)
    second = start_operator(namespace, identity="pause-b", wait_leading=False, **TIMING)
    apply_md(kube, namespace, md_manifest(version="1"))
    eventually(lambda: kube.get("apps/v1", "Deployment", namespace, "churn"), what="Deployment")

    pause_api_server(control_plane, 7.0)  # > the 4 s deadline and the 6 s lease
    # The first leader steps down on its own and exits as it does on losing the lease.
    assert exit_code(first) == 3, first.log
    eventually(second.leading, timeout=30, what="the standby took over")
    assert holder(kube, namespace) == "pause-b"
    since = took_lease_at(audit_log, "pause-b", namespace)
    assert writes_after(audit_log, "pause-a", since) == [], first.log
    # The new leader acts.
    apply_md(kube, namespace, md_manifest(name="second", version="2"))
    eventually(
        lambda: kube.get("apps/v1", "Deployment", namespace, "second"),
        what="the new leader reconciles",
    )


def test_a_frozen_leader_resumed_after_losing_the_lease_writes_nothing(
    kube, namespace, start_operator, audit_log
):
    first = start_operator(namespace, identity="frozen-a", resync=1.0, **TIMING)
    second = start_operator(
        namespace, identity="frozen-b", resync=1.0, wait_leading=False, **TIMING
    )
    apply_md(kube, namespace, md_manifest(version="1"))
    eventually(lambda: kube.get("apps/v1", "Deployment", namespace, "churn"), what="Deployment")

    os.killpg(first.proc.pid, signal.SIGSTOP)
    try:
        eventually(second.leading, timeout=30, what="the standby took over")
        # The world moves on under the new leader while the old one sleeps, so
        # the old one wakes up to watch events, resyncs and timers to act on.
        body = get_md(kube, namespace)
        body["spec"]["model"]["version"] = "2"
        kube.replace(body)
        apply_md(kube, namespace, md_manifest(name="second", version="5"))
        eventually(
            lambda: (
                (get_md(kube, namespace).get("status") or {}).get("stable", {}).get("version")
                == "2"
            ),
            what="the new leader rolled out version 2",
        )
        eventually(lambda: kube.get("apps/v1", "Deployment", namespace, "second"), what="second")
    finally:
        os.killpg(first.proc.pid, signal.SIGCONT)
    assert exit_code(first) == 3, first.log
    since = took_lease_at(audit_log, "frozen-b", namespace)
    assert writes_after(audit_log, "frozen-a", since) == [], first.log
    assert holder(kube, namespace) == "frozen-b"
    assert (get_md(kube, namespace)["status"]["stable"]["version"]) == "2"
