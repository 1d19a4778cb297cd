"""A run's numbers, summed from the shards' own summaries (pure).

Each pod runs `modelops score ... --summary-file /dev/termination-log`, so
its JSON summary (rows, scored, rejected, seconds) is its container's
termination message, kept in the pod's status by the kubelet. The adapter
hands over the terminated containers' messages of the Job's pods; this module
keeps one summary per completion index (a retried pod's replacement counts
once: the latest finished one of each index) and sums them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ShardReport:
    """One finished scoring container, as the adapter read it from a pod."""

    index: int  # batch.kubernetes.io/job-completion-index
    exit_code: int
    message: str  # the termination message (the JSON summary, when the command wrote one)
    finished_at: str = ""  # RFC 3339, to prefer the latest try of an index


@dataclass(frozen=True)
class Totals:
    shards_reported: int
    rows: int
    scored: int
    rejects: int
    output: str | None  # the folder the shards wrote into (each writes its own part)


def _summary(message: str) -> Mapping[str, Any] | None:
    try:
        parsed = json.loads(message)
    except ValueError:
        return None  # a crash message, or nothing: this shard reported no numbers
    return parsed if isinstance(parsed, Mapping) and "rows" in parsed else None


def totals(reports: Iterable[ShardReport]) -> Totals:
    """Sums over the latest summary of each completion index."""
    latest: dict[int, tuple[str, Mapping[str, Any]]] = {}
    for report in reports:
        summary = _summary(report.message)
        if summary is None:
            continue
        seen = latest.get(report.index)
        if seen is None or report.finished_at >= seen[0]:
            latest[report.index] = (report.finished_at, summary)
    summaries = [s for _, s in latest.values()]
    outputs = {str(s.get("output", "")).rsplit("/", 1)[0] for s in summaries if s.get("output")}
    return Totals(
        shards_reported=len(summaries),
        rows=sum(int(s.get("rows") or 0) for s in summaries),
        scored=sum(int(s.get("scored") or 0) for s in summaries),
        rejects=sum(int(s.get("rejected") or 0) for s in summaries),
        output=(outputs.pop() + "/") if len(outputs) == 1 else None,
    )
