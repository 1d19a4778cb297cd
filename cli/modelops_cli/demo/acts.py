"""The three acts, each decided by the operator alone.

The demo only does what a user or the world does — publishes a model version,
changes what the callers send — and then waits, watching, for the operator's
decision. It never patches status, never nudges a rollout, never completes a
Job: if the operator does not act, the act times out and fails.

1. promote:  a better v2 is published -> canary steps -> promoted.
2. rollback: a faulty v3 is published (its pods answer 30 % of requests with
   500, armed for that version only) -> rolled back within failureLimit
   analysis intervals; stable untouched; v3 stays rejected while the channel
   still names it.
3. drift:    the callers' data shifts -> Drifted -> a retraining Job (a real
   pod from the training image) publishes a candidate that passes its gates
   -> canary -> promoted.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from . import figures, series
from .timeline import Act, Sample, Timeline

POLL_SECONDS = 1.0


def _why(timeline: Timeline, since: float, most: int = 8) -> str:
    """What the operator said meanwhile: the analysis checks that did not pass
    and the Warning events since `since` (the newest `most` of each), so a
    failed act says why the operator decided otherwise."""
    checks = series.not_passed(timeline, since)[-most:]
    warnings = [
        f"{e.object or ''} {e.reason}: {e.message}".strip()
        for e in series.warnings_since(timeline, since)
    ][-most:]
    parts = [f"\n  analysis: {line}" for line in checks]
    parts += [f"\n  warning: {line}" for line in warnings]
    return "".join(parts)


class ActFailed(RuntimeError):
    """The operator did not reach the expected state in time (message says which)."""


class Stage(Protocol):
    """What the acts need from the running system (demo/stack.py provides it)."""

    def publish(self, *, seed: int, shift: float = 0.0) -> dict[str, Any]:
        """Train churn on synthetic data and publish it; the training result."""

    def set_traffic_shift(self, shift: float) -> None: ...

    def sample(self, t: float, act: str | None) -> Sample: ...

    def events(self, t: float) -> list[Any]: ...


@dataclass
class Timing:
    """How long the operator gets for each decision (generous: a slow, shared
    2-core machine must not fail an act the operator got right)."""

    interval: float
    steps: int
    slack: float = 120.0  # pods starting, model loads, a busy machine
    drift: float = 300.0
    retraining: float = 420.0

    @property
    def rollout(self) -> float:
        # Each step's interval, promotion, and twice that again for a busy machine.
        return self.slack + (self.steps + 2) * self.interval * 2

    @property
    def rollback(self) -> float:
        return self.slack + 6 * self.interval


class Director:
    """Polls the stage into the timeline in the background and plays the acts."""

    def __init__(
        self, stage: Stage, timeline: Timeline, timing: Timing, *, poll: float = POLL_SECONDS
    ) -> None:
        self.stage, self.timeline, self.timing = stage, timeline, timing
        self.poll = poll
        self._t0 = time.monotonic()
        self._act: str | None = None
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="demo-poll", daemon=True)
        self._changed = threading.Condition()

    # -- clock and polling ---------------------------------------------------

    def now(self) -> float:
        return round(time.monotonic() - self._t0, 2)

    def start(self) -> Director:
        # t = 0 of the timeline is now: its wall-clock anchor must say so, so
        # that times can be matched with Prometheus' and the cluster's.
        self._t0 = time.monotonic()
        self.timeline.started_at = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
        self._poller.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._poller.join(10)

    def _poll(self) -> None:
        while not self._stop.is_set():
            t = self.now()
            sample = self.stage.sample(t, self._act)
            self.timeline.add(sample)
            self.timeline.events.extend(self.stage.events(t))
            with self._changed:
                self._changed.notify_all()
            self._stop.wait(max(0.0, self.poll - (self.now() - t)))

    def wait(
        self,
        predicate: Callable[[Sample], bool],
        timeout: float,
        what: str,
        since: float | None = None,
    ) -> Sample:
        """The first sample taken at or after `since` (default: now) for which
        `predicate` holds, or ActFailed after `timeout` seconds.

        Acts pass the time they acted as `since`, so a decision the operator
        took between the action and the call to wait is not missed.
        """
        since = self.now() if since is None else since
        deadline = time.monotonic() + timeout
        checked = 0
        while time.monotonic() < deadline:
            samples = self.timeline.samples
            for sample in samples[checked:]:
                if sample.t >= since and predicate(sample):
                    return sample
            checked = len(samples)
            with self._changed:
                self._changed.wait(self.poll)
        last = self.timeline.last
        state = (
            f"phase {last.phase}, stable {last.stable_version}, canary {last.canary_version} "
            f"at {last.weight}%"
            if last
            else "nothing observed"
        )
        raise ActFailed(
            f"waited {timeout:.0f} s for {what}; last seen: {state}" + _why(self.timeline, since)
        )

    # -- acts ----------------------------------------------------------------

    def begin(self, name: str, title: str, expected: str) -> Act:
        act = Act(name=name, title=title, started=self.now(), expected=expected)
        self.timeline.acts.append(act)
        self._act = name
        return act

    def end(self, act: Act, outcome: str, passed: bool) -> Act:
        act.ended, act.outcome, act.passed = self.now(), outcome, passed
        self._act = None
        return act

    def publish(self, reason: str, **kwargs: Any) -> dict[str, Any]:
        result = self.stage.publish(**kwargs)
        self.timeline.versions[str(result["version"])] = result
        self.timeline.note(
            self.now(),
            reason,
            f"published {result['model']} v{result['version']} ({result['status']}, "
            f"auc {result.get('metrics', {}).get('auc', float('nan')):.3f})",
        )
        return result

    def play_promote(self, stable: str) -> Act:
        act = self.begin(
            "promote",
            "A better model: v2 goes out through canary steps",
            "the operator moves traffic step by step, judges each step in Prometheus "
            "and promotes v2; no request fails on the stable track",
        )
        version = str(self.publish("Published", seed=2)["version"])
        canary = self.wait(
            lambda s: s.canary_version == version,
            self.timing.rollout,
            f"canary v{version}",
            since=act.started,
        )
        done = self.wait(
            lambda s: s.stable_version == version and not s.canary_version and s.phase == "Stable",
            self.timing.rollout,
            f"v{version} promoted",
            since=canary.t,
        )
        held = figures.within(self.timeline.samples, act.started, done.t)
        act.figures = {
            "version": version,
            "steps": [{"weight": w, "seconds": round(s, 1)} for w, s in figures.weight_dwell(held)],
            "interval_seconds": self.timing.interval,
            "weight_vs_served": figures.weight_vs_share(held, version),
            **self._failures(held, stable=stable, other=version),
        }
        ok = self._no_failures(act)
        return self.end(act, f"v{version} promoted in {done.t - act.started:.0f} s", ok)

    def play_rollback(self, stable: str) -> Act:
        act = self.begin(
            "rollback",
            "A faulty model: v3 answers errors on the canary",
            "the operator sees the canary's error rate, rolls v3 back within failureLimit "
            "intervals, keeps v2 serving untouched and does not retry v3",
        )
        version = str(self.publish("Published", seed=3)["version"])
        canary = self.wait(
            lambda s: s.canary_version == version,
            self.timing.rollout,
            f"canary v{version}",
            since=act.started,
        )
        failing = self.wait(
            lambda s: (s.traffic.get(version) and s.traffic[version].errors > 0) or False,
            self.timing.rollback,
            f"the first error from v{version}",
            since=canary.t,
        )
        back = self.wait(
            lambda s: s.weight == 0 and s.phase == "RolledBack",
            self.timing.rollback,
            f"v{version} rolled back",
            since=failing.t,
        )
        # Still rejected, still not retried, a while later: the channel keeps naming v3.
        quiet_until = back.t + 2 * self.timing.interval
        self.wait(
            lambda s: s.t >= quiet_until, 4 * self.timing.interval + 30, "a quiet period", back.t
        )
        after = figures.within(self.timeline.samples, back.t, None)
        retried = any(s.canary_version == version and s.weight > 0 for s in after)
        held = figures.within(self.timeline.samples, act.started, None)
        intervals = (back.t - failing.t) / self.timing.interval
        act.figures = {
            "version": version,
            "first_error_to_weight_0_seconds": round(back.t - failing.t, 1),
            "first_error_to_weight_0_intervals": round(intervals, 2),
            "retried_while_rejected": retried,
            "stable_after": self.timeline.last.stable_version if self.timeline.last else None,
            **self._failures(held, stable=stable, other=version),
        }
        ok = self._no_failures(act) and not retried and act.figures["stable_after"] == stable
        return self.end(
            act,
            f"v{version} rolled back {back.t - failing.t:.0f} s ({intervals:.2f} intervals) "
            "after its first error",
            ok,
        )

    def play_drift(self, stable: str, shift: float) -> Act:
        act = self.begin(
            "drift",
            "The world moves: the callers' data drifts",
            "the operator measures drift from Prometheus, sets Drifted, starts a retraining "
            "Job from the training image; its candidate passes its gates and goes out "
            "through a canary to stable",
        )
        self.stage.set_traffic_shift(shift)
        onset = self.now()
        self.timeline.note(onset, "TrafficShifted", f"callers now send data shifted by {shift}")
        drifted = self.wait(
            lambda s: s.conditions.get("Drifted") == "True",
            self.timing.drift,
            "Drifted=True",
            since=onset,
        )
        job = self.wait(
            lambda s: bool(s.retraining_job),
            self.timing.drift,
            "a retraining Job",
            since=drifted.t,
        )
        candidate = self.wait(
            lambda s: bool(s.candidate_version),
            self.timing.retraining,
            "a retraining candidate",
            since=job.t,
        )
        version = str(candidate.candidate_version)
        promoted = self.wait(
            lambda s: s.stable_version == version and not s.canary_version,
            self.timing.retraining,
            f"candidate v{version} promoted",
            since=candidate.t,
        )
        held = figures.within(self.timeline.samples, act.started, promoted.t)
        act.figures = {
            "candidate": version,
            "job": job.retraining_job,
            "onset_to_drifted_seconds": round(drifted.t - onset, 1),
            "onset_to_job_seconds": round(job.t - onset, 1),
            "onset_to_candidate_seconds": round(candidate.t - onset, 1),
            "onset_to_promoted_seconds": round(promoted.t - onset, 1),
            "drift_score_at_detection": drifted.drift_score,
            **self._failures(held, stable=stable, other=version),
        }
        ok = self._no_failures(act)
        return self.end(
            act, f"retrained v{version} promoted {promoted.t - onset:.0f} s after the shift", ok
        )

    @staticmethod
    def _no_failures(act: Act) -> bool:
        # The only failures allowed are the ones a bad canary answers itself:
        # none on the stable version, none left unanswered by the cluster.
        return act.figures["stable_errors"] == 0 and act.figures["unanswered"] == 0

    def _failures(self, samples: list[Sample], *, stable: str, other: str) -> dict[str, int]:
        stable_requests, stable_errors = figures.requests_of(samples, stable)
        other_requests, other_errors = figures.requests_of(samples, other)
        return {
            "stable_requests": stable_requests,
            "stable_errors": stable_errors,
            "canary_requests": other_requests,
            "canary_errors": other_errors,
            "unanswered": figures.unattributed_errors(samples),
        }
