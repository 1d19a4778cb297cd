"""The live-quality source: the inference log and feedback in the log's store.

The serving pods write what they scored (a sample) and the outcomes that
arrive to `<store>/<model>/{inference-log,feedback}/` (docs/ground-truth.md).
A measurement reads the window that ends now, joins outcomes with
predictions and computes each version's labelled metrics and the label-free
estimate, through the registry adapter. It runs on the operator's
measurement pool, never inside a reconcile: reading a day of log costs
seconds (benchmarks/ground_truth.py), not milliseconds.

Why here and not in the serving pods: one reader per ModelDeployment instead
of one per replica, the serving pods' CPU and memory stay for serving, the
window and threshold come from the spec without restarting pods, and the
operator already knows the namespace and name the metric families carry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from modelops_operator.adapters import registry
from modelops_operator.quality.source import QualityScope

if TYPE_CHECKING:
    from modelops_features.groundtruth import WindowQuality  # numpy: see drift/counts.py

Reader = Callable[[str, str, dt.datetime, dt.datetime], Any]


class LogQualitySource:
    """QualitySource over the store's DataLog (the registry's storage by default)."""

    def __init__(self, read: Reader = registry.window_quality) -> None:
        self._read = read

    def window_quality(self, scope: QualityScope, end: dt.datetime) -> WindowQuality:
        start = end - dt.timedelta(seconds=scope.window_seconds)
        return self._read(scope.store, scope.model, start, end)
