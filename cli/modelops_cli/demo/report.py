"""The demo's HTML report and JSON summary, written from a recorded timeline.

`write_report(timeline, out_dir)` writes `report.html` (one self-contained
file: inline CSS and SVG plots, no scripts, no network) and `summary.json`
(summary.py) and returns the HTML's path. It needs matplotlib (the cli's
`report` extra); without it, `figures.ReportExtraMissing` says what to install
before anything is written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from modelops_cli.demo import report_figures, series
from modelops_cli.demo.report_versions import versions_section
from modelops_cli.demo.summary import summary
from modelops_cli.demo.timeline import Timeline
from modelops_cli.reports import figures
from modelops_cli.reports.html import (
    DASH,
    Html,
    Page,
    badge,
    cards,
    clock,
    code,
    element,
    figure,
    join,
    key_values,
    number,
    paragraph,
    table,
    verdict_badge,
)

REPORT = "report.html"
SUMMARY = "summary.json"


def write_report(timeline: Timeline, out_dir: Path) -> Path:
    """Write report.html and summary.json into `out_dir`; returns the report's path."""
    figures.matplotlib_module()  # fail before writing anything when the extra is missing
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    facts = summary(timeline)
    page = build_page(timeline, facts)
    summary_path = out_dir / SUMMARY
    tmp = summary_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(facts, indent=2, sort_keys=True, allow_nan=False) + "\n")
    tmp.replace(summary_path)
    return page.write(out_dir / REPORT)


def build_page(tl: Timeline, facts: dict[str, Any]) -> Page:
    head = facts["headline"]
    verdict = (
        f"all {head['acts']} acts passed"
        if facts["passed"]
        else f"{head['acts_passed']} of {head['acts']} acts passed"
    )
    page = Page(
        title=f"modelops demo: {tl.model} on {tl.namespace}/{tl.name}",
        subtitle=f"started {tl.started_at} \u00b7 ran {clock(facts['duration_seconds'])} \u00b7 {verdict}",
        footer=join(
            [
                "Written by modelops demo from the timeline it recorded. Re-render it, without "
                "a cluster, with ",
                code("modelops demo report TIMELINE.json --out DIR"),
                ".",
            ]
        ),
    )
    page.section("Outcome", _cards(facts), _acts_table(tl), intro=_intro(tl))
    page.section(
        "Traffic split",
        _plot(report_figures.traffic_split(tl), _TRAFFIC_CAPTION),
        intro="How traffic moved from version to version, step by step, as the operator decided.",
    )
    page.section(
        "Errors and latency",
        _plot(report_figures.track_health(tl), _TRACK_CAPTION),
        _plot(report_figures.version_health(tl), _VERSION_CAPTION),
    )
    page.section("Canary analyses", _analyses_table(tl), intro=_ANALYSES_INTRO)
    page.section("Drift", _plot(report_figures.drift_scores(tl), _DRIFT_CAPTION))
    page.section("Model versions", versions_section(tl), intro=_VERSIONS_INTRO)
    page.section("Events", _events_table(tl), intro=_EVENTS_INTRO)
    page.section("Settings", _settings(tl))
    return page


# --- outcome --------------------------------------------------------------------------------


def _intro(tl: Timeline) -> str:
    return (
        f"The demo served model {tl.model} from a ModelDeployment on a real local node and "
        "played the acts below; in each, the operator decided alone."
    )


def _cards(facts: dict[str, Any]) -> Html:
    head = facts["headline"]
    share = head["failed_share"]
    failed_label = "failed requests, all versions" + (
        f" ({share:.1%})" if share is not None else ""
    )
    final = head["final_stable_version"]
    return cards(
        [
            (
                "acts passed",
                f"{head['acts_passed']}/{head['acts']}",
                "ok" if facts["passed"] else "fail",
            ),
            ("run time (m:ss)", clock(facts["duration_seconds"]), "info"),
            ("requests sent", f"{head['requests']:,}", "info"),
            (
                failed_label,
                f"{head['failed_requests']:,}",
                "warn" if head["failed_requests"] else "ok",
            ),
            (
                "failed on the stable version",
                f"{head['failed_requests_stable_version']:,}",
                "fail" if head["failed_requests_stable_version"] else "ok",
            ),
            (
                "requests with no answer",
                f"{head['unanswered_requests']:,}",
                "fail" if head["unanswered_requests"] else "ok",
            ),
            ("stable version at the end", f"v{final}" if final else DASH, "info"),
        ]
    )


