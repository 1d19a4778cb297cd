"""Writes demo_timeline.json: a realistic recording of `modelops demo`'s three acts.

The live view and the HTML report are tested against this file, so it holds
what a real run records, second by second, in the operator's own words:

* model versions trained for real (modelops_training into a temporary
  registry): their metrics, gates and retraining trigger are the pipeline's;
* drift measured for real: bucket counts drawn from a mix of plain and
  shifted synthetic traffic, scored by modelops_features.drift and judged by
  the operator's drift_check (status.drift, the Drifted condition's message);
* every request simulated (seeded, ~20 req/s spread over the ready pods of
  both tracks, as the ReplicaRatio router does), so the load generator's view
  per version, Prometheus' windows per track and the analysis checks agree;
* event messages made by the operator's own functions (canary_status,
  analysis.verdict, retraining.decide, retraining_outcome.follow), plus the
  Job controller's and the demo's.

Re-run it when the timeline schema changes (it takes about a minute):

    .venv/bin/python tests/unit/data/make_demo_timeline.py
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from modelops_cli.demo.timeline import Act, Event, Sample, Timeline, TrackMetrics, TrackTraffic
from modelops_features import synthetic
from modelops_features.churn import contract, readers
from modelops_features.drift import compare
from modelops_features.profile import bucket_counts, build_profile
from modelops_operator.api.spec import Spec
from modelops_operator.drift import verdict as drift_check
from modelops_operator.providers.prometheus import error_rate_query, latency_p99_query
from modelops_operator.retraining import outcome as retraining_outcome
from modelops_operator.retraining import trigger as retraining
from modelops_operator.retraining.job import job_name
from modelops_operator.retraining.state import JOB_ABSENT
from modelops_operator.rollout import analysis
from modelops_operator.rollout.decision import describe, rollback_message
from modelops_operator.rollout.routers.replica_ratio import split
from modelops_registry import Registry
from modelops_training.pipeline import train

OUT = Path(__file__).with_name("demo_timeline.json")
START = dt.datetime(2026, 12, 7, 10, 14, 3, tzinfo=dt.UTC)
SEED = 7
RATE = 20.0  # requests per second from the load generator
SCRAPE_LAG = 5.0  # Prometheus is this far behind
FAULT_RATE = 0.3  # v3 answers this share of requests with HTTP 500
SHIFT = 1.0  # synthetic covariate shift of the drifted traffic
IMAGE = "modelops/churn-bento:0.1.0"
SPEC: dict[str, Any] = {
    "model": {"name": "churn", "version": "@latest-approved"},
    "image": IMAGE,
    "registry": {"uri": "file:///var/lib/modelops/registry"},
    "replicas": 4,
    "rollout": {
        "strategy": "Canary",
        "steps": [25, 50, 75],
        "interval": "30s",
        "trafficRouter": {"type": "ReplicaRatio"},
        "analysis": {
            "prometheus": {"address": "http://prometheus.monitoring:9090"},
            "minRequests": 100,
            "failureLimit": 2,
            "metrics": [
                {"name": "error-rate", "max": 0.01},
                {"name": "latency-p99", "max": 0.25},
            ],
        },
    },
    "monitoring": {
        "drift": {
            "method": "psi",
            "threshold": 0.2,
            "window": "2m",
            "minSamples": 600,
            "interval": "15s",
        }
    },
    "retraining": {
        "jobTemplate": {"spec": {}},
        "cooldown": "1h",
        "maxAttempts": 3,
        "gates": {"minMetric": {"auc": 0.75}, "maxRegression": 0.01, "maxFairnessGap": 0.08},
    },
}
TYPED = Spec(SPEC)
ROLLOUT = TYPED.rollout
INTERVAL = ROLLOUT.interval.seconds
STEPS = list(ROLLOUT.steps)
DRIFT = TYPED.drift
CHECKS, FAILURE_LIMIT = TYPED.analysis.metrics, TYPED.analysis.failure_limit
DEMO_UID = "5d1f0c2e-8a7b-4c3d-9e1f-2a3b4c5d6e7f"  # the demo ModelDeployment's uid
JOB = job_name("churn", DEMO_UID, "2", 1)
# How each version the demo publishes is trained: (data, base version).
RECIPES = {"1": ("synthetic:20000:1", None), "2": ("synthetic:40000:2", "1")}
RECIPES["3"] = ("synthetic:40000:3", "2")


def clock(t: float) -> dt.datetime:
    return START + dt.timedelta(seconds=round(t))


def stamp(t: float) -> str:
    return clock(t).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- model versions and drift, computed for real -------------------------------------------


class Trainer:
    """A temporary registry the versions are really trained into, in publishing order."""

    def __init__(self, root: str) -> None:
        self.uri = f"file://{root}"

    def publish(self, version: str, t: float, data: str, base: str | None, **extra: Any) -> dict:
        result = train(
            model="churn",
            data=data,
            registry_uri=self.uri,
            base_version=base,
            gates=SPEC["retraining"]["gates"],
            seed=SEED,
            **extra,
        )
        if result["version"] != version:
            raise RuntimeError(f"the registry numbered it {result['version']}, not {version}")
        meta = dict(Registry.from_uri(self.uri).metadata("churn", version))
        meta.pop("profile", None)  # the report does not use it; keeps the sample small
        meta["created_at"] = stamp(t)  # the run's clock, not today's
        return meta


class DriftModel:
    """Drift windows holding a share of shifted traffic, scored against the training profile."""

    def __init__(self) -> None:
        self.rng = np.random.default_rng(SEED)
        reference = readers.compute(synthetic.churn(20000, seed=2))
        self.profile = build_profile(reference, contract.FEATURE_SCHEMA, None)
        features = self.profile["features"]
        plain = readers.compute(synthetic.churn(5000, seed=11))
        shifted = readers.compute(synthetic.churn(5000, seed=12, shift=SHIFT))
        self.plain = {f: _share(bucket_counts(plain[f], features[f])) for f in features}
        self.shifted = {f: _share(bucket_counts(shifted[f], features[f])) for f in features}

    def measure(self, share: float, samples: int, retrained: bool):
        observed = {}
        for f, reference in self.profile["features"].items():
            if retrained:
                # Once the retrained model is stable, drift is measured against its
                # own profile, built from data like the live traffic: noise only.
                p = np.asarray(reference["proportions"], dtype=float)
            else:
                p = (1 - share) * self.plain[f] + share * self.shifted[f]
            observed[f] = self.rng.multinomial(samples, p / p.sum())
        return compare(self.profile, observed, DRIFT.method, DRIFT.min_samples)


def _share(counts: Any) -> np.ndarray:
    counts = np.asarray(counts, dtype=float)
    return counts / counts.sum()


# --- the cluster, simulated request by request ---------------------------------------------


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


# --- a canary rollout, as the operator's state machine plays it -----------------------------


class Canary:
    """One rollout of `version` from t0 (when the operator sees it); `done(t)` at its end."""

    def __init__(self, run: Run, version: str, t0: float, done: Callable[[float], None]) -> None:
        self.run, self.s, self.version, self.done = run, run.s, version, done
        self.failures = 0
        run.at(t0, self.start)

    def status(self) -> dict[str, Any]:
        return {"version": self.version, "step": self.s.step or 0, "weight": self.s.weight}

    def start(self, t: float) -> None:
        s = self.s
        s.canary, s.weight, s.step, s.phase, s.checks = self.version, 0, 0, "Progressing", []
        s.conditions["Progressing"] = "True"
        s.stable_pods, s.canary_pods = split(SPEC["replicas"], STEPS[0])[0], 0
        self.run.op(
            t,
            "Normal",
            "CanaryStarted",
            f"canary version {self.version} (image {IMAGE}) started beside stable version "
            f"{s.stable}; steps {STEPS}% every {SPEC['rollout']['interval']}",
        )
        self.run.at(t + 9, self.pods_ready(1))
        self.run.at(t + 10, lambda now: self.step_to(0, now))

    def pods_ready(self, n: int) -> Callable[[float], None]:
        def ready(t: float) -> None:
            self.run.pods_started(t, "canary", n - self.s.canary_pods)
            self.s.canary_pods, self.s.cold["canary"] = n, t

        return ready

    def step_to(self, index: int, t: float) -> None:
        self.s.step, self.s.weight = index, STEPS[index]
        stable_n, canary_n = split(SPEC["replicas"], STEPS[index])
        self.s.stable_pods = stable_n
        if canary_n > self.s.canary_pods:
            self.run.at(t + 6, self.pods_ready(canary_n))
        self.run.op(t, "Normal", "CanaryStepAdvanced", describe(self.status(), ROLLOUT))
        self.run.at(t + INTERVAL, lambda now: self.analyse(index, now))

    def analyse(self, index: int, t: float) -> None:
        s = self.s
        s.checks = self.run.checks(t, index)
        failed = [c for c in s.checks if c["verdict"] != analysis.PASS]
        s.conditions["AnalysisPassed"] = "False" if failed else "True"
        if not failed:
            return self.step_to(index + 1, t) if index + 1 < len(STEPS) else self.promote(t)
        self.failures += 1
        why = f"{failed[0]['message']} (failed or inconclusive analyses: {self.failures}/{FAILURE_LIMIT})"
        if self.failures < FAILURE_LIMIT:
            self.run.op(
                t, "Warning", "AnalysisFailed", f"{describe(self.status(), ROLLOUT)}: {why}"
            )
            return self.run.at(t + INTERVAL, lambda now: self.analyse(index, now))
        self.run.op(t, "Warning", "RolledBack", rollback_message(self.status(), ROLLOUT, why))
        s.phase, s.weight, s.step, s.canary, s.canary_pods, s.checks = (
            "RolledBack",
            0,
            None,
            None,
            0,
            [],
        )
        s.stable_pods = SPEC["replicas"]
        s.conditions["Progressing"] = "False"
        self.done(t)

    def promote(self, t: float) -> None:
        s = self.s
        old, s.old_stable, s.stable, s.phase = s.stable, s.stable, self.version, "Promoting"
        s.step, s.stable_pods, s.rollover = len(STEPS), SPEC["replicas"], (t + 2, t + 14)
        s.cold["stable"] = t + 2
        self.run.pods_started(t + 10, "stable", SPEC["replicas"])
        self.run.op(
            t,
            "Normal",
            "Promoting",
            f"promoting version {self.version} to stable (replacing {old}): "
            "every step passed its analysis",
        )
        self.run.at(t + 15, self.promoted)

    def promoted(self, t: float) -> None:
        s = self.s
        s.phase, s.canary, s.canary_pods, s.weight, s.step = "Stable", None, 0, 0, None
        s.rollover, s.old_stable, s.checks = None, None, []
        s.conditions["Progressing"] = "False"
        self.run.op(t, "Normal", "Promoted", f"version {self.version} promoted to stable")
        self.done(t)


# --- the script: set-up, then the three acts ------------------------------------------------

ACTS = {
    "promote": (
        "A better v2 is promoted through the canary steps",
        "v2 passes its analysis at every step and becomes stable; no request fails",
    ),
    "rollback": (
        "A faulty v3 is rolled back; stable keeps serving",
        "v3 fails its analysis twice (failureLimit 2) and goes back to weight 0 while v2 serves",
    ),
    "drift": (
        "The live data drifts: the operator retrains and rolls out a new model",
        "Drifted, then a retraining Job whose candidate passes its gates, is canaried and promoted",
    ),
}


def setup(run: Run) -> None:
    s = run.s
    notes = [
        (0, "ClusterReady", "local cluster up (warm): control plane, node and CoreDNS in 14.2s"),
        (6, "ChartInstalled", "helm install modelops-operator: operator pod Ready"),
        (9, "PrometheusReady", "Prometheus Ready; it discovers the bento pods of namespace ml"),
        (26, "Applied", f"ModelDeployment ml/churn applied: @latest-approved, Canary {STEPS}%"),
    ]
    for t, reason, message in notes:
        run.at(t, lambda now, r=reason, m=message: run.demo(now, r, m))
    run.at(25, lambda t: publish(run, "1", t))
    created = f"deploying model churn version 1 (image {IMAGE}) as stable"
    run.at(26, lambda t: run.op(t + 0.4, "Normal", "Created", created))

    def available(t: float) -> None:
        s.stable_pods, s.phase, s.cold["stable"] = SPEC["replicas"], "Stable", t
        s.conditions.update(Ready="True", Progressing="False", Degraded="False")
        run.pods_started(t, "stable", SPEC["replicas"])
        n = SPEC["replicas"]
        run.op(t, "Normal", "Available", f"serving version 1 ({n}/{n} replicas available)")

    def traffic(t: float) -> None:
        s.traffic = True
        run.demo(t, "TrafficStarted", f"load generator: {RATE:g} req/s to churn.ml.svc:3000")

    run.at(35, available)
    run.at(37, traffic)


def publish(run: Run, version: str, t: float, fault: bool = False) -> None:
    data, base = RECIPES[version]
    meta = run.timeline.versions[version] = run.trainer.publish(version, t, data, base)
    extra = f"; its pods answer {FAULT_RATE:.0%} of requests with HTTP 500" if fault else ""
    auc = meta["metrics"]["auc"]
    run.demo(
        t,
        "ModelPublished",
        f"churn v{version} trained and published: approved (auc {auc:.3f}){extra}",
    )


def begin(run: Run, name: str, t: float) -> None:
    title, expected = ACTS[name]
    run.timeline.acts.append(Act(name, title, started=t, expected=expected))
    run.demo(t, "ActStarted", f"act {len(run.timeline.acts)}/3 ({name}): {title}")


def end(run: Run, name: str, t: float, outcome: str, figures: dict[str, Any]) -> None:
    act = run.timeline.act(name)
    act.ended, act.outcome, act.passed, act.figures = t, outcome, True, figures
    run.demo(t, "ActFinished", f"act {name}: {outcome}")


def failed_on_stable(run: Run, start: float, stop: float) -> int:
    return sum(1 for r in run.requests if start <= r[0] <= stop and r[1] == "stable" and r[4])


def first(run: Run, reason: str, after: float) -> float:
    return next(
        e.t
        for e in sorted(run.timeline.events, key=lambda e: e.t)
        if e.reason == reason and e.t >= after
    )


def act_promote(run: Run, t: float) -> None:
    begin(run, "promote", t)
    run.at(t + 12, lambda now: publish(run, "2", now))

    def promoted(canary: float, now: float) -> None:
        figures = {
            "canary_started_to_promoted_s": round(now - canary, 1),
            "steps": len(STEPS),
            "interval_s": INTERVAL,
            "stable_failed_requests": failed_on_stable(run, t, now),
        }
        end(run, "promote", now + 5, "v2 promoted to stable after 3 canary steps", figures)
        run.at(now + 12, lambda later: act_rollback(run, later))

    run.at(t + 15, lambda now: Canary(run, "2", now, lambda done: promoted(now, done)))


def act_rollback(run: Run, t: float) -> None:
    begin(run, "rollback", t)
    run.at(t + 12, lambda now: publish(run, "3", now, fault=True))

    def rolled_back(canary: float, now: float) -> None:
        figures = {
            "analysis_intervals_to_weight_0": FAILURE_LIMIT,
            "first_traffic_to_weight_0_s": round(now - first(run, "CanaryStepAdvanced", canary), 1),
            "stable_failed_requests": failed_on_stable(run, t, now),
            "canary_failed_requests": sum(1 for r in run.requests if r[2] == "3" and r[4]),
        }
        outcome = f"v3 rolled back at weight {STEPS[0]}% after {FAILURE_LIMIT} failed analyses"
        end(run, "rollback", now + 8, outcome, figures)
        run.at(now + 14, lambda later: act_drift(run, later))

    run.at(t + 15, lambda now: Canary(run, "3", now, lambda done: rolled_back(now, done)))


def act_drift(run: Run, t: float) -> None:
    """Drift -> Drifted -> retraining Job -> candidate -> canary -> promoted -> drift cleared."""
    s = run.s
    begin(run, "drift", t)
    times: dict[str, float] = {}

    def shift(now: float) -> None:
        s.shift_from = times["shift"] = now
        run.demo(
            now,
            "TrafficDrifted",
            f"load generator now sends shifted data (synthetic shift {SHIFT:g})",
        )

    def drifted(now: float) -> None:
        times["drifted"] = now
        decision = retraining.decide(
            md_name="churn", owner_uid=DEMO_UID, spec=TYPED, previous=None, handled_token=None,
            annotation_token=None, base_version="2", drifted=True, job_state=JOB_ABSENT,
            candidate=None, now=clock(now),
        )  # fmt: skip
        for kind, reason, message in decision.events:
            run.op(now, kind, reason, message)
        s.job, s.job_state, s.conditions["Retraining"] = decision.job, "Running", "True"
        handed = dict(s.drift or {})  # MODELOPS_DRIFT_REPORT: status.drift at Drifted
        job = f"Job/{decision.job}"
        run.timeline.events.append(
            Event(
                now + 0.3,
                "kubernetes",
                "SuccessfulCreate",
                f"Created pod: {decision.job}-x7k2p",
                "Normal",
                job,
            )
        )
        run.at(now + 71, lambda later: job_done(later, decision.status, handed))

    def job_done(now: float, running: dict[str, Any], handed: dict[str, Any]) -> None:
        run.timeline.events.append(
            Event(now - 1.2, "kubernetes", "Completed", "Job completed", "Normal", f"Job/{JOB}")
        )
        data = f"synthetic:20000:{SEED}:{SHIFT:g}"
        trigger = {"job": JOB, "reason": "Drift", "drift": handed}
        meta = run.trainer.publish("4", now - 1.5, data, "2", retraining=trigger)
        run.timeline.versions["4"] = meta
        finished = {"status": {"conditions": [{"type": "Complete", "status": "True"}]}}
        state = retraining_outcome.job_state(finished)
        decision = retraining_outcome.follow(TYPED, running, state, ("4", meta), clock(now))
        for kind, reason, message in decision.events:
            run.op(now, kind, reason, message)
        s.job_state, s.candidate, s.conditions["Retraining"] = "Succeeded", "4", "False"
        times["candidate"] = now
        run.at(now + 2, lambda later: Canary(run, "4", later, promoted))

    def promoted(now: float) -> None:
        times["promoted"] = now

    def cleared(now: float) -> None:
        figures = {
            "shift_to_drifted_s": round(times["drifted"] - times["shift"], 1),
            "drifted_to_job_started_s": round(
                first(run, "RetrainingStarted", t) - times["drifted"], 1
            ),
            "job_s": round(times["candidate"] - times["drifted"], 1),
            "candidate_to_promoted_s": round(times["promoted"] - times["candidate"], 1),
            "stable_failed_requests": failed_on_stable(run, t, now),
        }
        outcome = (
            "drift detected, a Job trained v4 (approved), v4 canaried and promoted; drift cleared"
        )
        end(run, "drift", now + 6, outcome, figures)
        run.finished_at = now + 6

    run.on_drift.update(detected=drifted, cleared=cleared)
    run.at(t + 1, shift)


def compact_json(data: dict[str, Any]) -> str:
    """One sample or event per line: a smaller file and readable diffs (any JSON loads)."""
    parts = []
    for key in sorted(data):
        value = data[key]
        if isinstance(value, list) and value:
            items = ",\n".join(json.dumps(v, sort_keys=True, separators=(",", ":")) for v in value)
            parts.append(f"{json.dumps(key)}:[\n{items}\n]")
        else:
            parts.append(f"{json.dumps(key)}:{json.dumps(value, sort_keys=True)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        run = Run(workdir)
        setup(run)
        run.at(48, lambda t: act_promote(run, t))
        timeline = run.play()
    OUT.write_text(compact_json(timeline.to_json()))
    print(f"wrote {OUT}: {len(timeline.samples)} samples, {len(timeline.events)} events")


if __name__ == "__main__":
    main()
