"""Per-object wake-up timers: the latest request wins, stop cancels everything."""

from __future__ import annotations

import threading

from modelops_operator.runtime.requeue import Requeuer


def test_latest_schedule_replaces_the_earlier_one():
    fired: list[tuple[str, str]] = []
    done = threading.Event()

    def callback(namespace, name):
        fired.append((namespace, name))
        done.set()

    requeuer = Requeuer(callback)
    requeuer.schedule("ml", "churn", 30.0)
    requeuer.schedule("ml", "churn", 0.0)  # replaces the 30 s timer
    assert done.wait(5)
    assert fired == [("ml", "churn")]
    assert requeuer.pending() == 0


def test_stop_cancels_pending_and_refuses_new_timers():
    fired: list[str] = []
    requeuer = Requeuer(lambda ns, name: fired.append(name))
    requeuer.schedule("ml", "a", 30.0)
    requeuer.schedule("ml", "b", 30.0)
    assert requeuer.pending() == 2
    requeuer.stop()
    requeuer.schedule("ml", "c", 0.0)
    assert requeuer.pending() == 0
    assert fired == []
