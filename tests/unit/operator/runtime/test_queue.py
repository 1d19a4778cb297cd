"""The work queue: one entry per object, one worker per object, nothing lost while busy."""

from __future__ import annotations

import threading

from modelops_operator.runtime.queue import Workers, WorkQueue


def body(rv: str) -> dict:
    return {"metadata": {"resourceVersion": rv}}


def test_a_burst_for_one_object_is_one_entry_with_the_newest_body():
    queue = WorkQueue()
    queue.add("ml", "churn", body("5"))
    queue.add("ml", "churn", body("7"))
    queue.add("ml", "churn", body("6"))  # a late event: older than one already offered
    queue.add("ml", "churn", None)  # a timer: no body of its own
    assert len(queue) == 1
    key, work = queue.get()
    assert key == ("ml", "churn") and work.body == body("7") and not work.force


def test_objects_come_out_in_the_order_they_were_first_named():
    queue = WorkQueue()
    for name in ("a", "b", "a", "c"):
        queue.add("ml", name)
    assert [queue.get()[0][1] for _ in range(3)] == ["a", "b", "c"]


def test_an_object_named_while_busy_comes_back_once_after_done_with_force_kept():
    queue = WorkQueue()
    queue.add("ml", "churn")
    key, _ = queue.get()
    queue.add("ml", "churn", body("9"))
    queue.add("ml", "churn", force=True)
    assert len(queue) == 1, "held back: never in two workers at once"
    queue.done(key)
    again_key, work = queue.get()
    assert again_key == key and work.body == body("9") and work.force


def test_close_wakes_waiting_workers_and_refuses_new_work():
    queue = WorkQueue()
    got: list = []
    waiter = threading.Thread(target=lambda: got.append(queue.get()))
    waiter.start()
    queue.close()
    waiter.join(5)
    assert got == [None]
    queue.add("ml", "churn")
    assert len(queue) == 0


def test_workers_reconcile_and_retry_failures_later():
    queue = WorkQueue()
    seen: list[tuple[str, str, bool]] = []
    retried: list[tuple[str, str, float]] = []
    done = threading.Event()

    class Busy(Exception):
        pass

    def reconcile(namespace, name, *, body, force):
        seen.append((namespace, name, force))
        if name == "busy":
            raise Busy("409s")
        if name == "broken":
            raise RuntimeError("API server down")
        if len(seen) == 3:
            done.set()

    workers = Workers(
        queue, reconcile, lambda ns, n, d: retried.append((ns, n, d)), count=2, busy_error=Busy
    )
    workers.start()
    queue.add("ml", "busy")
    queue.add("ml", "broken")
    queue.add("ml", "ok", force=True)
    assert done.wait(5)
    workers.stop()
    assert ("ml", "ok", True) in seen
    assert sorted(retried) == [("ml", "broken", 10.0), ("ml", "busy", 2.0)]
