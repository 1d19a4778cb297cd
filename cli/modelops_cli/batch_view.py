"""What `modelops batch` shows and decides, from a ModelDeployment body (pure, unit-tested).

`batch status` shows the last once-run (status.batch.lastRun) and, apart, the last run
the schedule's CronJob started (status.batch.lastScheduledRun).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from modelops_operator.api import names

ENDED = ("Succeeded", "Failed", "Lost", "NotOwned", "Rejected", "Refused")
# `modelops batch run --wait` exit codes, as `rollout status --wait` spells them.
SUCCEEDED, ERROR, FAILED, TIMED_OUT = 0, 1, 3, 5


def refusal(body: Mapping[str, Any]) -> str | None:
    """Why a run cannot be asked for on this object, or None."""
    meta = body["metadata"]
    if not (body.get("spec") or {}).get("batch"):
        return (
            f"{meta['namespace']}/{meta['name']} has no spec.batch: add data, out and a "
            "jobTemplate (docs/batch-scoring.md) before asking for a run"
        )
    return None


def run_patch(token: str) -> dict[str, Any]:
    return {"metadata": {"annotations": {names.ANNOTATION_BATCH_RUN: token}}}


def run_of(body: Mapping[str, Any], token: str) -> Mapping[str, Any] | None:
    """status.batch.lastRun once it is the run asked for with `token`."""
    last = ((body.get("status") or {}).get("batch") or {}).get("lastRun") or {}
    return last if last.get("request") == token else None


def exit_code(run: Mapping[str, Any]) -> int | None:
    """The --wait exit code of an ended run; None while it goes."""
    state = run.get("state")
    if state not in ENDED:
        return None
    return {"Succeeded": SUCCEEDED, "Failed": FAILED}.get(state, ERROR)


FIELDS = (
    ("job", "job"),
    ("state", "state"),
    ("version", "version"),
    ("trigger", "trigger"),
    ("startedAt", "started"),
    ("finishedAt", "finished"),
    ("durationSeconds", "seconds"),
    ("shards", "shards"),
    ("rows", "rows"),
    ("scored", "scored"),
    ("rejects", "rejects"),
    ("output", "output"),
    ("message", "message"),
)


def render_run(run: Mapping[str, Any], output: str) -> str:
    if output == "json":
        return json.dumps(dict(run), sort_keys=True)
    rows = []
    for key, label in FIELDS:
        value = run.get(key)
        if value is None or value == "":
            continue
        shown = f"{value:,}" if isinstance(value, int) and key != "shards" else str(value)
        rows.append(f"{label:<9} {shown}")
    return "\n".join(rows)


def render_status(body: Mapping[str, Any], output: str) -> str:
    batch = (body.get("status") or {}).get("batch") or {}
    if output == "json":
        return json.dumps(batch, sort_keys=True)
    spec = (body.get("spec") or {}).get("batch") or {}
    lines = [
        f"data      {spec.get('data', '-')}",
        f"out       {spec.get('out', '-')}",
        f"shards    {spec.get('shards', 1)}",
    ]
    schedule = batch.get("schedule") or {}
    if spec.get("schedule"):
        pinned = schedule.get("version", "- (no stable version yet)")
        lines.append(
            f"schedule  {spec['schedule']} (CronJob {schedule.get('cronJob', '-')}, version {pinned})"
        )
    last = batch.get("lastRun")
    lines.append("last run:" if last else "last run: none yet (`modelops batch run NAME`)")
    if last:
        lines.extend("  " + line for line in render_run(last, "table").splitlines())
    # The CronJob's runs are followed apart from the once-runs (status.batch.lastScheduledRun).
    scheduled = batch.get("lastScheduledRun")
    if scheduled:
        lines.append("last scheduled run:")
        lines.extend("  " + line for line in render_run(scheduled, "table").splitlines())
    elif spec.get("schedule"):
        lines.append("last scheduled run: none yet (the CronJob has not started one)")
    return "\n".join(lines)
