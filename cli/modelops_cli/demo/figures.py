"""The numbers each act is judged by, computed from the timeline alone (pure).

The demo, the node tests and benchmarks/real_loop.py all read the same
figures, so "a bad canary's weight back to 0 in N analysis intervals" means
one thing everywhere. Times are timeline seconds (`Sample.t`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .timeline import Sample
from .traffic import NO_VERSION


def within(samples: Iterable[Sample], start: float, end: float | None) -> list[Sample]:
    return [s for s in samples if s.t >= start and (end is None or s.t <= end)]


def first(samples: Iterable[Sample], predicate: Callable[[Sample], bool]) -> Sample | None:
    return next((s for s in samples if predicate(s)), None)


def requests_of(samples: Iterable[Sample], version: str) -> tuple[int, int]:
    """(requests, errors) the load generator saw answered by `version`."""
    requests = errors = 0
    for sample in samples:
        traffic = sample.traffic.get(version)
        if traffic:
            requests += traffic.requests
            errors += traffic.errors
    return requests, errors


def unattributed_errors(samples: Iterable[Sample]) -> int:
    """Requests that got no answer naming a version (refused, reset, timed out)."""
    return sum(s.traffic[NO_VERSION].errors for s in samples if NO_VERSION in s.traffic)


def weight_dwell(samples: list[Sample]) -> list[tuple[int, float]]:
    """[(canary weight, seconds spent at it)] for each stretch of non-zero weight, in order."""
    stretches: list[tuple[int, float]] = []
    current: int | None = None
    since = 0.0
    for sample in samples:
        if sample.weight != current:
            if current:
                stretches.append((current, sample.t - since))
            current, since = sample.weight, sample.t
    return stretches


def served_share(samples: Iterable[Sample], version: str) -> float | None:
    """The share of answered requests `version` served over `samples`."""
    total = mine = 0
    for sample in samples:
        for name, traffic in sample.traffic.items():
            if name == NO_VERSION:
                continue
            total += traffic.requests
            if name == version:
                mine += traffic.requests
    return mine / total if total else None


def weight_vs_share(samples: list[Sample], canary_version: str) -> list[dict[str, float]]:
    """Per weight step of a rollout: the weight the operator reported and the
    share of requests the canary's pods actually served while it held (from the
    second sample at that weight on, so pods still starting are not judged)."""
    rows = []
    by_weight: dict[int, list[Sample]] = {}
    for sample in samples:
        if sample.weight and sample.canary_version == canary_version:
            by_weight.setdefault(sample.weight, []).append(sample)
    for weight, held in sorted(by_weight.items()):
        share = served_share(held[1:], canary_version)
        if share is not None:
            rows.append({"weight": weight, "served_percent": round(100 * share, 1)})
    return rows


def seconds_between(a: Sample | None, b: Sample | None) -> float | None:
    return round(b.t - a.t, 1) if a and b else None
