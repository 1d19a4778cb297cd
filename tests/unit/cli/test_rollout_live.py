"""The frames of `modelops rollout get NAME --watch` (rendered to text, no terminal)."""

from __future__ import annotations

import datetime as dt
import io

from rich.console import Console

from modelops_cli.rollout_live import frame, show

NOW = dt.datetime(2026, 12, 6, 12, 0, 5, tzinfo=dt.UTC)


def text(renderable) -> str:
    console = Console(file=io.StringIO(), width=140, force_terminal=False, color_system=None)
    console.print(renderable)
    return console.file.getvalue()


def canary_body(**status):
    return {
        "metadata": {"name": "churn", "namespace": "ml", "generation": 3},
        "spec": {"rollout": {"strategy": "Canary", "steps": [25, 50], "interval": "30s"}},
        "status": {
            "phase": "Progressing",
            "observedGeneration": 3,
            "stable": {"version": "1", "image": "churn:1", "since": "2026-12-06T11:00:00Z"},
            "previous": {"version": "0", "image": "churn:0"},
            "canary": {
                "version": "2",
                "image": "churn:1",
                "weight": 25,
                "step": 0,
                "failures": 1,
                "startedAt": "2026-12-06T11:59:00Z",
                "checks": [
                    {
                        "name": "error-rate",
                        "verdict": "Fail",
                        "value": 0.3,
                        "message": "0.3 > max 0.01",
                    },
                    {"name": "latency-p99", "verdict": "Pass", "value": 0.05, "message": "ok"},
                ],
            },
            "conditions": [
                {"type": "Ready", "status": "False", "reason": "RolloutInProgress", "message": "m"},
                {"type": "Degraded", "status": "False", "reason": "Healthy", "message": ""},
            ],
            **status,
        },
    }


def rows(shown: str, first: str) -> list[list[str]]:
    return [line.split() for line in shown.splitlines() if line.split()[:1] == [first]]


def test_a_canary_frame_shows_tracks_weights_steps_checks_and_conditions():
    shown = text(frame(canary_body(), NOW))
    assert "ml/churn  strategy Canary  phase Progressing  generation 3 (observed 3)" in shown
    assert rows(shown, "stable") == [["stable", "1", "churn:1", "75%", "2026-12-06T11:00:00Z"]]
    assert rows(shown, "canary") == [["canary", "2", "churn:1", "25%", "2026-12-06T11:59:00Z"]]
    assert rows(shown, "previous") == [["previous", "0", "churn:0", "-"]]
    assert "[25%] > 50% > 100%  every 30s, failed analyses 1" in shown
    assert rows(shown, "Fail") == [["Fail", "error-rate", "0.3", "0.3", ">", "max", "0.01"]]
    assert rows(shown, "Ready") == [["Ready", "False", "RolloutInProgress", "m"]]
    assert "updated 12:00:05 UTC; watching for changes, Ctrl-C to exit" in shown


def test_a_settled_frame_has_no_canary_or_steps():
    obj = canary_body(phase="Stable")
    del obj["status"]["canary"]
    shown = text(frame(obj, NOW))
    assert rows(shown, "stable")[0][3] == "100%"
    assert not rows(shown, "canary") and "steps:" not in shown and "last checks" not in shown


def test_a_rejected_version_is_listed_at_zero_weight():
    obj = canary_body(phase="RolledBack", rejected={"version": "2", "image": "churn:1", "at": "t"})
    del obj["status"]["canary"]
    assert rows(text(frame(obj, NOW)), "rejected") == [["rejected", "2", "churn:1", "0%", "t"]]


def test_without_a_terminal_each_event_prints_a_frame():
    console = Console(file=io.StringIO(), width=140, force_terminal=False, color_system=None)
    show([canary_body(), canary_body(phase="Promoting")], console)
    out = console.file.getvalue()
    assert out.count("ml/churn  strategy Canary") == 2
    assert out.index("phase Progressing") < out.index("phase Promoting")


def test_a_rejected_version_says_how_to_retry_or_undo_and_messages_show_once():
    obj = canary_body(phase="RolledBack", message="serving 1; 2 was rejected")
    del obj["status"]["canary"]
    obj["status"]["rejected"] = {"version": "2", "image": "churn:1"}
    obj["status"]["conditions"][0]["message"] = "serving 1; 2 was rejected"
    shown = " ".join(text(frame(obj, NOW)).split())
    assert "modelops rollout promote churn -n ml --yes" in shown
    assert "modelops rollout undo churn -n ml" in shown
    assert shown.count("serving 1; 2 was rejected") == 1
    assert "Ready False RolloutInProgress (the message above)" in shown
