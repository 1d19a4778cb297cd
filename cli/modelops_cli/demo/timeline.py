"""What the demo saw, second by second: the one record the live view, the HTML
report, the JSON summary and benchmarks/real_loop.py all read.

A run is a list of `Sample`s (one per poll of the cluster, about every second),
the `Event`s seen on the way (the operator's Kubernetes Events and the demo's
own steps), the `Act`s played, and the metadata of every model version in the
registry. Everything is plain data with a stable JSON form, so a report can be
re-rendered from a saved `timeline.json` without a cluster.

Times are seconds since the start of the run (`t`), from a monotonic clock;
`started_at` anchors them to wall-clock time for the report.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1


@dataclass
class TrackTraffic:
    """What the demo's own load generator saw for one model version since the
    previous sample: requests sent, answers by class, and latency."""

    requests: int = 0
    ok: int = 0
    errors: int = 0  # 5xx answers and transport failures
    p50_ms: float | None = None
    p99_ms: float | None = None


@dataclass
class TrackMetrics:
    """One track as Prometheus saw it (the numbers the operator judges by)."""

    request_rate: float | None = None  # requests per second
    error_rate: float | None = None  # 5xx share, 0..1
    p99_seconds: float | None = None


@dataclass
class Sample:
    """The cluster at one instant."""

    t: float
    act: str | None = None
    phase: str | None = None
    stable_version: str | None = None
    canary_version: str | None = None
    weight: int = 0  # the canary's weight as status.canary.weight reports it
    step: int | None = None
    ready_pods: dict[str, int] = field(default_factory=dict)  # track -> ready pods
    traffic: dict[str, TrackTraffic] = field(default_factory=dict)  # model version -> traffic
    metrics: dict[str, TrackMetrics] = field(default_factory=dict)  # track -> Prometheus view
    drift_score: float | None = None
    drift_features: dict[str, float] = field(default_factory=dict)
    drift_samples: int | None = None
    drift_threshold: float | None = None
    conditions: dict[str, str] = field(default_factory=dict)  # type -> "True"/"False"/"Unknown"
    retraining_job: str | None = None
    retraining_state: str | None = None
    candidate_version: str | None = None
    # status.canary.checks as the operator wrote them (name, value, verdict,
    # message, step, measuredAt); empty when no canary is in progress. The live
    # view shows the last non-empty list, so a rollback's failing checks stay
    # visible after status.canary is cleared.
    checks: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Event:
    """Something that happened: a Kubernetes Event about the ModelDeployment or
    one of its children (`source="operator"`), or a step of the demo itself
    (`source="demo"`, e.g. "published churn v2")."""

    t: float
    source: str
    reason: str
    message: str
    type: str = "Normal"  # Normal or Warning
    object: str | None = None  # kind/name the event is about


@dataclass
class Act:
    """One act of the demo: what was done, what the operator was expected to
    decide alone, and what it decided."""

    name: str  # promote | rollback | drift
    title: str
    started: float
    ended: float | None = None
    expected: str = ""
    outcome: str | None = None  # what happened, in one line
    passed: bool | None = None
    figures: dict[str, Any] = field(default_factory=dict)  # measured numbers (benchmark rows)


@dataclass
class Timeline:
    started_at: str  # ISO 8601 wall-clock time of t = 0
    namespace: str
    name: str  # the ModelDeployment
    model: str
    interval_seconds: float | None = None  # the rollout's analysis interval
    samples: list[Sample] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    acts: list[Act] = field(default_factory=list)
    # version -> the registry's metadata.json (status, metrics, gates, dataset,
    # retraining, ...); the report ignores keys it does not know, e.g. profile.
    versions: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The demo's knobs, for the report. Two are read when present: "rollout"
    # (the ModelDeployment's spec.rollout: the analysis limits drawn on the
    # plots, the number of steps in the live view) and "monitoring"
    # (spec.monitoring: the drift statistic's name); the report lists them all.
    settings: dict[str, Any] = field(default_factory=dict)

    # -- recording -----------------------------------------------------------

    def add(self, sample: Sample) -> None:
        self.samples.append(sample)

    def note(self, t: float, reason: str, message: str, **kwargs: Any) -> Event:
        event = Event(t=t, source="demo", reason=reason, message=message, **kwargs)
        self.events.append(event)
        return event

    def act(self, name: str) -> Act | None:
        return next((a for a in reversed(self.acts) if a.name == name), None)

    @property
    def last(self) -> Sample | None:
        return self.samples[-1] if self.samples else None

    # -- JSON ----------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA_VERSION, **dataclasses.asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Timeline:
        if data.get("schema") != SCHEMA_VERSION:
            raise ValueError(
                f"timeline schema {data.get('schema')!r} is not {SCHEMA_VERSION}; "
                "re-run the demo to record a new one"
            )
        fields = {f.name for f in dataclasses.fields(cls)}
        plain = {k: v for k, v in data.items() if k in fields}
        plain["samples"] = [_sample(s) for s in data.get("samples", [])]
        plain["events"] = [Event(**e) for e in data.get("events", [])]
        plain["acts"] = [Act(**a) for a in data.get("acts", [])]
        return cls(**plain)

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=1, sort_keys=True))
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: Path) -> Timeline:
        return cls.from_json(json.loads(path.read_text()))


def _sample(data: dict[str, Any]) -> Sample:
    data = dict(data)
    data["traffic"] = {k: TrackTraffic(**v) for k, v in (data.get("traffic") or {}).items()}
    data["metrics"] = {k: TrackMetrics(**v) for k, v in (data.get("metrics") or {}).items()}
    return Sample(**data)


# -- checking a loaded timeline ------------------------------------------------
# from_json builds the dataclasses without looking at the values, so a
# hand-edited or truncated file would only fail later, deep inside a plot.
# validate() names the fields instead, from the annotations above.

_SCALARS = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,)}


def validate(timeline: Timeline) -> None:
    """Raise ValueError naming the fields (up to 5) whose values have the wrong type."""
    problems: list[str] = []
    _check_fields(timeline, "", problems)
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise ValueError("; ".join(problems[:5]) + more)


def _check_fields(obj: Any, where: str, problems: list[str]) -> None:
    for f in dataclasses.fields(obj):
        _check_value(getattr(obj, f.name), str(f.type), f"{where}{f.name}", problems)


def _check_value(value: Any, annotation: str, where: str, problems: list[str]) -> None:
    options = [a.strip() for a in annotation.split("|")]
    if value is None and "None" in options:
        return
    container = next((o for o in options if o.startswith(("dict[", "list["))), None)
    if dataclasses.is_dataclass(value):
        _check_fields(value, f"{where}.", problems)
    elif container and container.startswith("list[") and isinstance(value, list):
        for i, item in enumerate(value):
            _check_value(item, container[5:-1], f"{where}[{i}]", problems)
    elif container and container.startswith("dict[") and isinstance(value, dict):
        item_type = container[5:-1].split(",", 1)[1].strip()
        for key, item in value.items():
            _check_value(item, item_type, f"{where}[{key!r}]", problems)
    elif not _fits(value, options):
        problems.append(f"{where}: expected {annotation}, got {value!r}")


def _fits(value: Any, options: list[str]) -> bool:
    if "Any" in options:
        return True
    if isinstance(value, bool):  # a bool is an int to Python, never to a timeline
        return "bool" in options
    return any(isinstance(value, _SCALARS.get(o, ())) for o in options)