def _acts_table(tl: Timeline) -> Html:
    rows = []
    for index, act in enumerate(tl.acts, start=1):
        took = clock(act.ended - act.started) if act.ended is not None else "running"
        figures_text = join(
            element("div", f"{k} = {figure_text(v)}") for k, v in act.figures.items()
        )
        rows.append(
            (
                f"{index}. {act.name}",
                join([element("b", act.title), paragraph(f"expected: {act.expected or DASH}")]),
                act.outcome or DASH,
                verdict_badge(act.passed),
                took,
                figures_text,
            )
        )
    return table(
        ["act", "what was done", "outcome", "verdict", "took", "figures"],
        rows,
        empty="no act was played",
    )


def figure_text(value: Any) -> str:
    """An act's figure: numbers as in the tables, lists and mappings as compact JSON."""
    if value is None or isinstance(value, int | float):
        return number(value)
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(", ", ": "), default=str)
    return str(value)


# --- plots ------------------------------------------------------------------------------------


def _plot(svg: Html | None, caption: str) -> Html:
    if svg is None:
        return paragraph("nothing was recorded for this plot", class_="empty")
    return figure(svg, caption)


_TRAFFIC_CAPTION = (
    "Thick orange: the canary weight the operator set (status.canary.weight). Coloured "
    "lines: the share of the load generator's requests each model version answered "
    "(5 s window). Dotted: the canary's share of ready pods, which is what the "
    "ReplicaRatio router actually routes. Shaded bands are the acts; dashed lines "
    "mark promotions (green) and rollbacks (red)."
)
_TRACK_CAPTION = (
    "Prometheus' view per track over the analysis window: the numbers the canary "
    "analysis compares with its limits (dashed red)."
)
_VERSION_CAPTION = (
    "The load generator's view per model version: errors as a share of that version's "
    "requests (5 s window) and each second's p99 latency."
)
_DRIFT_CAPTION = (
    "The operator's drift measurement of the live traffic against the stable model's "
    "training profile. Above the threshold the ModelDeployment is Drifted and a "
    "retraining Job starts; once the retrained model is stable, drift is measured "
    "against its own profile."
)
_ANALYSES_INTRO = (
    "Every analysis the operator ran at the end of a canary step, with the value "
    "measured in Prometheus and its verdict."
)
_VERSIONS_INTRO = (
    "Every model version in the registry: its status, held-out metrics, each quality "
    "gate, what triggered it and what happened to it in traffic."
)
_EVENTS_INTRO = (
    "The operator's Kubernetes Events about the ModelDeployment, the retraining Job's, "
    "any Warning, and the demo's own steps (greyed). Warnings are highlighted."
)


# --- tables -----------------------------------------------------------------------------------


def _analyses_table(tl: Timeline) -> Html:
    rows, classes = [], []
    for t, version, checks in series.analyses(tl):
        for check in checks:
            step = check.get("step")
            verdict = str(check.get("verdict") or DASH)
            kind = {"Pass": "ok", "Fail": "fail"}.get(verdict, "warn")
            rows.append(
                (
                    clock(t),
                    f"v{version}" if version else DASH,
                    step + 1 if isinstance(step, int) else DASH,
                    check.get("name") or DASH,
                    number(check.get("value")),
                    badge(verdict, kind),
                    check.get("message") or "",
                )
            )
            classes.append("failed" if kind == "fail" else None)
    return table(
        ["time", "canary", "step", "check", "value", "verdict", "operator's message"],
        rows,
        row_classes=classes,
        numeric=(0, 2, 4),
        empty="no canary analysis was recorded",
    )


def _events_table(tl: Timeline) -> Html:
    events = sorted((e for e in tl.events if series.notable(e)), key=lambda e: e.t)
    left_out = len(tl.events) - len(events)
    rows, classes = [], []
    for e in events:
        rows.append(
            (
                clock(e.t),
                e.source,
                badge(e.type, "warn") if e.type == "Warning" else "",
                element("b", e.reason or DASH),
                e.object or DASH,
                e.message or "",
            )
        )
        classes.append(
            "warning" if e.type == "Warning" else ("demo" if e.source == "demo" else None)
        )
    listed = table(
        ["time", "source", "", "reason", "object", "message"],
        rows,
        row_classes=classes,
        numeric=(0,),
        empty="no event was recorded",
    )
    if not left_out:
        return listed
    note = (
        f"{left_out} other events of the namespace (pods and ReplicaSets starting and "
        "stopping, all Normal) are left out."
    )
    return join([listed, paragraph(note, class_="intro")])


def _settings(tl: Timeline) -> Html:
    pairs: list[tuple[str, Any]] = [
        ("ModelDeployment", f"{tl.namespace}/{tl.name}"),
        ("model", tl.model),
        ("analysis interval", f"{tl.interval_seconds:g} s" if tl.interval_seconds else DASH),
    ]
    for key, value in sorted(tl.settings.items()):
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        pairs.append((key, code(text)))
    return key_values(pairs)
