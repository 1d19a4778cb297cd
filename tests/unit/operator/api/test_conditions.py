"""Condition helpers and durations."""

from __future__ import annotations

import pytest

from modelops_operator.api import conditions as cond
from modelops_operator.api.durations import parse_duration


def test_set_condition_appends_new_type():
    result = cond.set_condition(
        [], "Ready", cond.Cond("False", "RollingOut", "m"), now="T1", generation=2
    )
    assert result == [
        {
            "type": "Ready",
            "status": "False",
            "reason": "RollingOut",
            "message": "m",
            "lastTransitionTime": "T1",
            "observedGeneration": 2,
        }
    ]


def test_same_status_keeps_transition_time_but_updates_reason_and_message():
    first = cond.set_condition([], "Ready", cond.Cond("False", "A", "m1"), now="T1", generation=1)
    second = cond.set_condition(
        first, "Ready", cond.Cond("False", "B", "m2"), now="T2", generation=2
    )
    assert second[0]["lastTransitionTime"] == "T1"
    assert (second[0]["reason"], second[0]["message"], second[0]["observedGeneration"]) == (
        "B",
        "m2",
        2,
    )


def test_status_flip_moves_transition_time_and_keeps_order():
    start = cond.set_condition([], "Ready", cond.Cond("False", "A", "m"), now="T1", generation=1)
    start = cond.set_condition(
        start, "Degraded", cond.Cond("False", "H", "m"), now="T1", generation=1
    )
    flipped = cond.set_condition(
        start, "Ready", cond.Cond("True", "Available", "m"), now="T2", generation=1
    )
    assert [c["type"] for c in flipped] == ["Ready", "Degraded"]
    assert flipped[0]["lastTransitionTime"] == "T2"
    assert cond.is_true(flipped, "Ready") and not cond.is_true(flipped, "Degraded")


def test_set_condition_refuses_bad_status():
    with pytest.raises(ValueError, match="True, False or Unknown"):
        cond.set_condition([], "Ready", cond.Cond("yes", "A", "m"), now="T", generation=None)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("60s", 60), ("1h30m", 5400), ("250ms", 0.25), ("1.5h", 5400), ("2m3s", 123)],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "0s", "10", "5 m", "1d", "-1s", "m5", "1h 2m"])
def test_parse_duration_refuses_with_field_name(text):
    with pytest.raises(ValueError, match=r"spec\.rollout\.interval"):
        parse_duration(text, field="spec.rollout.interval")


def test_the_constructors_name_the_status():
    assert cond.true("R", "m") == cond.Cond("True", "R", "m")
    assert cond.false("R", "m").status == "False"
    assert cond.unknown("R", "m").status == "Unknown"


def test_has_reason_reads_the_stored_condition():
    stored = cond.set_condition([], "Retraining", cond.false("X", "m"), now="T", generation=1)
    assert cond.has_reason(stored, "Retraining", "X")
    assert not cond.has_reason(stored, "Retraining", "Y")
    assert not cond.has_reason(stored, "Drifted", "X")
