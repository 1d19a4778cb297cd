"""Plots for HTML reports, as inline SVG (matplotlib, imported lazily).

matplotlib is the cli's optional `report` extra: a slim install (the operator
and training images) has none, so nothing here imports it at module level,
and `matplotlib_module()` turns its absence into one sentence saying what to
install. Figures are `matplotlib.figure.Figure` objects, never pyplot: no GUI
backend, no global figure registry to leak, safe to call from a long-running
process; saving to SVG or PNG uses matplotlib's own SVG and Agg renderers.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from modelops_cli.reports import style
from modelops_cli.reports.html import Html, clock

INSTALL_HINT = "pip install 'modelops[report]'"


class ReportExtraMissing(RuntimeError):
    """matplotlib is not installed; the message says how to install it."""


def matplotlib_module() -> Any:
    """matplotlib, or ReportExtraMissing with the one line that fixes it."""
    try:
        import matplotlib
    except ImportError as exc:
        raise ReportExtraMissing(
            f"HTML reports need matplotlib, which is not installed: {INSTALL_HINT}"
        ) from exc
    return matplotlib


# Readable defaults for every report figure: light grid, no top/right spines,
# fonts sized for a ~1100 px wide page. Glyphs become SVG paths so the page
# looks the same without the fonts installed (no external font files).
RC = {
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.titlepad": 16,  # room for labels drawn just above the axes (e.g. act names)
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e6e6e6",
    "grid.linewidth": 0.8,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "svg.fonttype": "path",
}


@contextlib.contextmanager
def plotting() -> Iterator[Any]:
    """The report style for the figures created and saved inside the block."""
    mpl = matplotlib_module()
    with mpl.rc_context(RC):
        yield mpl


# Fixed margins (inches) rather than an automatic layout: every figure of a
# report then has its plot area at the same x position and width, so time
# axes line up from one plot to the next, and a legend always fits the space
# kept on the right.
LEFT, RIGHT, TOP, BOTTOM, GAP = 0.75, 2.45, 0.62, 0.55, 0.35


def new_figure(rows: int = 1, *, height: float = 3.4, width: float = 11.0, **kwargs: Any):
    """(figure, axes): one column of `rows` axes sharing the x axis; legends go right."""
    matplotlib_module()
    from matplotlib.figure import Figure

    total = height * rows
    fig = Figure(figsize=(width, total))
    fig.subplots_adjust(
        left=LEFT / width,
        right=1 - RIGHT / width,
        top=1 - TOP / total,
        bottom=BOTTOM / total,
        hspace=GAP * rows / (total - TOP - BOTTOM),
    )
    axes = fig.subplots(rows, 1, sharex=True, squeeze=False, **kwargs)[:, 0]
    return fig, list(axes)


def to_svg(fig: Any, key: str) -> Html:
    """The figure as an inline <svg> element (no XML prolog, no external references).

    `key` seeds matplotlib's SVG ids: every figure of a page needs its own, or
    two plots with the same layout would share clip-path ids; a fixed seed also
    makes the same data give the same bytes.
    """
    buffer = io.StringIO()
    with matplotlib_module().rc_context({"svg.hashsalt": key, **RC}):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    start = svg.find("<svg")
    if start < 0:
        raise RuntimeError("matplotlib produced no <svg> element")
    svg = svg[start:]
    # The point sizes would pin the plot's width; the viewBox keeps its shape.
    svg = re.sub(r'^<svg([^>]*?) width="[^"]*" height="[^"]*"', r"<svg\1", svg, count=1)
    return Html(svg.strip())


def to_png(fig: Any, dpi: int = 110) -> bytes:
    """The figure as PNG (Agg), for a quick look at a plot outside the page."""
    buffer = io.BytesIO()
    with matplotlib_module().rc_context(RC):
        fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def masked(values: Sequence[float | None]) -> list[float]:
    """None becomes NaN, which matplotlib draws as a gap in the line."""
    return [math.nan if v is None else float(v) for v in values]


def line_with_threshold(
    ax: Any,
    x: Sequence[float],
    series: Mapping[str, Sequence[float | None]],
    *,
    threshold: float | None = None,
    threshold_label: str | None = None,
    colors: Mapping[str, str] | None = None,
    widths: Mapping[str, float] | None = None,
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    step: bool = False,
) -> None:
    """Lines (one per series; None = gap) and a dashed red line at `threshold`.

    The threshold is drawn even when every value is far below it, so the
    reader always sees the bar the values are held to.
    """
    colors = colors or {}
    widths = widths or {}
    for name, values in series.items():
        kwargs = {"label": name, "linewidth": widths.get(name, 1.6)}
        if name in colors:
            kwargs["color"] = colors[name]
        if step:
            ax.step(x, masked(values), where="post", **kwargs)
        else:
            ax.plot(x, masked(values), **kwargs)
    if threshold is not None:
        ax.axhline(
            threshold,
            color=style.THRESHOLD,
            linestyle="--",
            linewidth=1.2,
            label=threshold_label or f"threshold ({threshold:g})",
        )
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if series or threshold is not None:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))


TURN_LABELS_ABOVE = 6  # more bucket labels than this are turned 30 degrees to fit


def bucket_labels(edges: Sequence[float]) -> list[str]:
    """Labels of Prometheus `le` buckets over `edges`: "<= e1", "e1-e2", ..., "> ek"."""
    if not edges:
        return ["all"]
    labels = [f"\u2264 {edges[0]:g}"]
    labels += [f"{lo:g}\u2013{hi:g}" for lo, hi in itertools.pairwise(edges)]
    labels.append(f"> {edges[-1]:g}")
    return labels


def reference_vs_observed(
    ax: Any,
    labels: Sequence[str],
    reference: Sequence[float],
    observed: Sequence[float] | None,
    *,
    title: str = "",
    xlabel: str = "",
    reference_label: str = "reference (training data)",
    observed_label: str = "observed (live)",
) -> None:
    """Side-by-side bars of two distributions over the same buckets, as % of values.

    Both inputs are normalised (counts or proportions both work); `observed`
    None draws the reference alone (nothing seen yet).
    """
    if observed is not None and len(observed) != len(reference):
        raise ValueError(
            f"observed has {len(observed)} buckets, reference has {len(reference)}: "
            "they must be counted over the same bucket edges"
        )
    if len(labels) != len(reference):
        raise ValueError(f"{len(labels)} labels for {len(reference)} buckets")
    positions = list(range(len(reference)))
    width = 0.4 if observed is not None else 0.7
    offset = width / 2 if observed is not None else 0.0
    ax.bar(
        [p - offset for p in positions],
        _percent(reference),
        width=width,
        color=style.REFERENCE,
        label=reference_label,
    )
    if observed is not None:
        ax.bar(
            [p + offset for p in positions],
            _percent(observed),
            width=width,
            color=style.OBSERVED,
            label=observed_label,
        )
    turned = len(labels) > TURN_LABELS_ABOVE
    ax.set_xticks(
        positions, labels, rotation=30 if turned else 0, ha="right" if turned else "center"
    )
    ax.set_ylabel("share of values (%)")
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(axis="x", visible=False)
    ax.legend(loc="upper right")


ROTATED_LABELS_ROOM = 1.2  # inches below a histogram's axes for turned bucket labels


def profile_labels(feature_profile: Mapping[str, Any]) -> list[str]:
    """Bucket labels of one feature of a reference profile (numeric edges or categories)."""
    if feature_profile.get("kind") == "categorical":
        return [str(c) for c in feature_profile.get("categories") or []]
    return bucket_labels([float(e) for e in feature_profile.get("edges") or []])


def feature_distribution(
    feature_profile: Mapping[str, Any],
    observed: Sequence[float] | None,
    *,
    key: str,
    title: str = "",
    xlabel: str = "",
    observed_label: str = "observed (live)",
    height: float = 3.2,
) -> Html:
    """One feature's reference distribution (its profile) against observed bucket counts,
    as an inline <svg>: the histogram every drift view draws, so the demo's and
    `modelops drift report`'s bars look and read the same.
    """
    with plotting():
        fig = distribution_figure(
            feature_profile,
            observed,
            title=title,
            xlabel=xlabel,
            observed_label=observed_label,
            height=height,
        )
        return to_svg(fig, key)


def distribution_figure(
    feature_profile: Mapping[str, Any],
    observed: Sequence[float] | None,
    *,
    title: str = "",
    xlabel: str = "",
    observed_label: str = "observed (live)",
    height: float = 3.2,
) -> Any:
    """The figure of `feature_distribution` (draw inside `plotting()`; to_png for a look)."""
    fig, (ax,) = new_figure(height=height)
    reference_vs_observed(
        ax,
        profile_labels(feature_profile),
        list(feature_profile.get("proportions") or []),
        observed,
        title=title,
        xlabel=xlabel,
        observed_label=observed_label,
    )
    # The legend goes where the page's other figures keep theirs: right of the axes.
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    # Bucket labels of numeric features ("120.5-310.2") are long and turned:
    # room below the axes so they are not cut off.
    if len(profile_labels(feature_profile)) > TURN_LABELS_ABOVE:
        fig.subplots_adjust(bottom=min(0.5, ROTATED_LABELS_ROOM / height))
    return fig


def _percent(values: Sequence[float]) -> list[float]:
    total = sum(float(v) for v in values)
    if total <= 0:
        return [0.0 for _ in values]
    return [100.0 * float(v) / total for v in values]


def minutes_axis(ax: Any) -> None:
    """Format an axis of seconds as m:ss, with a tick every minute when it fits."""
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    low, high = ax.get_xlim()
    span = max(high - low, 1.0)
    ax.xaxis.set_major_locator(MultipleLocator(60 if span <= 1200 else 300))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda s, _pos: clock(s)))
