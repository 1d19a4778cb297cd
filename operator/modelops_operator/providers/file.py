"""A file-backed metrics provider: the test and demo seam (see providers/__init__.py).

The file is JSON, read on every call so a test can change the canary's health
while the operator runs:

    {"<namespace>/<deployment>": {
        "requests": 500,                      # canary requests in the window (null: no data)
        "values": {"error-rate": 0.0, "latency-p99": 0.05},
        "unavailable": "why",                 # optional: every call fails (like Prometheus down)
        "quality": {"versions": {"3": {       # live quality per version (spec.monitoring.performance)
            "predictions": 900, "labelled": 800,
            "metrics": {"auc": 0.61}, "estimated": {"auc": 0.82}}}}
    }}

A ModelDeployment missing from the file has no data (inconclusive); one
without "quality" has no live quality (PerformanceDegraded Unknown).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelops_operator.quality.source import QualityScope
from modelops_operator.rollout.analysis import AnalysisContext, MetricValue

if TYPE_CHECKING:
    from modelops_features.groundtruth import WindowQuality  # numpy: see drift/counts.py


class FileProviderError(RuntimeError):
    """The file could not be read or said the backend is unavailable."""


class FileProvider:
    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def _entry(self, ctx: AnalysisContext | QualityScope) -> dict[str, Any]:
        namespace = ctx.namespace
        name = ctx.deployment
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError) as exc:
            raise FileProviderError(f"cannot read metrics file {self.path}: {exc}") from exc
        entry = data.get(f"{namespace}/{name}") or {}
        if entry.get("unavailable"):
            raise FileProviderError(str(entry["unavailable"]))
        return entry

    def requests(self, ctx: AnalysisContext) -> MetricValue:
        value = self._entry(ctx).get("requests")
        return MetricValue(f"file:{self.path}#requests", None if value is None else float(value))

    def measure(self, check: Mapping[str, Any], ctx: AnalysisContext) -> MetricValue:
        value = (self._entry(ctx).get("values") or {}).get(check["name"])
        query = f"file:{self.path}#{check['name']}"
        return MetricValue(query, None if value is None else float(value))

    def window_quality(self, scope: QualityScope, end: dt.datetime) -> WindowQuality:
        """The entry's "quality", as groundtruth.window_quality would report it."""
        from modelops_features.groundtruth import WindowQuality
        from modelops_features.quality import Quality

        section = self._entry(scope).get("quality")
        if not isinstance(section, dict):
            raise FileProviderError(
                f"no quality for {scope.namespace}/{scope.deployment} in {self.path}"
            )
        start = end - dt.timedelta(seconds=scope.window_seconds)
        report = WindowQuality(scope.model, section.get("kind"), start, end)
        for version, q in (section.get("versions") or {}).items():
            report.versions[str(version)] = Quality(
                predictions=int(q.get("predictions") or 0),
                labelled=int(q.get("labelled") or 0),
                metrics=dict(q.get("metrics") or {}),
                estimated=dict(q.get("estimated") or {}),
            )
        return report
