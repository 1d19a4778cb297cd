"""The text of `modelops rollout status` and the annotation patches it sends."""

from __future__ import annotations

import pytest

from modelops_cli.rollout_view import (
    action_patch,
    new_token,
    progress_bar,
    refusal,
    render_status,
    retry_warning,
)


def body(**status):
    return {
        "metadata": {"name": "churn", "namespace": "ml"},
        "spec": {"rollout": {"strategy": "Canary", "steps": [10, 25, 50], "interval": "1m"}},
        "status": status,
    }


def test_progress_bar_marks_the_current_step():
    assert progress_bar([10, 25, 50], 1, 25, False).endswith("10% > [25%] > 50% > 100%")
    assert progress_bar([10, 25, 50], 3, 50, True).endswith("[100%]")
    bar = progress_bar([10, 25, 50], 1, 50, False)
    assert bar.count("#") == 15


def test_status_shows_canary_progress_and_checks():
    text = render_status(
        body(
            phase="Progressing",
            stable={"version": "3", "image": "img:1"},
            canary={
                "version": "4",
                "image": "img:1",
                "weight": 25,
                "step": 1,
                "failures": 1,
                "checks": [
                    {
                        "name": "error-rate",
                        "verdict": "Fail",
                        "value": 0.3,
                        "message": "0.3 > 0.01",
                    },
                    {"name": "latency-p99", "verdict": "Inconclusive", "message": "no data"},
                ],
            },
        )
    )
    assert "ml/churn: phase Progressing" in text
    assert "canary:   version 4 (image img:1), weight 25%, failures 1" in text
    assert "[25%]" in text
    assert "Fail" in text and "0.3 > 0.01" in text
    assert "no value" in text


def test_status_of_a_rejected_version_says_how_to_retry():
    text = render_status(
        body(
            phase="RolledBack",
            stable={"version": "3", "image": "i"},
            rejected={"version": "4", "image": "i", "reason": "error-rate 0.3 > max 0.01"},
        )
    )
    assert "rejected: version 4 (image i): error-rate 0.3 > max 0.01" in text
    assert "modelops rollout promote churn -n ml --yes" in text


def test_action_patch_and_tokens():
    assert action_patch("abort", "t1") == {"metadata": {"annotations": {"modelops.io/abort": "t1"}}}
    assert new_token() != new_token()
    with pytest.raises(ValueError, match="promote or abort"):
        action_patch("retrain", "t")


def md(strategy="Canary", **status):
    obj = body(**status)
    obj["spec"]["rollout"]["strategy"] = strategy
    return obj


@pytest.mark.parametrize(
    ("obj", "action", "message"),
    [
        (md("Immediate"), "promote", "uses strategy Immediate: there is no rollout to promote"),
        (md("Immediate"), "abort", "modelops rollout undo churn -n ml"),
        (md(phase="Stable"), "abort", "no canary in progress to abort (phase Stable)"),
        (md(phase="Stable"), "promote", "nothing to promote"),
        (
            md(phase="Promoting", canary={"version": "4"}),
            "abort",
            "already promoting version 4",
        ),
        (md(phase="Progressing", canary={"version": "4"}), "abort", None),
        (md(phase="Progressing", canary={"version": "4"}), "promote", None),
        (md(phase="RolledBack", rejected={"version": "4"}), "promote", None),
    ],
)
def test_refusal(obj, action, message):
    got = refusal(obj, action)
    if message is None:
        assert got is None
    else:
        assert message in got


def test_promoting_a_rejected_version_warns_it_restarts_from_step_one():
    obj = md(phase="RolledBack", rejected={"version": "4", "reason": "error-rate 0.3 > max 0.01"})
    warning = retry_warning(obj)
    assert "version 4 was rolled back (error-rate 0.3 > max 0.01)" in warning
    assert "restarts its canary from step 1 (weight 10%, steps [10, 25, 50])" in warning
    assert retry_warning(md(phase="Progressing", canary={"version": "4"})) is None
