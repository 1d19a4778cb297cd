"""The demo's live view: every state of a run, within 80 columns, from the recorded sample.

The sample (data/demo_timeline.json, made by data/make_demo_timeline.py) is
cut at the instants that matter, so each test sees what the live view showed
at that moment of a real run.
"""

from __future__ import annotations

import copy
import io
from pathlib import Path

import pytest
from rich.console import Console

from modelops_cli.demo.timeline import (
    Act,
    Event,
    Sample,
    Timeline,
    TrackMetrics,
    TrackTraffic,
)
from modelops_cli.demo.traffic import NO_VERSION
from modelops_cli.demo.view import render
from modelops_cli.reports.style import THRESHOLD

SAMPLE = Path(__file__).parent / "data" / "demo_timeline.json"
WIDTH = 80


@pytest.fixture(scope="module")
def run() -> Timeline:
    return Timeline.load(SAMPLE)


def until(timeline: Timeline, t: float) -> Timeline:
    """The timeline as the live view had it at second t: later records dropped,
    acts that had not ended by then still open."""
    cut = copy.deepcopy(timeline)
    cut.samples = [s for s in cut.samples if s.t <= t]
    cut.events = [e for e in cut.events if e.t <= t]
    cut.acts = [a for a in cut.acts if a.started <= t]
    for act in cut.acts:
        if act.ended is not None and act.ended > t:
            act.ended, act.outcome, act.passed, act.figures = None, None, None, {}
    return cut


def when(timeline: Timeline, reason: str, version: str | None = None) -> float:
    """The time of the first event with that reason (naming that version)."""
    for event in sorted(timeline.events, key=lambda e: e.t):
        if event.reason == reason and (version is None or f"version {version} " in event.message):
            return event.t
    raise AssertionError(f"the sample has no {reason} event for version {version}")


def screen(timeline: Timeline, now: float | None = None, width: int = WIDTH) -> str:
    """What a non-terminal console of `width` columns prints."""
    out = io.StringIO()
    Console(file=out, width=width).print(render(timeline, now=now))
    text = out.getvalue()
    too_wide = [line for line in text.splitlines() if len(line) > width]
    assert not too_wide, f"lines wider than {width} columns: {too_wide}"
    return text


# (state, the event it is measured from, version, seconds after it, what the view must show)
STATES = [
    (
        "mid-canary",
        "CanaryStepAdvanced",
        "2",
        40,
        ["Act 1 A better v2", "canary v2", "50%", "step 2/3", "error-rate", "Pass", "load gen."],
    ),
    (
        "failing analysis",
        "AnalysisFailed",
        "3",
        2,
        [
            "canary v3",
            "25%",
            "step 1/3",
            "\u2718 error-rate",
            "Fail",
            "> max 0.01",
            "AnalysisFailed",
        ],
    ),
    (
        "rolled back",
        "RolledBack",
        "3",
        3,
        ["RolledBack", "no canary", "stable v2", "100%", "of v3 at step 1", "Fail"],
    ),
    ("drifting", "DriftDetected", None, 2, ["DRIFTED", "support_tickets", "\u25cf Drifted"]),
    (
        "retraining",
        "RetrainingStarted",
        None,
        30,
        ["Running churn-retrain-5d1f0c2e-v2-1-", "candidate \u2013", "\u25cf Retraining"],
    ),
    ("candidate canary", "CanaryStepAdvanced", "4", 5, ["Succeeded", "candidate v4", "canary v4"]),
    ("promoting", "Promoting", "4", 3, ["Promoting", "promoting", "stable v4"]),
]


@pytest.mark.parametrize(
    ("state", "reason", "version", "after", "shown"), STATES, ids=[s[0] for s in STATES]
)
def test_every_state_of_the_run_fits_80_columns(run, state, reason, version, after, shown):
    t = when(run, reason, version) + after
    text = screen(until(run, t), now=t)
    missing = [s for s in shown if s not in text]
    assert not missing, f"{state}: {missing} not shown in\n{text}"


def test_finished_acts_show_their_outcome_and_mark(run):
    text = screen(run)
    for number, act in enumerate(run.acts, start=1):
        assert f"\u2714 Act {number} {act.name}:" in text
    assert "\u25b6" not in text  # no act in progress


