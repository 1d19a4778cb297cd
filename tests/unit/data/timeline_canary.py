"""A canary rollout in the recorded demo, as the operator's state machine plays it:
steps, analyses from the simulated requests, a rollback after failureLimit
failures or a promotion that rolls the stable pods, with the operator's own
event messages (rollout.decision).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from timeline_cluster import Run
from timeline_scenario import FAILURE_LIMIT, IMAGE, INTERVAL, ROLLOUT, SPEC, STEPS

from modelops_operator.rollout import analysis
from modelops_operator.rollout.decision import describe, rollback_message
from modelops_operator.rollout.routers.replica_ratio import split


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
