"""How the Job memory reads a retraining Job for one ModelDeployment: its own, or a stranger's."""

from __future__ import annotations

from modelops_operator.retraining.state import (
    JOB_ABSENT,
    JOB_ACTIVE,
    JOB_COMPLETE,
    JOB_FOREIGN,
    JOB_LOST,
    JOB_REJECTED,
)
from modelops_operator.runtime.jobs import JobMemory

OURS, OLD = "uid-new", "uid-old"


def job(
    name: str,
    controller: str | None,
    condition: str | None = None,
    rv: str | None = None,
    labelled: bool = True,
) -> dict:
    refs = (
        [{"kind": "ModelDeployment", "name": "churn", "uid": controller, "controller": True}]
        if controller
        else []
    )
    conditions = [{"type": condition, "status": "True"}] if condition else []
    return {
        "metadata": {
            "namespace": "ml",
            "name": name,
            "uid": f"job-{name}",
            "ownerReferences": refs,
            # What the relist and the Job watch select on (Engine.prime).
            "labels": {"app.kubernetes.io/managed-by": "modelops"} if labelled else {},
            **({"resourceVersion": rv} if rv else {}),
        },
        "status": {"conditions": conditions},
    }


def seen(memory: JobMemory, name: str) -> tuple:
    record = memory.record("ml", name)
    assert record is not None
    return record.seen_by(OURS)


def test_our_job_is_read_with_its_uid():
    memory = JobMemory()
    memory.prime([job("j1", OURS), job("j2", OURS, "Complete")])
    assert seen(memory, "j1") == (JOB_ACTIVE, "job-j1", "")
    assert seen(memory, "j2") == (JOB_COMPLETE, "job-j2", "")


def test_a_job_controlled_by_another_uid_or_by_nothing_is_foreign():
    memory = JobMemory()
    # The same name, left behind by a deleted ModelDeployment (with or without its ownerReference).
    memory.prime([job("old", OLD, "Complete"), job("orphan", None, "Complete")])
    state, uid, note = seen(memory, "old")
    assert (state, uid) == (JOB_FOREIGN, None) and "uid uid-old" in note
    state, uid, note = seen(memory, "orphan")
    assert (state, uid) == (JOB_FOREIGN, None) and "no controller" in note


def test_a_refused_create_is_remembered_with_the_servers_message():
    memory = JobMemory()
    memory.prime([])
    assert seen(memory, "j1") == (JOB_ABSENT, None, "")
    memory.refused("ml", "j1", "spec.template.spec.containers: Required value")
    assert seen(memory, "j1") == (
        JOB_REJECTED,
        None,
        "spec.template.spec.containers: Required value",
    )


def test_a_new_uid_under_the_same_name_is_a_change():
    memory = JobMemory()
    memory.prime([job("j1", OURS)])
    replaced = job("j1", OURS)
    replaced["metadata"]["uid"] = "job-j1-again"
    assert memory.saw(replaced)


def test_a_deleted_job_of_ours_stays_lost_and_a_strangers_frees_the_name():
    memory = JobMemory()
    memory.prime([job("ours", OURS), job("theirs", OLD)])
    memory.forget("ml", "ours")
    memory.forget("ml", "theirs")
    # Lost even before status recorded its uid: never created again.
    assert seen(memory, "ours") == (JOB_LOST, "job-ours", "")
    assert seen(memory, "theirs") == (JOB_ABSENT, None, "")
    # A Job of that name seen again replaces the tombstone.
    assert memory.saw(job("ours", OURS))
    assert seen(memory, "ours") == (JOB_ACTIVE, "job-ours", "")


def test_a_relist_sees_the_completion_and_the_deletion_the_watch_missed():
    memory = JobMemory()
    memory.prime([job("done", OURS, rv="10"), job("deleted", OURS, rv="11")], "11")
    corrected = memory.prime([job("done", OURS, "Complete", rv="20")], "30")
    assert corrected == 2
    assert seen(memory, "done") == (JOB_COMPLETE, "job-done", "")
    # Deleted unseen: Lost, as the watch's DELETED event would have left it.
    assert seen(memory, "deleted") == (JOB_LOST, "job-deleted", "")


def test_a_relist_keeps_a_job_created_after_it_and_newer_states():
    memory = JobMemory()
    memory.prime([job("running", OURS, rv="10")], "10")
    memory.saw(job("running", OURS, "Complete", rv="25"))
    memory.saw(job("created", OURS, rv="22"))  # the answer to our create
    assert memory.prime([job("running", OURS, rv="10")], "20") == 0
    assert seen(memory, "running") == (JOB_COMPLETE, "job-running", "")
    assert seen(memory, "created") == (JOB_ACTIVE, "job-created", "")


def test_a_list_served_before_a_deletion_does_not_revive_the_job():
    memory = JobMemory()
    memory.prime([job("ours", OURS, rv="10")], "10")
    memory.forget("ml", "ours", "15")  # the watch's DELETED event
    memory.prime([job("ours", OURS, rv="10")], "12")
    assert seen(memory, "ours") == (JOB_LOST, "job-ours", "")
    # A new Job of that name (a newer version) replaces the tombstone.
    assert memory.saw(job("ours", OURS, rv="16"))
    assert seen(memory, "ours") == (JOB_ACTIVE, "job-ours", "")


def test_a_late_watch_event_does_not_undo_a_newer_answer():
    memory = JobMemory()
    memory.saw(job("ours", OURS, "Complete", rv="30"))
    assert memory.saw(job("ours", OURS, rv="20")) is False
    assert seen(memory, "ours") == (JOB_COMPLETE, "job-ours", "")


def test_a_strangers_unlabelled_job_is_not_judged_deleted_by_a_relist():
    # Known only from the GET after our create's 409: no list can show it, so
    # missing from one says nothing. Judged deleted, it became a tombstone that
    # hid it (seen as an absent name), and every pass created the name again.
    memory = JobMemory()
    memory.prime([], "5")
    memory.saw(job("taken", None, rv="10", labelled=False))
    assert seen(memory, "taken")[0] == JOB_FOREIGN
    assert memory.prime([], "20") == 0
    assert seen(memory, "taken")[0] == JOB_FOREIGN
    # The same answer again (the next 409's GET) still reads as the stranger's.
    memory.saw(job("taken", None, rv="10", labelled=False))
    assert seen(memory, "taken")[0] == JOB_FOREIGN
