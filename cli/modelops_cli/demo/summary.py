"""The demo's JSON summary (pure): each act's outcome and figures, and the
headline numbers of the run, computed from the timeline.

It is what `summary.json` holds and what the report's first cards show, so a
script (CI, benchmarks/real_loop.py) can check a run without parsing HTML.
"""

from __future__ import annotations

import math
from typing import Any

from modelops_cli.demo import series
from modelops_cli.demo.timeline import Timeline
from modelops_cli.demo.traffic import NO_VERSION


def summary(tl: Timeline) -> dict[str, Any]:
    return _json_safe(
        {
            "model": tl.model,
            "modeldeployment": f"{tl.namespace}/{tl.name}",
            "started_at": tl.started_at,
            "duration_seconds": round(series.end_time(tl), 1),
            "passed": bool(tl.acts) and all(a.passed is True for a in tl.acts),
            "acts": [_act(a) for a in tl.acts],
            "headline": headline(tl),
            "versions": {v: _version(meta) for v, meta in tl.versions.items()},
        }
    )


def headline(tl: Timeline) -> dict[str, Any]:
    """The numbers a newcomer looks at first."""
    requests = errors = stable_errors = unanswered = 0
    for s in tl.samples:
        for version, traffic in s.traffic.items():
            requests += traffic.requests or 0
            errors += traffic.errors or 0
            if version == NO_VERSION:
                unanswered += traffic.errors or 0
            # The stable track serves the stable version (and, while a
            # promotion rolls its pods, the version it replaces).
            if version == s.stable_version:
                stable_errors += traffic.errors or 0
    fates = series.fates(tl)
    last = tl.last
    scores = [s.drift_score for s in tl.samples if s.drift_score is not None]
    return {
        "acts_passed": sum(1 for a in tl.acts if a.passed is True),
        "acts": len(tl.acts),
        "requests": requests,
        "failed_requests": errors,
        "failed_share": errors / requests if requests else None,
        "failed_requests_stable_version": stable_errors,
        "unanswered_requests": unanswered,  # no answer naming a version: refused, reset, timed out
        "final_stable_version": last.stable_version if last else None,
        "promoted": _with_reason(fates, series.PROMOTED),
        "rolled_back": _with_reason(fates, series.ROLLED_BACK),
        "warnings": sum(1 for e in tl.events if e.type == "Warning"),
        "max_drift_score": max(scores) if scores else None,
        "retraining_jobs": sorted({s.retraining_job for s in tl.samples if s.retraining_job}),
    }


def _with_reason(fates: dict[str, list], reason: str) -> list[str]:
    return [v for v, events in fates.items() if any(e.reason == reason for e in events)]


def _act(act: Any) -> dict[str, Any]:
    return {
        "name": act.name,
        "title": act.title,
        "expected": act.expected,
        "outcome": act.outcome,
        "passed": act.passed,
        "started": act.started,
        "ended": act.ended,
        "duration_seconds": None if act.ended is None else round(act.ended - act.started, 1),
        "figures": dict(act.figures),
    }


def _version(meta: dict[str, Any]) -> dict[str, Any]:
    gates = meta.get("gates") or {}
    metrics = meta.get("metrics") or {}
    return {
        "status": meta.get("status"),
        "metrics": {k: v for k, v in metrics.items() if _is_number(v)},
        "gates_passed": all(bool((g or {}).get("passed")) for g in gates.values())
        if gates
        else None,
        "retraining_job": (meta.get("retraining") or {}).get("job"),
    }


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _json_safe(value: Any) -> Any:
    """NaN and infinity have no JSON spelling: they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value
