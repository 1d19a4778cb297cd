"""A file-backed metrics provider: the test and demo seam (see providers/__init__.py).

The file is JSON, read on every call so a test can change the canary's health
while the operator runs:

    {"<namespace>/<deployment>": {
        "requests": 500,                      # canary requests in the window (null: no data)
        "values": {"error-rate": 0.0, "latency-p99": 0.05},
        "unavailable": "why"                  # optional: every call fails (like Prometheus down)
    }}

A ModelDeployment missing from the file has no data (inconclusive).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modelops_operator.rollout.analysis import AnalysisContext, MetricValue


class FileProviderError(RuntimeError):
    """The file could not be read or said the backend is unavailable."""


class FileProvider:
    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def _entry(self, ctx: AnalysisContext) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError) as exc:
            raise FileProviderError(f"cannot read metrics file {self.path}: {exc}") from exc
        entry = data.get(f"{ctx.namespace}/{ctx.deployment}") or {}
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
