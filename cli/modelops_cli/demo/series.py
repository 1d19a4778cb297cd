"""Numbers derived from a recorded timeline (pure): what the live view, the
report and the summary show, computed once and the same way for all three.

Samples hold per-second deltas from the load generator (requests, errors and
latency since the previous sample) and Prometheus' windowed view per track.
One second holds only ~20 requests, so shares and error rates are computed
over a short trailing window; a version that served nothing in a window gets
None (a gap in a plot), not 0.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from modelops_cli.demo.timeline import Act, Event, Sample, Timeline
from modelops_cli.demo.traffic import NO_VERSION
from modelops_cli.reports.style import version_colors, version_key

TRACKS = ("stable", "canary")
SMOOTH_SECONDS = 5.0

# Operator event reasons (modelops_operator.conditions / retraining_state) the
# view and report single out.
CREATED = "Created"
CANARY_STARTED = "CanaryStarted"
PROMOTED = "Promoted"
ROLLED_BACK = "RolledBack"
DRIFT_DETECTED = "DriftDetected"
DRIFT_CLEARED = "DriftCleared"
RETRAINING_STARTED = "RetrainingStarted"
CANDIDATE_APPROVED = "CandidateApproved"
CANDIDATE_REJECTED = "CandidateRejected"
PASS_VERDICT = "Pass"  # status.canary.checks[].verdict of a passing check

# The operator's messages name the version the same way everywhere
# ("canary version 3 rolled back ...", "version 2 promoted ...",
# "... produced candidate 4, approved ...").
_VERSION = re.compile(r"\b(?:version|candidate) (?P<v>[^\s,;:()]+)")


def end_time(tl: Timeline) -> float:
    """The last instant anything was recorded."""
    times = [s.t for s in tl.samples[-1:]] + [e.t for e in tl.events]
    times += [a.ended if a.ended is not None else a.started for a in tl.acts]
    return max(times, default=0.0)


def versions_seen(tl: Timeline) -> list[str]:
    """Every model version in the registry metadata, the samples or the traffic
    (requests that got no answer naming a version are not a version)."""
    seen = set(tl.versions)
    for s in tl.samples:
        seen.update(v for v in (s.stable_version, s.canary_version, s.candidate_version) if v)
        seen.update(v for v in s.traffic if v != NO_VERSION)
    return sorted(seen, key=version_key)


def colors(tl: Timeline) -> dict[str, str]:
    return version_colors(versions_seen(tl))


@dataclass(frozen=True)
class Span:
    name: str
    title: str
    start: float
    end: float
    passed: bool | None


def act_spans(tl: Timeline) -> list[Span]:
    """Each act from start to end; an act still running ends at the last record."""
    last = end_time(tl)
    return [
        Span(a.name, a.title, a.started, a.ended if a.ended is not None else last, a.passed)
        for a in tl.acts
    ]


def current_act(tl: Timeline) -> tuple[int, Act] | None:
    """(1-based number, act) of the act in progress, or of the last one."""
    if not tl.acts:
        return None
    running = [i for i, a in enumerate(tl.acts) if a.ended is None]
    index = running[-1] if running else len(tl.acts) - 1
    return index + 1, tl.acts[index]


# --- traffic ------------------------------------------------------------------


@dataclass
class Totals:
    """Load-generator traffic of one version over a window."""

    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    p99_ms: float | None = None  # the worst per-sample p99 in the window

    @property
    def rate(self) -> float | None:
        return self.requests / self.seconds if self.seconds > 0 else None


def trailing(samples: Sequence[Sample], until: float, seconds: float) -> list[Sample]:
    return [s for s in samples if until - seconds < s.t <= until]


def traffic_totals(samples: Sequence[Sample], seconds: float) -> dict[str, Totals]:
    """Per version over `samples` (a window `seconds` long)."""
    totals: dict[str, Totals] = {}
    for s in samples:
        for version, tr in s.traffic.items():
            total = totals.setdefault(version, Totals(seconds=seconds))
            total.requests += tr.requests or 0
            total.errors += tr.errors or 0
            if tr.p99_ms is not None:
                total.p99_ms = max(total.p99_ms or 0.0, tr.p99_ms)
    return dict(sorted(totals.items(), key=lambda kv: version_key(kv[0])))


def _windows(samples: Sequence[Sample], seconds: float) -> Iterable[list[Sample]]:
    """For each sample, the samples of the trailing window ending with it."""
    start = 0
    for i, s in enumerate(samples):
        while samples[start].t <= s.t - seconds:
            start += 1
        yield list(samples[start : i + 1])


def share_series(
    samples: Sequence[Sample], versions: Sequence[str], seconds: float = SMOOTH_SECONDS
) -> dict[str, list[float | None]]:
    """% of the answered requests each version served, per sample."""
    out: dict[str, list[float | None]] = {v: [] for v in versions}
    for window in _windows(samples, seconds):
        counts = traffic_totals(window, seconds)
        total = sum(c.requests for v, c in counts.items() if v != NO_VERSION)
        for v in versions:
            served = counts[v].requests if v in counts else 0
            out[v].append(100.0 * served / total if total and served else None)
    return out


def error_series(
    samples: Sequence[Sample], versions: Sequence[str], seconds: float = SMOOTH_SECONDS
) -> dict[str, list[float | None]]:
    """% of each version's requests that failed (5xx or transport), per sample."""
    out: dict[str, list[float | None]] = {v: [] for v in versions}
    for window in _windows(samples, seconds):
        counts = traffic_totals(window, seconds)
        for v in versions:
            c = counts.get(v)
            out[v].append(100.0 * c.errors / c.requests if c and c.requests else None)
    return out


