"""Unit tests of the drift pass' pure helpers (merge-patch shape, flip events, skipping)."""

from __future__ import annotations

from modelops_operator.runtime.drift_pass import DriftPass, _drift_flip, replacing


def cond(status: str, reason: str = "R") -> dict:
    return {"type": "Drifted", "status": status, "reason": reason, "message": "m"}


def test_replacing_nulls_keys_the_new_value_no_longer_has() -> None:
    old = {"job": "a", "finishedAt": "t", "candidate": {"version": "4", "gates": {"x": {}}}}
    new = {"job": "b", "candidate": {"version": "5", "gates": {}}}
    assert replacing(old, new) == {
        "job": "b",
        "finishedAt": None,
        "candidate": {"version": "5", "gates": {"x": None}},
    }
    assert replacing(None, {"a": 1}) == {"a": 1}


def test_drift_flip_events_only_on_status_changes() -> None:
    assert _drift_flip([], [cond("True", "DriftDetected")]) == [("Warning", "DriftDetected", "m")]
    assert _drift_flip([cond("True")], [cond("True")]) == []
    assert _drift_flip([cond("True")], [cond("False", "NoDrift")]) == [
        ("Normal", "DriftCleared", "m")
    ]
    assert _drift_flip([], [cond("Unknown", "InsufficientData")]) == []
    assert _drift_flip([cond("False")], [cond("Unknown")]) == []


def test_objects_without_drift_or_retraining_are_skipped_without_a_read() -> None:
    class NoKube:
        def get_model_deployment(self, *_):
            raise AssertionError("must not be read")

    DriftPass(kube=NoKube()).run("ml", "x", listed={"spec": {"model": {}}})
    assert DriftPass.wanted({"spec": {"retraining": {"jobTemplate": {}}}})
    # An empty drift object means "drift with the defaults".
    assert DriftPass.wanted({"spec": {"monitoring": {"drift": {}}}})
    assert not DriftPass.wanted({"spec": {"monitoring": {}}})
