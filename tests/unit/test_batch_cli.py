"""`modelops batch`: what it refuses, follows and shows (pure parts, table-tested)."""

from __future__ import annotations

import json

import pytest

from modelops_cli import batch_view

BODY = {
    "metadata": {"name": "churn", "namespace": "ml"},
    "spec": {"batch": {"data": "d", "out": "o"}},
}


def with_run(**run) -> dict:
    return {**BODY, "status": {"batch": {"lastRun": run}}}


def test_an_object_without_spec_batch_is_refused_naming_what_to_add():
    message = batch_view.refusal({**BODY, "spec": {}})
    assert message is not None and "ml/churn has no spec.batch" in message
    assert batch_view.refusal(BODY) is None


@pytest.mark.parametrize(
    ("run", "code"),
    [
        ({"request": "t1", "state": "Running"}, None),
        ({"request": "t1", "state": "Succeeded"}, batch_view.SUCCEEDED),
        ({"request": "t1", "state": "Failed"}, batch_view.FAILED),
        ({"request": "t1", "state": "Lost"}, batch_view.ERROR),
        ({"request": "t1", "state": "Refused"}, batch_view.ERROR),
    ],
)
def test_wait_follows_the_run_of_its_own_request(run, code):
    found = batch_view.run_of(with_run(**run), "t1")
    assert found is not None and batch_view.exit_code(found) == code
    # An earlier run (another request) is not the one asked for.
    assert batch_view.run_of(with_run(**{**run, "request": "t0"}), "t1") is None


def test_the_run_shows_its_numbers_as_text_and_json():
    run = {"job": "churn-batch-1", "state": "Succeeded", "rows": 200000, "rejects": 3, "shards": 2}
    text = batch_view.render_run(run, "table")
    assert "rows      200,000" in text and "shards    2" in text
    assert json.loads(batch_view.render_run(run, "json")) == run
    status = batch_view.render_status(with_run(**run), "table")
    assert "last run:" in status and "churn-batch-1" in status
    assert "none yet" in batch_view.render_status(BODY, "table")


def test_status_shows_the_last_scheduled_run_apart_from_the_once_run():
    scheduled = {"job": "churn-batch-1f2e3d4c-ab12cd34-29437560", "trigger": "Schedule",
                 "state": "Failed", "version": "3", "rows": 1000, "rejects": 300,
                 "startedAt": "2026-12-06T02:00:00Z", "finishedAt": "2026-12-06T02:02:30Z",
                 "durationSeconds": 150.0, "message": "batch Job ... failed"}  # fmt: skip
    body = {**BODY, "spec": {"batch": {**BODY["spec"]["batch"], "schedule": "0 2 * * *"}},
            "status": {"batch": {"lastScheduledRun": scheduled}}}  # fmt: skip
    text = batch_view.render_status(body, "table")
    once, _, later = text.partition("last scheduled run:")
    assert "last run: none yet" in once
    assert "churn-batch-1f2e3d4c-ab12cd34-29437560" in later and "state     Failed" in later
    assert "finished  2026-12-06T02:02:30Z" in later and "rejects   300" in later
    assert json.loads(batch_view.render_status(body, "json"))["lastScheduledRun"] == scheduled
    waiting = {**body, "status": {}}
    assert "last scheduled run: none yet" in batch_view.render_status(waiting, "table")