def p99_series(samples: Sequence[Sample], versions: Sequence[str]) -> dict[str, list[float | None]]:
    """Each version's per-second p99 latency in ms (None when it served nothing)."""
    return {v: [s.traffic[v].p99_ms if v in s.traffic else None for s in samples] for v in versions}


def track_series(samples: Sequence[Sample], name: str, scale: float = 1.0) -> dict[str, list]:
    """One TrackMetrics field per track over time (Prometheus' view), times `scale`."""
    out: dict[str, list[float | None]] = {}
    for track in TRACKS:
        values = []
        for s in samples:
            metric = s.metrics.get(track)
            value = getattr(metric, name, None) if metric is not None else None
            values.append(None if value is None else value * scale)
        if any(v is not None for v in values):
            out[track] = values
    return out


def pod_share(samples: Sequence[Sample]) -> list[float | None]:
    """The canary's share of ready pods (%): what ReplicaRatio actually routes to it."""
    out: list[float | None] = []
    for s in samples:
        stable, canary = s.ready_pods.get("stable") or 0, s.ready_pods.get("canary") or 0
        out.append(100.0 * canary / (stable + canary) if stable + canary and canary else None)
    return out


# --- events, checks, drift ----------------------------------------------------------------


def event_version(event: Event) -> str | None:
    match = _VERSION.search(event.message or "")
    return match.group("v") if match else None


def about_model_deployment(event: Event) -> bool:
    """An event the operator emitted about the ModelDeployment itself; other
    namespace events (pods, ReplicaSets) can share a reason such as "Created"."""
    return event.source == "operator" and (
        event.object is None or event.object.startswith("ModelDeployment/")
    )


def operator_events(tl: Timeline, reasons: Iterable[str]) -> list[Event]:
    wanted = set(reasons)
    return [e for e in tl.events if e.reason in wanted and about_model_deployment(e)]


def notable(event: Event) -> bool:
    """Worth a line in the view and the report's table: the demo's steps, the
    operator's decisions, retraining Jobs, and any Warning. Pod and ReplicaSet
    churn (Scheduled, Pulled, Started, Killing, ...) is not."""
    obj = event.object or ""
    return (
        event.source == "demo"
        or event.type == "Warning"
        or about_model_deployment(event)
        or obj.startswith("Job/")
    )


def fates(tl: Timeline) -> dict[str, list[Event]]:
    """Per version, the operator events that decided its traffic (first deployment,
    canary, promotion, rollback) or announced it (a retraining candidate)."""
    out: dict[str, list[Event]] = {}
    reasons = (
        CREATED,
        CANARY_STARTED,
        PROMOTED,
        ROLLED_BACK,
        CANDIDATE_APPROVED,
        CANDIDATE_REJECTED,
    )
    for event in operator_events(tl, reasons):
        version = event_version(event)
        if version is not None:
            out.setdefault(version, []).append(event)
    return out


def last_checks(tl: Timeline) -> tuple[Sample, list[dict]] | None:
    """The newest sample with analysis checks, and those checks."""
    for s in reversed(tl.samples):
        if s.checks:
            return s, s.checks
    return None


def not_passed(tl: Timeline, since: float) -> list[str]:
    """Each analysis check shown at or after `since` whose verdict was not Pass,
    oldest first, once: why a canary was held or rolled back, for a failure
    message."""
    out: list[str] = []
    for t, version, checks in analyses(tl):
        if t < since:
            continue
        who = f"v{version}" if version else "the canary"
        for check in checks:
            if check.get("verdict") == PASS_VERDICT:
                continue
            line = (
                f"{who} step {check.get('step')} at {check.get('measuredAt')}: "
                f"{check.get('verdict')} {check.get('message')}"
            )
            if line not in out:
                out.append(line)
    return out


def warnings_since(tl: Timeline, since: float) -> list[Event]:
    """Warning events recorded at or after `since`, oldest first."""
    return [e for e in tl.events if e.type == "Warning" and e.t >= since]


def last_with(tl: Timeline, attribute: str) -> Sample | None:
    """The newest sample where `attribute` is set (not None)."""
    return next((s for s in reversed(tl.samples) if getattr(s, attribute) is not None), None)


def top_features(features: dict[str, float], n: int = 3) -> list[tuple[str, float]]:
    """The n most drifted features, highest first (ties by name), as the operator ranks them."""
    scored = [(k, v) for k, v in features.items() if v is not None]
    return sorted(scored, key=lambda kv: (-kv[1], kv[0]))[:n]


def analyses(tl: Timeline) -> list[tuple[float, str | None, list[dict]]]:
    """Every canary analysis recorded: (first sample showing it, canary version, checks).

    A sample repeats status.canary.checks until the next analysis replaces
    them, so a new analysis is a sample whose checks differ from the previous
    sample's.
    """
    out: list[tuple[float, str | None, list[dict]]] = []
    previous: list[dict] = []
    for s in tl.samples:
        if s.checks and s.checks != previous:
            out.append((s.t, s.canary_version, s.checks))
        previous = s.checks
    return out
