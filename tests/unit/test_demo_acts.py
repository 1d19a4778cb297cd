"""How the demo's acts judge what the operator did, on scripted cluster states.

The stage here replays a script of states instead of a cluster: these tests
pin the judging (pass/fail, figures, timeouts), not the operator, which the
node tests exercise for real.
"""

from __future__ import annotations

import itertools

import pytest

from modelops_cli.demo.acts import ActFailed, Director, Timing
from modelops_cli.demo.timeline import Event, Sample, Timeline, TrackTraffic


class ScriptedStage:
    """Each sample() returns the next state of the script (the last one repeats)."""

    def __init__(self, script):
        self.script = script
        self.position = 0
        self.published = itertools.count(2)
        self.shift = 0.0

    def publish(self, *, seed, shift=0.0):
        return {
            "model": "churn",
            "version": str(next(self.published)),
            "status": "approved",
            "metrics": {"auc": 0.8},
        }

    def set_traffic_shift(self, shift):
        self.shift = shift

    def sample(self, t, act):
        state = self.script[min(self.position, len(self.script) - 1)]
        self.position += 1
        return Sample(t=t, act=act, **state)

    def events(self, t):
        return []


def ok(version, n=10):
    return {version: TrackTraffic(requests=n, ok=n)}


def director(script, interval=0.05):
    timeline = Timeline(
        started_at="2026-12-05T00:00:00Z", namespace="ml", name="churn", model="churn"
    )
    timing = Timing(interval=interval, steps=2, slack=15.0, drift=15.0, retraining=15.0)
    return Director(ScriptedStage(script), timeline, timing, poll=0.01).start()


def test_promote_passes_and_records_steps_and_shares():
    script = [
        {"phase": "Stable", "stable_version": "1", "traffic": ok("1")},
        {
            "phase": "Progressing",
            "stable_version": "1",
            "canary_version": "2",
            "weight": 25,
            "traffic": {**ok("1", 15), **ok("2", 5)},
        },
        {
            "phase": "Progressing",
            "stable_version": "1",
            "canary_version": "2",
            "weight": 25,
            "traffic": {**ok("1", 15), **ok("2", 5)},
        },
        {
            "phase": "Progressing",
            "stable_version": "1",
            "canary_version": "2",
            "weight": 50,
            "traffic": {**ok("1", 10), **ok("2", 10)},
        },
        {
            "phase": "Progressing",
            "stable_version": "1",
            "canary_version": "2",
            "weight": 50,
            "traffic": {**ok("1", 10), **ok("2", 10)},
        },
        {"phase": "Stable", "stable_version": "2", "traffic": ok("2")},
    ]
    d = director(script)
    try:
        act = d.play_promote("1")
    finally:
        d.stop()
    assert act.passed, act.figures
    assert [step["weight"] for step in act.figures["steps"]] == [25, 50]
    assert act.figures["weight_vs_served"] == [
        {"weight": 25, "served_percent": 25.0},
        {"weight": 50, "served_percent": 50.0},
    ]
    assert act.figures["stable_errors"] == 0 and act.figures["canary_requests"] == 40


def test_promote_fails_when_the_stable_track_fails_requests():
    bad = {"1": TrackTraffic(requests=10, ok=9, errors=1)}
    script = [
        {
            "phase": "Progressing",
            "stable_version": "1",
            "canary_version": "2",
            "weight": 25,
            "traffic": bad,
        },
        {"phase": "Stable", "stable_version": "2", "traffic": ok("2")},
    ]
    d = director(script)
    try:
        act = d.play_promote("1")
    finally:
        d.stop()
    assert not act.passed and act.figures["stable_errors"] == 1


def test_an_operator_that_never_acts_fails_the_act_with_the_last_state():
    d = director([{"phase": "Stable", "stable_version": "1", "traffic": ok("1")}], interval=0.0)
    d.timing = Timing(interval=0.0, steps=0, slack=0.3, drift=0.3, retraining=0.3)
    try:
        with pytest.raises(ActFailed, match="Drifted=True; last seen: phase Stable, stable 1"):
            d.play_drift("1", shift=1.0)
    finally:
        d.stop()
    assert d.stage.shift == 1.0  # the world moved; the operator did not


def test_a_failed_act_says_which_checks_failed_and_which_warnings_came():
    def check(verdict, message, step=1):
        return {
            "name": "latency-p99",
            "verdict": verdict,
            "message": message,
            "step": step,
            "measuredAt": "2026-12-05T00:00:10Z",
        }

    canary = {"phase": "Progressing", "stable_version": "2", "canary_version": "4", "weight": 25}
    script = [
        {**canary, "checks": [check("Pass", "latency-p99 0.01 <= max 0.5")]},
        {**canary, "checks": [check("Fail", "latency-p99 0.9 > max 0.5")]},
        {**canary, "checks": [check("Fail", "latency-p99 0.9 > max 0.5")]},  # same analysis
        {
            "phase": "RolledBack",
            "stable_version": "2",
            "weight": 0,
            "checks": [check("Fail", "latency-p99 0.7 > max 0.5", step=2)],
        },
    ]
    d = director(script, interval=0.0)
    d.stage.events = lambda t: (
        [
            Event(
                t=t,
                source="operator",
                reason="RolledBack",
                message="v4 rolled back",
                type="Warning",
                object="ModelDeployment/churn",
            )
        ]
        if d.stage.position == 4
        else []
    )
    try:
        with pytest.raises(ActFailed) as failed:
            d.wait(lambda s: s.stable_version == "4", 0.5, "candidate v4 promoted", since=0.0)
    finally:
        d.stop()
    lines = str(failed.value).splitlines()
    assert lines[0].startswith("waited 0 s for candidate v4 promoted; last seen: phase RolledBack")
    assert lines[1:] == [
        "  analysis: v4 step 1 at 2026-12-05T00:00:10Z: Fail latency-p99 0.9 > max 0.5",
        "  analysis: the canary step 2 at 2026-12-05T00:00:10Z: Fail latency-p99 0.7 > max 0.5",
        "  warning: ModelDeployment/churn RolledBack: v4 rolled back",
    ]


def test_rollback_counts_intervals_from_the_first_canary_error():
    failing = {**ok("2", 15), "3": TrackTraffic(requests=5, ok=3, errors=2)}
    script = [
        {
            "phase": "Progressing",
            "stable_version": "2",
            "canary_version": "3",
            "weight": 25,
            "traffic": ok("2"),
        },
        {
            "phase": "Progressing",
            "stable_version": "2",
            "canary_version": "3",
            "weight": 25,
            "traffic": failing,
        },
        {
            "phase": "Progressing",
            "stable_version": "2",
            "canary_version": "3",
            "weight": 25,
            "traffic": failing,
        },
        {
            "phase": "RolledBack",
            "stable_version": "2",
            "canary_version": "3",
            "weight": 0,
            "traffic": ok("2"),
        },
    ]
    d = director(script, interval=0.05)
    d.stage.published = itertools.count(3)
    try:
        act = d.play_rollback("2")
    finally:
        d.stop()
    assert act.passed, act.figures
    assert act.figures["canary_errors"] == 4 and act.figures["stable_errors"] == 0
    assert act.figures["retried_while_rejected"] is False
    assert act.figures["first_error_to_weight_0_seconds"] >= 0