def test_the_running_act_shows_its_elapsed_time_and_expectation(run):
    act = run.act("rollback")
    t = act.started + 65
    text = screen(until(run, t), now=t)
    assert "1:05 in act" in text
    assert "expected: v3 fails its analysis" in text
    assert "\u2714 Act 1 promote" in text


def test_the_last_six_notable_events_are_listed(run):
    t = when(run, "RolledBack", "3")
    text = screen(until(run, t), now=t)
    listed = text.split("events")[-1]
    seen = sorted((e for e in run.events if e.t <= t), key=lambda e: e.t)
    notable = [e for e in seen if e.source == "demo" or (e.object or "").startswith("ModelD")]
    for event in notable[-6:]:
        assert f"{event.reason} " in listed
    assert f"{notable[-7].reason} " not in listed
    # Pods starting and stopping are the namespace's noise, not the story.
    assert any((e.object or "").startswith("Pod/") for e in seen)
    assert "Pulled" not in listed and "Scheduled" not in listed


def test_an_empty_timeline_renders():
    empty = Timeline(started_at="2026-12-07T10:14:03Z", namespace="ml", name="churn", model="churn")
    text = screen(empty)
    assert "no act started yet" in text
    assert "waiting for the first sample" in text
    assert "none yet" in text


def test_missing_fields_everywhere_render_as_dashes():
    timeline = Timeline(started_at="", namespace="ml", name="churn", model="churn")
    timeline.samples.append(
        Sample(
            t=3.0,
            canary_version="3",
            weight=None,
            ready_pods={"stable": None},
            traffic={"2": TrackTraffic(requests=None, ok=None, errors=None)},
            metrics={"canary": TrackMetrics()},
            drift_score=0.3,
            drift_features={"plan": None},
            checks=[{"name": None, "value": None, "verdict": None, "message": None}],
            conditions={"Drifted": None},
        )
    )
    timeline.events.append(Event(t=1.0, source="demo", reason=None, message=None, type=None))
    timeline.acts += [
        Act(name="promote", title="", started=0.0, expected=""),
        Act(name="x", title=None, started=1.0, ended=2.0, expected=None, passed=False),
    ]
    text = screen(timeline)
    assert "\u2718 Act 2 x" in text
    assert "0.300 / threshold ?" in text


def test_text_from_the_cluster_is_never_read_as_rich_markup(run):
    hostile = copy.deepcopy(run)
    hostile.events.append(
        Event(t=600.0, source="operator", reason="[bold]Odd", message="[/] closes nothing [red]x")
    )
    text = screen(hostile)
    assert "[bold]Odd" in text
    assert "[/] closes nothing [red]x" in text


def test_a_console_that_is_not_a_terminal_gets_no_escape_codes(run):
    assert "\x1b[" not in screen(run)


def test_a_terminal_gets_colours(run):
    out = io.StringIO()
    Console(file=out, width=WIDTH, force_terminal=True, color_system="truecolor").print(render(run))
    assert "\x1b[" in out.getvalue()


@pytest.mark.parametrize("width", [60, 120])
def test_other_widths_render_too(run, width):
    t = when(run, "AnalysisFailed", "3") + 2
    assert "error-rate" in screen(until(run, t), now=t, width=width)


def test_requests_without_an_answer_show_as_such():
    timeline = Timeline(started_at="", namespace="ml", name="churn", model="churn")
    timeline.add(
        Sample(
            t=1.0,
            traffic={
                "2": TrackTraffic(requests=9, ok=9),
                NO_VERSION: TrackTraffic(requests=1, errors=1),
            },
        )
    )
    text = screen(timeline)
    assert "no answer" in text and "vnone" not in text


@pytest.mark.parametrize(
    ("phase", "style"),
    [
        ("Progressing", "cyan"),
        ("Promoting", "cyan"),
        ("RolledBack", THRESHOLD),
        ("Stable", THRESHOLD),
    ],
)
def test_ready_false_is_an_alarm_only_when_no_rollout_is_in_flight(phase, style):
    """Ready is False while a canary runs (the new release is not serving yet): not red then."""
    from modelops_cli.demo.view import _phase_line

    line = _phase_line(Sample(t=1.0, phase=phase, conditions={"Ready": "False"}))
    ready = next(s for s in line.spans if line.plain[s.start : s.end].endswith("Ready"))
    assert style in str(ready.style)
