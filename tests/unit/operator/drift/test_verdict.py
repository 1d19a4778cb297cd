"""What a drift report means: verdicts, status.drift, the Drifted condition, when to measure (drift/verdict.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from modelops_operator.api.spec import Spec
from modelops_operator.drift import verdict as dc
from modelops_operator.drift.counts import BucketSamples, measure
from tests.unit.operator.drift.data import PROFILE, SPEC

NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


def settings():
    s = Spec(SPEC).drift
    assert s is not None
    return s


def cumulative(feature: str, edges: list[str], counts: list[float]):
    total = 0.0
    for le, c in zip([*edges, "+Inf"], counts, strict=True):
        total += c
        yield ({"feature": feature, "le": le}, total)


def samples(numeric=(), categorical=(), prediction=()) -> BucketSamples:
    return BucketSamples(tuple(numeric), tuple(categorical), tuple(prediction))


def test_verdicts() -> None:
    s = settings()
    same = samples(list(cumulative("tenure", ["1", "5", "10"], [50, 50, 50, 50])))
    shifted = samples(list(cumulative("tenure", ["1", "5", "10"], [0, 0, 10, 190])))
    few = samples(list(cumulative("tenure", ["1", "5", "10"], [0, 0, 0, 20])))
    assert dc.verdict(measure(PROFILE, same, s), s) == dc.NOT_DRIFTED
    assert dc.verdict(measure(PROFILE, shifted, s), s) == dc.DRIFTED
    # Strong drift on 20 requests is still only insufficient data.
    assert dc.verdict(measure(PROFILE, few, s), s) == dc.INSUFFICIENT
    assert dc.verdict(None, s) == dc.UNKNOWN


def test_status_and_condition_name_the_top_features() -> None:
    s = settings()
    obs = samples(
        cumulative("tenure", ["1", "5", "10"], [0, 0, 10, 190]),
        [
            ({"feature": "plan", "value": "basic"}, 100.0),
            ({"feature": "plan", "value": "premium"}, 100.0),
        ],
        [({"le": "0.5"}, 20.0), ({"le": "+Inf"}, 200.0)],
    )
    report = measure(PROFILE, obs, s)
    status = dc.drift_status(report, "3", NOW)
    assert status["version"] == "3" and status["measuredAt"] == "2026-01-01T12:00:00Z"
    assert status["samples"] == 200 and status["insufficient"] is False
    assert set(status["features"]) == {"tenure", "plan"}
    assert status["features"]["plan"] == 0.0
    assert status["score"] == status["features"]["tenure"] > 0.2
    assert status["prediction"] > 0.2
    cstatus, reason, message = dc.drifted_condition(dc.DRIFTED, report, s)
    assert (cstatus, reason) == ("True", "DriftDetected")
    assert message.index("tenure=") < message.index("plan=")
    assert "prediction" in message


def test_insufficient_and_unknown_conditions() -> None:
    s = settings()
    obs = samples(list(cumulative("tenure", ["1", "5", "10"], [0, 0, 0, 5])))
    report = measure(PROFILE, obs, s)
    assert dc.drifted_condition(dc.INSUFFICIENT, report, s)[:2] == ("Unknown", "InsufficientData")
    assert dc.drifted_condition(dc.UNKNOWN, None, s, "Prometheus down")[1:] == (
        "DriftUnknown",
        "Prometheus down",
    )


@pytest.mark.parametrize(
    ("old", "version", "expected"),
    [
        (None, "3", True),
        ({"version": "3", "measuredAt": "2026-01-01T11:56:00Z"}, "3", False),
        ({"version": "3", "measuredAt": "2026-01-01T11:55:00Z"}, "3", True),
        ({"version": "2", "measuredAt": "2026-01-01T11:59:00Z"}, "3", True),
        ({"version": "3", "measuredAt": "garbage"}, "3", True),
    ],
)
def test_due(old, version, expected) -> None:
    assert dc.due(old, version, settings(), NOW) is expected


def cond(status: str, reason: str = "R") -> dict:
    return {"type": "Drifted", "status": status, "reason": reason, "message": "m"}


def test_flip_events_only_on_status_changes() -> None:
    def flip(old, new):
        return [(e.type, e.reason, e.message) for e in dc.flip_events(old, new)]

    assert flip([], [cond("True", "DriftDetected")]) == [("Warning", "DriftDetected", "m")]
    assert flip([cond("True")], [cond("True")]) == []
    assert flip([cond("True")], [cond("False", "NoDrift")]) == [("Normal", "DriftCleared", "m")]
    assert flip([], [cond("Unknown", "InsufficientData")]) == []
    assert flip([cond("False")], [cond("Unknown")]) == []


@pytest.mark.parametrize(
    ("old", "expected"),
    [
        (None, dc.UNKNOWN),
        ({"insufficient": True, "score": 0.9}, dc.INSUFFICIENT),
        ({"insufficient": False, "score": 0.9}, dc.DRIFTED),
        ({"insufficient": False, "score": 0.1}, dc.NOT_DRIFTED),
    ],
)
def test_the_last_verdict_reads_back_from_status(old, expected) -> None:
    assert dc.last_verdict(old, settings()) == expected


def test_the_next_measurement_is_due_one_interval_after_the_last() -> None:
    assert dc.next_due_in({"measuredAt": "2026-01-01T11:58:00Z"}, settings(), NOW) == 180.0
    assert dc.next_due_in({"measuredAt": "2026-01-01T11:50:00Z"}, settings(), NOW) == 0.0
    assert dc.next_due_in(None, settings(), NOW) is None
