"""Where live quality comes from (pure): the scope of one measurement and the source protocol.

A measurement is `modelops_features.groundtruth.window_quality` over the
serving pods' inference log and the feedback that labels it, read from the
log's store (the registry by default) for the window that ends now. The
providers (providers/quality.py) implement `QualitySource`: the store
through the registry adapter, or the test seam's JSON file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from modelops_features.groundtruth import WindowQuality  # numpy: see drift/counts.py


@dataclass(frozen=True)
class QualityScope:
    """Whose predictions to judge: one model's log, one window, one ModelDeployment."""

    model: str
    store: str  # URI of the inference log and feedback (MODELOPS_LOG_URI, else the registry)
    window_seconds: float
    namespace: str
    deployment: str


@dataclass(frozen=True)
class QualityMeasurement:
    """A live-quality measurement of the stable version, or why it could not be taken."""

    version: str  # the stable version judged
    report: WindowQuality | None  # every version in the window; None: not measured
    error: str | None = None


class QualitySource(Protocol):
    """Reads one window's live quality per version; raises any exception when it cannot."""

    def window_quality(self, scope: QualityScope, end: dt.datetime) -> WindowQuality: ...
