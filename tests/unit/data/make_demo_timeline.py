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

The scenario and what is computed for real are timeline_scenario.py, the
simulated cluster timeline_cluster.py, a canary rollout timeline_canary.py;
this script holds the three acts and writes the file.

Re-run it when the timeline schema changes (it takes about a minute):

    .venv/bin/python tests/unit/data/make_demo_timeline.py
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from timeline_canary import Canary
from timeline_cluster import Run
from timeline_scenario import (
    DEMO_UID,
    FAILURE_LIMIT,
    FAULT_RATE,
    IMAGE,
    INTERVAL,
    JOB,
    RATE,
    RECIPES,
    SEED,
    SHIFT,
    SPEC,
    STEPS,
    TYPED,
    clock,
)

from modelops_cli.demo.timeline import Act, Event
from modelops_operator.retraining import outcome as retraining_outcome
from modelops_operator.retraining import trigger as retraining
from modelops_operator.retraining.state import JOB_ABSENT

OUT = Path(__file__).with_name("demo_timeline.json")


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
