"""The Job memory's view of the record finalizer (retraining/record.py): which Jobs it
still holds for a ModelDeployment, that a delete of a held Job counts as a change, and
what a release leaves in memory."""

from __future__ import annotations

from modelops_operator.retraining.record import FINALIZER
from modelops_operator.retraining.state import JOB_ACTIVE, JOB_LOST
from modelops_operator.runtime.jobs import JobMemory, release


def job(name: str, md: str = "churn", uid: str = "md-1", *, held=True, deleting=False) -> dict:
    metadata = {
        "namespace": "ml",
        "name": name,
        "uid": f"job-{name}",
        "ownerReferences": [
            {"kind": "ModelDeployment", "name": md, "uid": uid, "controller": True}
        ],
        "finalizers": [FINALIZER] if held else [],
    }
    if deleting:
        metadata["deletionTimestamp"] = "2026-01-01T12:00:00Z"
    return {"metadata": metadata, "status": {}}


def test_held_for_lists_the_held_jobs_of_that_name_whatever_the_uid() -> None:
    memory = JobMemory()
    memory.prime(
        [
            job("a"),
            job("b", held=False),  # recorded and released
            job("c", uid="md-0"),  # a same-named predecessor's
            job("d", md="other"),
        ]
    )
    held = {name: rec.controller["uid"] for name, rec in memory.held_for("ml", "churn")}
    assert held == {"a": "md-1", "c": "md-0"}
    assert memory.held_for("elsewhere", "churn") == []


def test_a_delete_held_by_the_finalizer_is_a_change() -> None:
    memory = JobMemory()
    assert memory.saw(job("a"))
    assert not memory.saw(job("a"))  # the same again
    assert memory.saw(job("a", deleting=True))  # kubectl delete: Terminating
    record = memory.record("ml", "a")
    assert record is not None and record.held and record.deleting
    assert not memory.saw(job("a", held=False, deleting=True))  # released: same state
    assert not memory.record("ml", "a").held


class Answers:
    """The API server's answer to the release patch (the Job as it is afterwards)."""

    def __init__(self, answer: dict) -> None:
        self.answer = answer

    def request(self, method, path, **_):
        assert method == "PATCH" and path.endswith("/jobs/a")
        return self.answer


def test_releasing_a_deleted_job_leaves_a_tombstone_even_after_the_watch_said_deleted() -> None:
    memory = JobMemory()
    memory.saw(job("a", deleting=True))
    memory.forget("ml", "a")  # the watch's DELETED arrived before the patch's answer
    release(Answers(job("a", held=False, deleting=True)), memory, "ml", "a")
    assert memory.state("ml", "a") == JOB_LOST


def test_releasing_a_running_job_keeps_it() -> None:
    memory = JobMemory()
    memory.saw(job("a"))
    release(Answers(job("a", held=False)), memory, "ml", "a")
    record = memory.record("ml", "a")
    assert record is not None and record.state == JOB_ACTIVE and not record.held
