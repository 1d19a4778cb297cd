"""The status patch: only what differs, nulls for what is gone, lists whole."""

from __future__ import annotations

from modelops_operator.api.status import merge_patch


def test_nothing_changed_is_no_patch():
    status = {"phase": "Stable", "stable": {"version": "3", "image": "i"}, "conditions": [{}]}
    assert merge_patch(status, dict(status)) == {}


def test_nested_keys_the_new_status_no_longer_has_become_null():
    old = {
        "retraining": {
            "job": "a",
            "finishedAt": "t",
            "candidate": {"version": "4", "gates": {"x": {}}},
        }
    }
    new = {"retraining": {"job": "b", "candidate": {"version": "5", "gates": {}}}}
    assert merge_patch(old, new) == {
        "retraining": {
            "job": "b",
            "finishedAt": None,
            "candidate": {"version": "5", "gates": {"x": None}},
        }
    }


def test_new_and_removed_fields_and_whole_lists():
    old = {"canary": {"weight": 10}, "history": [1, 2], "phase": "Progressing"}
    new = {"history": [1, 2, 3], "phase": "Progressing", "previous": {"version": "2", "image": "i"}}
    assert merge_patch(old, new) == {
        "canary": None,
        "history": [1, 2, 3],
        "previous": {"version": "2", "image": "i"},
    }
    assert merge_patch({}, {"actions": {"promote": "t"}}) == {"actions": {"promote": "t"}}
