"""The report's "Model versions" section: one card per version in the registry.

A card answers what a reviewer asks of a model version: was it approved, on
which held-out numbers, which gate said what (value, threshold, verdict),
what made it (the demo, or a retraining Job and the drift it was handed), and
what the operator did with it in traffic. The metadata is the registry's
metadata.json as recorded; unknown keys are ignored and missing ones shown as
a dash.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from modelops_cli.demo import series
from modelops_cli.demo.timeline import Timeline
from modelops_cli.reports.html import (
    DASH,
    Html,
    badge,
    block,
    clock,
    columns,
    element,
    join,
    number,
    paragraph,
    table,
    verdict_badge,
)
from modelops_cli.reports.style import version_key

# Held-out metrics in the order a reader compares them; others follow by name.
METRIC_ORDER = ("auc", "accuracy", "logloss", "ece", "baseline_auc", "fairness_gap")
FATE_BADGES = {
    series.PROMOTED: ("promoted", "ok"),
    series.ROLLED_BACK: ("rolled back", "fail"),
    series.CANARY_STARTED: ("canaried", "info"),
}


def versions_section(tl: Timeline) -> Html:
    versions = sorted(set(tl.versions) | set(series.versions_seen(tl)), key=version_key)
    if not versions:
        return paragraph("no model version was recorded", class_="empty")
    colors = series.colors(tl)
    fates = series.fates(tl)
    first_stable = next((s.stable_version for s in tl.samples if s.stable_version), None)
    cards = [
        _card(
            tl,
            v,
            tl.versions.get(v) or {},
            colors.get(v, "#999"),
            fates.get(v, []),
            v == first_stable,
        )
        for v in versions
    ]
    return join(cards)


def _card(
    tl: Timeline,
    version: str,
    meta: Mapping[str, Any],
    color: str,
    fate: list,
    first_stable: bool,
) -> Html:
    status = meta.get("status")
    status_badge = (
        badge(status, "ok" if status == "approved" else "fail")
        if status
        else badge("no metadata", "muted")
    )
    reasons = {e.reason for e in fate}
    fate_badges = [badge(*FATE_BADGES[r]) for r in FATE_BADGES if r in reasons]
    if first_stable:
        fate_badges.insert(0, badge("first stable", "info"))
    title = element(
        "h3",
        join(
            [
                element("span", "", class_="swatch", style=f"background:{color}"),
                f"v{version} ",
                status_badge,
                " ",
                join(fate_badges, " "),
            ]
        ),
    )
    return block(
        title,
        _provenance(tl, meta),
        _trigger(tl, version, meta),
        columns(
            join([element("h4", "Held-out metrics"), _metrics(meta.get("metrics") or {})]),
            join([element("h4", "Gates"), _gates(meta.get("gates") or {})]),
        ),
        element("h4", "In traffic"),
        _fate(fate),
    )


def _provenance(tl: Timeline, meta: Mapping[str, Any]) -> Html:
    """When and how the version was made, from whatever metadata was recorded."""
    dataset = meta.get("dataset") or {}
    rows = dataset.get("rows")
    seconds = (meta.get("training") or {}).get("seconds")
    parts = [
        f"published {_run_time(tl.started_at, meta['created_at'])}"
        if meta.get("created_at")
        else "",
        str(meta.get("algorithm") or ""),
        f"data {dataset['name']}" + (f" ({rows:,} rows)" if isinstance(rows, int) else "")
        if dataset.get("name")
        else "",
        f"trained in {seconds:.1f} s" if isinstance(seconds, int | float) else "",
        f"commit {str(meta['git_commit'])[:10]}" if meta.get("git_commit") else "",
    ]
    text = " \u00b7 ".join(p for p in parts if p)
    return paragraph(text) if text else Html("")


def _run_time(started_at: str, created_at: Any) -> str:
    """created_at as m:ss into the run when both parse, else as recorded."""
    if not created_at:
        return DASH
    try:
        start = dt.datetime.fromisoformat(str(started_at).replace("Z", "+00:00"))
        created = dt.datetime.fromisoformat(str(created_at).replace("Z", "+00:00"))
        offset = (created - start).total_seconds()
    except (TypeError, ValueError):
        return str(created_at)
    if offset < 0:
        return f"before the run ({created_at})"
    return f"at {clock(offset)} ({created_at})"


def _trigger(tl: Timeline, version: str, meta: Mapping[str, Any]) -> Html:
    retraining = meta.get("retraining")
    if not isinstance(retraining, Mapping):
        job = next((s.retraining_job for s in tl.samples if s.candidate_version == version), None)
        if job:
            return paragraph(
                f"Trigger: the candidate of retraining Job {job} (from the ModelDeployment's "
                "status; its registry metadata was not recorded)."
            )
        if not meta:
            return paragraph("No registry metadata was recorded for this version.")
        return paragraph("Trigger: trained and published by the demo (no retraining Job).")
    drift = retraining.get("drift") or {}
    line = (
        f"Trigger: retraining Job {retraining.get('job') or DASH} "
        f"(reason {retraining.get('reason') or DASH}), "
        f"base version v{retraining.get('base_version') or '?'}."
    )
    if isinstance(drift, Mapping) and drift.get("score") is not None:
        features = drift.get("features") or {}
        top = series.top_features({k: v for k, v in features.items() if isinstance(v, int | float)})
        line += (
            f" Drift handed to the Job: {drift.get('method') or 'score'} {number(drift.get('score'))}"
            f" over {number(drift.get('samples'))} requests (measured {drift.get('measuredAt') or DASH}"
            f" on v{drift.get('version') or '?'}); top features: "
            + ", ".join(f"{k} {v:.3f}" for k, v in top)
            + "."
        )
    return paragraph(line)


def _metrics(metrics: Mapping[str, Any]) -> Html:
    numeric = {
        k: v for k, v in metrics.items() if isinstance(v, int | float) and not isinstance(v, bool)
    }
    names = [m for m in METRIC_ORDER if m in numeric] + sorted(set(numeric) - set(METRIC_ORDER))
    rows = []
    for name in names:
        note = (
            f"worst column: {metrics['fairness_column']}"
            if name == "fairness_gap" and metrics.get("fairness_column")
            else ""
        )
        rows.append((name, number(numeric[name]), note))
    return table(["metric", "value", ""], rows, numeric=(1,), empty="no held-out metrics recorded")


def _gates(gates: Mapping[str, Any]) -> Html:
    rows, classes = [], []
    for name, result in sorted(gates.items()):
        if not isinstance(result, Mapping):
            continue
        passed = result.get("passed")
        rows.append(
            (
                name,
                number(result.get("value")),
                number(result.get("threshold")),
                verdict_badge(passed if isinstance(passed, bool) else None),
                _gate_detail(result),
            )
        )
        classes.append("failed" if passed is False else None)
    return table(
        ["gate", "value", "threshold", "verdict", "detail"],
        rows,
        row_classes=classes,
        numeric=(1, 2),
        empty="no gate results recorded",
    )


def _gate_detail(result: Mapping[str, Any]) -> str:
    """The gate's context: the base it was compared with, the column, or its note."""
    parts = []
    if result.get("base_version") is not None:
        metric = next(
            (k[5:] for k in result if k.startswith("base_") and k != "base_version"), "auc"
        )
        parts.append(
            f"v{result['base_version']} {metric} {number(result.get(f'base_{metric}'))} vs "
            f"{number(result.get(f'candidate_{metric}'))} ({result.get('method') or DASH})"
        )
    if result.get("column"):
        parts.append(f"column {result['column']}")
    if result.get("note"):
        parts.append(str(result["note"]))
    return "; ".join(parts)


def _fate(fate: list) -> Html:
    rows = [(clock(e.t), element("b", e.reason), e.message) for e in fate]
    return table(["time", "reason", "message"], rows, numeric=(0,), empty="never deployed")
