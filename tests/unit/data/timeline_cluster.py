"""The demo's cluster for make_demo_timeline.py, simulated request by request: `Run`
holds the state the operator writes, sends the load generator's requests to
the ready pods of both tracks (as the ReplicaRatio router spreads them), plays
scheduled actions second by second, and records a `Sample` every second with
what Prometheus, the drift pass and the canary analysis would see.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from timeline_scenario import (
    CHECKS,
    DRIFT,
    FAULT_RATE,
    IMAGE,
    INTERVAL,
    RATE,
    SCRAPE_LAG,
    SEED,
    SHIFT,
    SPEC,
    DriftModel,
    Trainer,
    clock,
    stamp,
)

from modelops_cli.demo.timeline import Event, Sample, Timeline, TrackMetrics, TrackTraffic
from modelops_operator.drift import verdict as drift_check
from modelops_operator.providers.prometheus import error_rate_query, latency_p99_query
from modelops_operator.rollout import analysis


@dataclass
class State:
    phase: str = "Progressing"
    stable: str = "1"
    canary: str | None = None
    weight: int = 0
    step: int | None = None
    stable_pods: int = 0
    canary_pods: int = 0
    old_stable: str | None = None  # while a promotion rolls the stable pods
    rollover: tuple[float, float] | None = None
    conditions: dict[str, str] = field(default_factory=lambda: {"Progressing": "True"})
    checks: list[dict[str, Any]] = field(default_factory=list)
    job: str | None = None
    job_state: str | None = None
    candidate: str | None = None
    traffic: bool = False
    shift_from: float | None = None
    drift: dict[str, Any] | None = None
    cold: dict[str, float] = field(default_factory=dict)  # track -> when its newest pod started


Request = tuple[float, str, str, float, bool]  # time, track, version, latency ms, failed


class Run:
    def __init__(self, workdir: str) -> None:
        self.rng = random.Random(SEED)
        self.s = State()
        self.timeline = Timeline(
            started_at=stamp(0),
            namespace="ml",
            name="churn",
            model="churn",
            interval_seconds=INTERVAL,
            settings={
                "rollout": SPEC["rollout"],
                "monitoring": SPEC["monitoring"],
                "replicas": SPEC["replicas"],
                "image": IMAGE,
                "load": f"{RATE:g} req/s, POST /predict",
                "fault": f"v3's pods answer {FAULT_RATE:.0%} of requests with HTTP 500",
                "drift": f"synthetic shift {SHIFT:g}: longer tenure, higher spend, more tickets",
            },
        )
        self.requests: list[Request] = []
        self.trainer = Trainer(workdir)
        self.drift = DriftModel()
        self.actions: dict[int, list[Callable[[float], None]]] = {}
        self.on_drift: dict[str, Callable[[float], None]] = {}
        self.finished_at: float | None = None

    def at(self, t: float, action: Callable[[float], None]) -> None:
        """Run `action(t)` at second t, before that second's traffic and sample."""
        self.actions.setdefault(math.ceil(t), []).append(action)

    def op(self, t: float, kind: str, reason: str, message: str) -> None:
        self.timeline.events.append(
            Event(t, "operator", reason, message, kind, "ModelDeployment/churn")
        )

    def demo(self, t: float, reason: str, message: str) -> None:
        self.timeline.note(t, reason, message)

    def pods_started(self, t: float, track: str, n: int) -> None:
        """The namespace's own events for n new pods of a track (the observer records
        every event of the namespace; the view and report leave these out)."""
        deployment = "churn" if track == "stable" else "churn-canary"
        replica_set = f"{deployment}-{self.rng.randrange(16**10):010x}"
        self.timeline.events.append(
            Event(
                t - 8,
                "kubernetes",
                "ScalingReplicaSet",
                f"Scaled up replica set {replica_set} to {n}",
                "Normal",
                f"Deployment/{deployment}",
            )
        )
        for _ in range(n):
            pod = f"{replica_set}-{''.join(self.rng.choices('bcdfghjklmnpqrstvwxz2456789', k=5))}"
            for dt_, reason, message, obj in (
                (-8, "SuccessfulCreate", f"Created pod: {pod}", f"ReplicaSet/{replica_set}"),
                (-8, "Scheduled", f"Successfully assigned ml/{pod} to node", f"Pod/{pod}"),
                (
                    -7,
                    "Pulled",
                    f'Container image "{IMAGE}" already present on machine',
                    f"Pod/{pod}",
                ),
                (-7, "Created", "Created container: model", f"Pod/{pod}"),
                (-7, "Started", "Started container model", f"Pod/{pod}"),
            ):
                self.timeline.events.append(
                    Event(t + dt_, "kubernetes", reason, message, "Normal", obj)
                )

    def play(self) -> Timeline:
        t = 0.0
        while self.finished_at is None or t <= self.finished_at:
            # An action may schedule another for this very second: run until none is left.
            while batch := self.actions.pop(int(t), None):
                for action in batch:
                    action(t)
            self.send(t)
            if self.s.traffic and t % DRIFT.interval.seconds == 0:
                self.measure_drift(t)
            self.sample(t)
            t += 1.0
            if t > 1200:
                raise RuntimeError("the scripted run did not finish")
        self.timeline.events.sort(key=lambda e: e.t)
        return self.timeline

    # -- traffic --

    def pods(self, t: float) -> list[tuple[str, str, int]]:
        """(track, version, ready pods); a promotion moves the stable pods one by one."""
        s = self.s
        out = [("stable", s.stable, s.stable_pods)]
        if s.rollover and s.old_stable:
            start, end = s.rollover
            moved = round(s.stable_pods * min(1.0, max(0.0, (t - start) / (end - start))))
            out = [("stable", s.old_stable, s.stable_pods - moved), ("stable", s.stable, moved)]
        if s.canary and s.canary_pods:
            out.append(("canary", s.canary, s.canary_pods))
        return [p for p in out if p[2] > 0]

    def send(self, t: float) -> None:
        pods = self.pods(t)
        if not self.s.traffic or not pods:
            return
        for _ in range(_poisson(self.rng, RATE)):
            at = t + self.rng.random()
            track, version = _pick(self.rng, pods)
            failed = version == "3" and self.rng.random() < FAULT_RATE
            ms = self.rng.lognormvariate(math.log(6.5), 0.28) + self.rng.expovariate(1 / 1.5)
            if failed:
                ms = self.rng.uniform(1.5, 3.0)  # the fault answers at once
            if at - self.s.cold.get(track, -1e9) < 2.0 and self.rng.random() < 0.15:
                ms += self.rng.uniform(40, 180)  # a new pod's first requests
            self.requests.append((at, track, version, ms, failed))

    def prometheus(self, track: str, until: float) -> TrackMetrics | None:
        seen = [r for r in self.requests if until - INTERVAL < r[0] <= until and r[1] == track]
        if not seen:
            return None
        return TrackMetrics(
            request_rate=round(len(seen) / INTERVAL, 3),
            error_rate=round(sum(r[4] for r in seen) / len(seen), 5),
            p99_seconds=round(_quantile(sorted(r[3] for r in seen), 0.99) / 1000, 5),
        )

    def sample(self, t: float) -> None:
        s = self.s
        second = [r for r in self.requests if t - 1.0 < r[0] <= t]
        traffic = {}
        for version in sorted({r[2] for r in second}):
            latencies = sorted(r[3] for r in second if r[2] == version)
            failed = sum(r[4] for r in second if r[2] == version)
            traffic[version] = TrackTraffic(
                requests=len(latencies),
                ok=len(latencies) - failed,
                errors=failed,
                p50_ms=round(_quantile(latencies, 0.5), 2),
                p99_ms=round(_quantile(latencies, 0.99), 2),
            )
        tracks = ["stable", "canary"] if s.canary_pods else ["stable"]
        metrics = {k: m for k in tracks if (m := self.prometheus(k, t - SCRAPE_LAG)) is not None}
        drift = s.drift or {}
        self.timeline.add(
            Sample(
                t=round(t + self.rng.uniform(0.0, 0.05), 3),
                act=next((a.name for a in self.timeline.acts if a.ended is None), None),
                phase=s.phase,
                stable_version=s.stable,
                canary_version=s.canary,
                weight=s.weight,
                step=s.step,
                ready_pods={
                    "stable": s.stable_pods,
                    **({"canary": s.canary_pods} if s.canary else {}),
                },
                traffic=traffic,
                metrics=metrics,
                drift_score=drift.get("score"),
                drift_features=dict(drift.get("features") or {}),
                drift_samples=drift.get("samples"),
                drift_threshold=DRIFT.threshold if drift else None,
                conditions=dict(s.conditions),
                retraining_job=s.job,
                retraining_state=s.job_state,
                candidate_version=s.candidate,
                checks=[dict(c) for c in s.checks],
            )
        )

    # -- what the operator measures --

    def checks(self, t: float, step: int) -> list[dict[str, Any]]:
        """The canary's analysis, from the requests Prometheus saw (status.canary.checks)."""
        seen = self.prometheus("canary", t)
        ctx = analysis.AnalysisContext("ml", "churn", "canary", INTERVAL)
        measured = {
            "error-rate": (error_rate_query(ctx), seen.error_rate),
            "latency-p99": (latency_p99_query(ctx), seen.p99_seconds),
        }
        results = []
        for check in CHECKS:
            query, value = measured[check["name"]]
            verdict, message = analysis.verdict(check, value)
            result = analysis.CheckResult(check["name"], query, value, verdict, message)
            results.append(result.to_status(step=step, measured_at=stamp(t)))
        return results

    def measure_drift(self, t: float) -> None:
        """The operator's drift pass: status.drift, the Drifted condition and its flip events."""
        s = self.s
        samples = sum(1 for r in self.requests if t - DRIFT.window.seconds < r[0] <= t)
        if samples == 0:
            return
        retrained = s.stable == "4" and s.rollover is None and not s.canary
        share = 0.0 if s.shift_from is None else min(1.0, (t - s.shift_from) / DRIFT.window.seconds)
        report = self.drift.measure(share, samples, retrained)
        verdict = drift_check.verdict(report, DRIFT)
        status, reason, message = drift_check.drifted_condition(verdict, report, DRIFT)
        before = s.conditions.get("Drifted")
        s.conditions["Drifted"] = status
        s.drift = drift_check.drift_status(report, s.stable, clock(t))
        if status == "True" and before != "True":
            self.op(t, "Warning", reason, message)
            self.on_drift["detected"](t)
        elif status == "False" and before == "True":
            self.op(t, "Normal", "DriftCleared", message)
            self.on_drift["cleared"](t)


def _pick(rng: random.Random, pods: list[tuple[str, str, int]]) -> tuple[str, str]:
    """The pod a request lands on: every ready pod behind the Service is as likely."""
    pick = rng.random() * sum(n for *_, n in pods)
    for track, version, count in pods:
        pick -= count
        if pick < 0:
            return track, version
    return pods[-1][0], pods[-1][1]


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, 1.0  # Knuth's method: fine for lam = 20
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _quantile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return math.nan
    return sorted_values[min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))]
