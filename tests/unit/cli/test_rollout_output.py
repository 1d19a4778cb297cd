"""`-o table|wide|json|yaml` of `modelops rollout get` and `history` (pure)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import yaml

from modelops_cli.rollout_output import age, history_entries, render_get, render_history

NOW = dt.datetime(2026, 12, 6, 12, 0, 0, tzinfo=dt.UTC)


def body(**status):
    return {
        "metadata": {
            "name": "churn",
            "namespace": "ml",
            "creationTimestamp": "2026-12-06T11:00:00Z",
        },
        "spec": {
            "image": "churn:1",
            "rollout": {"strategy": "Canary", "steps": [10, 25, 50]},
        },
        "status": status,
    }


CANARY = body(
    phase="Progressing",
    stable={"version": "3", "image": "churn:1"},
    previous={"version": "2", "image": "churn:1"},
    canary={"version": "4", "image": "churn:1", "weight": 25, "step": 1},
    conditions=[{"type": "Ready", "status": "False", "reason": "RolloutInProgress"}],
    message="canary at step 2/3",
)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0s"), (119, "119s"), (120, "2m"), (7199, "119m"), (7200, "2h"), (172800, "2d")],
)
def test_age_is_kubectls_short_form(seconds, shown):
    then = (NOW - dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert age(then, NOW) == shown


def test_age_without_a_timestamp():
    assert age(None, NOW) == "<unknown>"


def test_table_is_one_aligned_row_per_object():
    settled = body(phase="Stable", stable={"version": "3", "image": "churn:1"})
    settled["metadata"]["name"] = "learning-path"
    text = render_get([CANARY, settled], "table", NOW, single=False)
    lines = text.splitlines()
    assert lines[0].split() == [
        "NAME",
        "STRATEGY",
        "PHASE",
        "STABLE",
        "CANARY",
        "WEIGHT",
        "READY",
        "AGE",
    ]
    assert lines[1].split() == ["churn", "Canary", "Progressing", "3", "4", "25%", "False", "60m"]
    assert lines[2].split() == [
        "learning-path",
        "Canary",
        "Stable",
        "3",
        "-",
        "-",
        "Unknown",
        "60m",
    ]
    # Columns line up: every row starts its STRATEGY cell where the header does.
    column = lines[0].index("STRATEGY")
    assert all(line[column - 1] == " " and line[column] != " " for line in lines)


def test_wide_adds_step_previous_rejected_image_and_message():
    header, row = render_get([CANARY], "wide", NOW, single=True).splitlines()
    assert header.split()[8:] == ["STEP", "PREVIOUS", "REJECTED", "IMAGE", "MESSAGE"]
    assert row.split()[8:] == ["2/3", "2", "-", "churn:1", "canary", "at", "step", "2/3"]


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_json_and_yaml_are_the_object_or_a_list(fmt):
    load = json.loads if fmt == "json" else yaml.safe_load
    assert load(render_get([CANARY], fmt, NOW, single=True)) == CANARY
    listed = load(render_get([CANARY, CANARY], fmt, NOW, single=False))
    assert listed["kind"] == "List" and listed["items"] == [CANARY, CANARY]


HISTORY = body(
    history=[
        {"version": "1", "image": "i:1", "outcome": "Deployed", "reason": "Created", "time": "t1"},
        {
            "version": "2",
            "image": "i:1",
            "outcome": "RolledBack",
            "reason": "error-rate",
            "time": "t2",
        },
        {"version": "3", "image": "i:2", "outcome": "Promoted", "reason": "", "time": "t3"},
    ]
)


def test_history_is_newest_first():
    assert [e["version"] for e in history_entries(HISTORY)] == ["3", "2", "1"]
    lines = render_history(HISTORY, "table").splitlines()
    assert lines[0].split() == ["TIME", "VERSION", "OUTCOME", "REASON"]
    assert [line.split() for line in lines[1:]] == [
        ["t3", "3", "Promoted", "-"],
        ["t2", "2", "RolledBack", "error-rate"],
        ["t1", "1", "Deployed", "Created"],
    ]
    assert render_history(HISTORY, "wide").splitlines()[1].split()[-1] == "i:2"
    assert json.loads(render_history(HISTORY, "json"))[0]["version"] == "3"


def test_no_history_says_so():
    assert render_history(body(), "table") == "No rollout history for ml/churn yet."
    assert yaml.safe_load(render_history(body(), "yaml")) == []


def test_managed_fields_are_left_out_as_kubectl_does():
    managed = {**CANARY, "metadata": {**CANARY["metadata"], "managedFields": [{"manager": "x"}]}}
    assert json.loads(render_get([managed], "json", NOW, single=True)) == CANARY
