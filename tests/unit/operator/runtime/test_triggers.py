"""Which ModelDeployment watch events reach the engine (handlers._trigger_of)."""

from __future__ import annotations

import copy

from modelops_operator.runtime.handlers import _trigger_of


def body() -> dict:
    return {
        "metadata": {
            "uid": "u1",
            "generation": 3,
            "labels": {"team": "ml"},
            "annotations": {"modelops.io/promote": "a"},
            "resourceVersion": "100",
        },
        "spec": {"replicas": 2},
        "status": {"phase": "Stable"},
    }


def changed(edit) -> bool:
    before = body()
    after = copy.deepcopy(before)
    edit(after)
    return _trigger_of(before) != _trigger_of(after)


def test_the_operators_own_status_write_triggers_nothing():
    def write_status(b):
        b["status"]["phase"] = "Progressing"
        b["metadata"]["resourceVersion"] = "101"

    assert not changed(write_status)


def test_a_spec_change_triggers_through_the_generation():
    assert changed(lambda b: b["metadata"].update(generation=4))


def test_a_user_action_annotation_triggers():
    assert changed(lambda b: b["metadata"]["annotations"].update({"modelops.io/promote": "b"}))


def test_labels_deletion_and_a_recreated_object_trigger():
    assert changed(lambda b: b["metadata"]["labels"].update(team="other"))
    assert changed(lambda b: b["metadata"].update(deletionTimestamp="2026-11-24T00:00:00Z"))
    assert changed(lambda b: b["metadata"].update(uid="u2"))
