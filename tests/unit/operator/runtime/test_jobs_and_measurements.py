"""The Job memory the Job watch keeps, and drift measurements taken off the reconcile path."""

from __future__ import annotations

import threading

from modelops_operator.reconcile.plan import DriftMeasurement
from modelops_operator.retraining.state import JOB_ABSENT, JOB_ACTIVE, JOB_COMPLETE
from modelops_operator.runtime.jobs import JobMemory
from modelops_operator.runtime.measurements import DriftMeasurements


def job(name: str, condition: str | None = None) -> dict:
    conditions = [{"type": condition, "status": "True"}] if condition else []
    return {"metadata": {"namespace": "ml", "name": name}, "status": {"conditions": conditions}}


def test_the_memory_knows_nothing_before_the_list_and_absence_after_it():
    memory = JobMemory()
    assert memory.state("ml", "j1") is None, "unknown: the caller must ask the API server"
    memory.prime([job("j1")])
    assert memory.state("ml", "j1") == JOB_ACTIVE
    assert memory.state("ml", "other") == JOB_ABSENT


def test_only_a_changed_state_counts_as_a_change():
    memory = JobMemory()
    memory.prime([])
    assert memory.saw(job("j1"))
    assert not memory.saw(job("j1")), "a status update that is not a new state"
    assert memory.saw(job("j1", "Complete"))
    assert memory.state("ml", "j1") == JOB_COMPLETE
    memory.forget("ml", "j1")
    assert memory.state("ml", "j1") == JOB_ABSENT


def test_a_measurement_is_started_once_and_handed_over_after_it_finished():
    woken = threading.Event()
    release = threading.Event()
    calls: list[int] = []
    pool = DriftMeasurements(2, lambda ns, name: woken.set())

    def measure():
        calls.append(1)
        release.wait(5)
        return DriftMeasurement(version="3", report=None, error="x")

    key = ("ml", "churn")
    assert pool.take_or_start(key, "scope-a", measure) is None
    assert pool.take_or_start(key, "scope-a", measure) is None, "already running"
    release.set()
    assert woken.wait(5), "the end of a measurement wakes the object up"
    taken = pool.take_or_start(key, "scope-a", measure)
    assert taken is not None and taken.error == "x" and calls == [1]
    pool.stop()


def test_a_result_for_another_scope_is_stale_and_measured_afresh():
    woken = threading.Event()
    pool = DriftMeasurements(1, lambda ns, name: woken.set())
    key = ("ml", "churn")
    pool.take_or_start(key, "v3", lambda: DriftMeasurement("3", None, "old"))
    assert woken.wait(5)
    woken.clear()
    assert pool.take_or_start(key, "v4", lambda: DriftMeasurement("4", None, "new")) is None
    assert woken.wait(5)
    assert pool.take_or_start(key, "v4", lambda: DriftMeasurement("4", None, "x")).error == "new"
    pool.stop()
