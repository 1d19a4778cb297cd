"""The demo report's plots, drawn from a timeline (matplotlib via modelops_cli.reports).

Each function returns an inline <svg> (or None when the timeline has nothing
to plot, so the report says so instead of drawing empty axes). All share the
x axis of the run (m:ss since start), shade the acts, and keep one colour per
track (stable blue, canary orange) and per model version.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from modelops_cli.demo import series
from modelops_cli.demo.timeline import Timeline
from modelops_cli.reports import figures, style
from modelops_cli.reports.html import Html

# Markers whose label names the version ("v3 rolled back").
NAMED = (series.PROMOTED, series.ROLLED_BACK, series.CANDIDATE_APPROVED)
TIME_LABEL = "time since the demo started (m:ss)"
TOP_FEATURES = 5
ACT_SHADE = "#eef2f7"
# Event lines closer than this share of the run are labelled together, so
# their labels do not print over each other.
MARKER_MERGE = 0.02

# Operator events drawn as vertical lines: reason -> (colour, label prefix).
MARKERS = {
    series.PROMOTED: (style.GOOD, "promoted"),
    series.ROLLED_BACK: (style.THRESHOLD, "rolled back"),
    series.DRIFT_DETECTED: (style.WARN, "drifted"),
    series.RETRAINING_STARTED: ("#555555", "Job started"),
    series.CANDIDATE_APPROVED: ("#555555", "candidate"),
    series.DRIFT_CLEARED: (style.GOOD, "drift cleared"),
}


def analysis_limits(tl: Timeline) -> dict[str, float]:
    """{check name: max} from settings["rollout"] (the ModelDeployment's spec.rollout)."""
    analysis = (tl.settings.get("rollout") or {}).get("analysis") or {}
    limits = {}
    for metric in analysis.get("metrics") or []:
        if isinstance(metric, dict) and isinstance(metric.get("max"), int | float):
            limits[str(metric.get("name"))] = float(metric["max"])
    return limits


def traffic_split(tl: Timeline) -> Html | None:
    """Canary weight as the operator set it vs the share each version really served."""
    samples = tl.samples
    if not samples:
        return None
    t = [s.t for s in samples]
    versions = series.versions_seen(tl)
    colors = series.colors(tl)
    with figures.plotting():
        fig, (ax,) = figures.new_figure(height=3.9)
        served = series.share_series(samples, versions)
        for v in versions:
            if any(x is not None for x in served[v]):
                ax.plot(
                    t,
                    figures.masked(served[v]),
                    color=colors[v],
                    linewidth=1.5,
                    label=f"v{v}: requests served",
                )
        weight = [s.weight if s.canary_version else None for s in samples]
        ax.step(
            t,
            figures.masked(weight),
            where="post",
            color=style.track_color("canary"),
            linewidth=2.4,
            label="canary weight (set)",
        )
        pods = series.pod_share(samples)
        if any(p is not None for p in pods):
            ax.step(
                t,
                figures.masked(pods),
                where="post",
                color=style.track_color("canary"),
                linewidth=1.0,
                linestyle=":",
                label="canary share of pods",
            )
        ax.set_ylim(-3, 112)
        ax.set_ylabel("% of requests")
        ax.set_xlabel(TIME_LABEL)
        ax.set_title("Traffic split: weight set vs requests served per model version")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
        _decorate(ax, tl, (series.PROMOTED, series.ROLLED_BACK))
        return figures.to_svg(fig, "traffic-split")


def track_health(tl: Timeline) -> Html | None:
    """Error rate and p99 per track as Prometheus saw them, against the analysis limits."""
    samples = tl.samples
    errors = series.track_series(samples, "error_rate", 100.0)
    p99 = series.track_series(samples, "p99_seconds", 1000.0)
    if not errors and not p99:
        return None
    limits = analysis_limits(tl)
    colors = {track: style.track_color(track) for track in series.TRACKS}
    return _health_figure(
        tl,
        "track-health",
        "Per track, as Prometheus saw it (what the canary analysis judges)",
        errors,
        p99,
        colors,
        error_limit=_scaled(limits.get("error-rate"), 100.0),
        p99_limit=_scaled(limits.get("latency-p99"), 1000.0),
        units=("%", " ms"),
    )


def version_health(tl: Timeline) -> Html | None:
    """Error rate and p99 per model version, as the demo's load generator saw them."""
    samples = tl.samples
    versions = [v for v in series.versions_seen(tl) if any(v in s.traffic for s in samples)]
    if not versions:
        return None
    colors = series.colors(tl)
    errors = {f"v{v}": xs for v, xs in series.error_series(samples, versions).items()}
    p99 = {f"v{v}": xs for v, xs in series.p99_series(samples, versions).items()}
    return _health_figure(
        tl,
        "version-health",
        "Per model version, as the load generator saw it (every request it sent)",
        errors,
        p99,
        {f"v{v}": colors[v] for v in versions},
        error_limit=None,
        p99_limit=None,
        units=("%", " ms"),
    )


def _health_figure(
    tl: Timeline,
    key: str,
    title: str,
    errors: dict[str, list],
    p99: dict[str, list],
    colors: dict[str, str],
    *,
    error_limit: float | None,
    p99_limit: float | None,
    units: tuple[str, str],
) -> Html:
    t = [s.t for s in tl.samples]
    with figures.plotting():
        fig, (top, bottom) = figures.new_figure(2, height=2.6)
        figures.line_with_threshold(
            top,
            t,
            errors,
            threshold=error_limit,
            threshold_label=_limit_label(error_limit, units[0]),
            colors=colors,
            title=title,
            ylabel="errors (% of requests)",
        )
        figures.line_with_threshold(
            bottom,
            t,
            p99,
            threshold=p99_limit,
            threshold_label=_limit_label(p99_limit, units[1]),
            colors=colors,
            ylabel="p99 latency (ms)",
            xlabel=TIME_LABEL,
        )
        top.set_ylim(bottom=-1)
        bottom.set_ylim(bottom=0)
        for ax in (top, bottom):
            _decorate(ax, tl, (series.ROLLED_BACK, series.PROMOTED), labels=ax is top)
        return figures.to_svg(fig, key)


def drift_scores(tl: Timeline) -> Html | None:
    """Drift score per feature over time against the threshold; the top features in colour."""
    samples = [s for s in tl.samples if s.drift_features]
    if not samples:
        return None
    t = [s.t for s in samples]
    peak: dict[str, float] = {}
    for s in samples:
        for name, value in s.drift_features.items():
            if value is not None:
                peak[name] = max(peak.get(name, 0.0), value)
    top = [name for name, _ in series.top_features(peak, TOP_FEATURES)]
    rest = sorted(set(peak) - set(top))
    palette = style.VERSION_PALETTE[::-1]
    lines = {name: [s.drift_features.get(name) for s in samples] for name in [*top, *rest]}
    colors = {name: palette[i % len(palette)] for i, name in enumerate(top)}
    colors.update({name: style.MUTED for name in rest})
    widths = {name: 0.8 for name in rest}
    threshold = next(
        (s.drift_threshold for s in reversed(samples) if s.drift_threshold is not None), None
    )
    with figures.plotting():
        fig, (ax,) = figures.new_figure(height=3.9)
        figures.line_with_threshold(
            ax,
            t,
            lines,
            threshold=threshold,
            threshold_label=None if threshold is None else f"drift threshold ({threshold:g})",
            colors=colors,
            widths=widths,
            step=True,
            title="Drift score per feature (the score is the highest feature)",
            ylabel=f"drift score ({_drift_method(tl)})",
            xlabel=TIME_LABEL,
        )
        # Keep the legend to the named features: the grey ones are context.
        handles, labels = ax.get_legend_handles_labels()
        keep = [i for i, label in enumerate(labels) if label not in rest]
        ax.legend(
            [handles[i] for i in keep],
            [labels[i] for i in keep],
            loc="upper left",
            bbox_to_anchor=(1.0, 1.0),
            title=f"top {len(top)} of {len(peak)} features",
        )
        ax.set_ylim(bottom=0)
        _decorate(
            ax,
            tl,
            (
                series.DRIFT_DETECTED,
                series.RETRAINING_STARTED,
                series.CANDIDATE_APPROVED,
                series.PROMOTED,
                series.DRIFT_CLEARED,
            ),
        )
        return figures.to_svg(fig, "drift")


# --- shared decoration ---------------------------------------------------------------------


def _decorate(ax: Any, tl: Timeline, reasons: Iterable[str], *, labels: bool = True) -> None:
    """Act bands (numbered at the top), event lines, and the m:ss time axis."""
    end = max(series.end_time(tl), 1.0)
    ax.set_xlim(0, end)
    for i, span in enumerate(series.act_spans(tl)):
        ax.axvspan(span.start, span.end, color=ACT_SHADE, zorder=0, linewidth=0)
        ax.axvline(span.start, color="#9aa5b1", linewidth=0.8, zorder=1)
        if labels:
            ax.text(
                span.start + 2,
                1.0,
                f"act {i + 1}: {span.name}",
                transform=ax.get_xaxis_transform(),
                va="bottom",
                ha="left",
                fontsize=9,
                color="#5f6b7a",
                fontweight="bold",
            )
    groups: list[list[tuple[float, str, str]]] = []
    for t, color, label in _markers(tl, reasons):
        if groups and t - groups[-1][0][0] <= MARKER_MERGE * end:
            groups[-1].append((t, color, label))
        else:
            groups.append([(t, color, label)])
    for group in groups:
        for t, color, _ in group:
            ax.axvline(t, color=color, linewidth=1.1, linestyle="--", zorder=2)
        if labels:
            t, color, _ = group[0]
            text = " \u00b7 ".join(label for *_, label in group)
            ax.text(
                t,
                0.97,
                f" {text}",
                transform=ax.get_xaxis_transform(),
                rotation=90,
                va="top",
                ha="left",
                fontsize=8,
                color=color,
            )
    figures.minutes_axis(ax)


def _markers(tl: Timeline, reasons: Iterable[str]) -> list[tuple[float, str, str]]:
    """(time, colour, label) of the operator events to mark, the first per reason and version."""
    seen: set[tuple[str, str | None]] = set()
    out = []
    for event in sorted(series.operator_events(tl, reasons), key=lambda e: e.t):
        version = series.event_version(event)
        if (event.reason, version) in seen:
            continue
        seen.add((event.reason, version))
        color, label = MARKERS.get(event.reason, ("#555555", event.reason))
        if version and event.reason in NAMED:
            label = f"v{version} {label}"
        out.append((event.t, color, label))
    return out


def _drift_method(tl: Timeline) -> str:
    """The statistic named in settings["monitoring"] (spec.monitoring), PSI by default."""
    drift = (tl.settings.get("monitoring") or {}).get("drift") or {}
    return str(drift.get("method") or "psi").upper()


def _limit_label(limit: float | None, unit: str) -> str | None:
    return None if limit is None else f"analysis max ({limit:g}{unit})"


def _scaled(value: float | None, factor: float) -> float | None:
    return None if value is None else value * factor
