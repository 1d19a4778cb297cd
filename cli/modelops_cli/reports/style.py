"""Colours shared by the HTML reports and the terminal view.

One place, so that a track or a model version has the same colour in every
plot, table and live panel. Hex strings work for matplotlib and for rich.
"""

from __future__ import annotations

from collections.abc import Iterable

# Tracks keep the two colours people know from Argo Rollouts / Flagger dashboards.
TRACK_COLORS = {"stable": "#1f77b4", "canary": "#ff7f0e"}
TRACK_FALLBACK = "#7f7f7f"

# Model versions: a qualitative palette without the track colours and without
# red, which is kept for thresholds, failures and rollbacks.
VERSION_PALETTE = (
    "#2ca02c",
    "#9467bd",
    "#17becf",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#393b79",
    "#637939",
)

THRESHOLD = "#d62728"  # limits, failed checks, rollbacks
GOOD = "#2ca02c"  # passed checks, promotions
WARN = "#e6a700"  # drift detected, warnings
REFERENCE = "#9e9e9e"  # the training data's distribution
OBSERVED = "#1f77b4"  # what was seen live
MUTED = "#bdbdbd"  # context lines (e.g. features that did not move)


def track_color(track: str) -> str:
    return TRACK_COLORS.get(track, TRACK_FALLBACK)


def version_key(version: str) -> tuple[int, int, str]:
    """Sort key: registry versions are numbers as text ("2" before "10")."""
    return (0, int(version), "") if version.isdigit() else (1, 0, version)


def version_colors(versions: Iterable[str]) -> dict[str, str]:
    """A colour per version, assigned in version order so re-renders agree."""
    ordered = sorted(set(versions), key=version_key)
    return {v: VERSION_PALETTE[i % len(VERSION_PALETTE)] for i, v in enumerate(ordered)}
