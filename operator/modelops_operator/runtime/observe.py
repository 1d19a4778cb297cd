"""Observe: everything the pure reconcile needs from the outside world, gathered in one place.

For one ModelDeployment body, as the engine read it:

* its child Deployments, from the memory the Deployment watch keeps (one GET
  per track only before that memory is primed);
* what a `@latest-approved` channel resolves to (registry, cached briefly);
* the canary analysis, only when a step's interval is over (metrics provider);
* a drift measurement, only when one is due: started in the background
  (measurements.py) and handed over by the reconcile after it finished;
* a live-quality measurement (spec.monitoring.performance), likewise, on a
  pool of its own;
* the retraining Job status.retraining names while it runs (from the Job
  watch's memory), read as this object must: its own, someone else's, lost
  or refused; and the candidate it published once it finished;
* the batch run's Job status.batch names, read the same way, and its pods'
  shard summaries once it ended (batch_job.py); and, while a schedule exists,
  the Jobs its CronJob controls (the scheduled runs), read the same way.

Every failure of a provider or the registry becomes an observation (an
inconclusive check, an unknown drift, an unresolved channel) for the
reconcile to report; observing never raises for them.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from modelops_operator.adapters.kube import KubeAdapter
from modelops_operator.adapters.registry import ModelRegistry
from modelops_operator.api import names
from modelops_operator.api.objects import DeploymentState, Owner
from modelops_operator.api.spec import CANARY, Spec, SpecError
from modelops_operator.drift import counts
from modelops_operator.drift import verdict as drift_verdict
from modelops_operator.drift.counts import DriftScope, DriftSource
from modelops_operator.drift.verdict import due
from modelops_operator.quality import verdict as quality_verdict
from modelops_operator.quality.source import QualityMeasurement, QualityScope, QualitySource
from modelops_operator.reconcile.plan import DriftMeasurement, Observed
from modelops_operator.retraining.outcome import job_state
from modelops_operator.retraining.state import (
    JOB_ABSENT,
    JOB_ACTIVE,
    JOB_FINISHED,
    JOB_LOST,
    RUNNING,
)
from modelops_operator.rollout import analysis
from modelops_operator.rollout.verdict import analysis_due
from modelops_operator.runtime import batch_job, metrics, quality_metrics
from modelops_operator.runtime.children import ChildMemory, controller_uid
from modelops_operator.runtime.jobs import JobMemory, JobRecord, record_of
from modelops_operator.runtime.measurements import DriftMeasurements

log = logging.getLogger("modelops.operator")


@dataclass
class Observer:
    kube: KubeAdapter
    registry: ModelRegistry
    children: ChildMemory
    jobs: JobMemory
    measurements: DriftMeasurements
    # Build a spec's providers (providers/); seams for tests.
    metrics_provider: Callable[[Spec], analysis.MetricsProvider]
    drift_source: Callable[[Spec], DriftSource]
    quality_source: Callable[[Spec], QualitySource] | None = None
    quality_measurements: DriftMeasurements | None = None

    def observe(
        self,
        body: Mapping[str, Any],
        spec: Spec,
        now: dt.datetime,
        drift: DriftMeasurement | None = None,
        performance: QualityMeasurement | None = None,
    ) -> Observed:
        """What the reconcile of `body` needs. `drift` and `performance` are measurements an
        earlier attempt of the same reconcile took (a conflict must not throw one away)."""
        metadata = body["metadata"]
        owner = Owner(
            name=metadata["name"],
            namespace=metadata["namespace"],
            uid=metadata["uid"],
            generation=int(metadata.get("generation") or 1),
        )
        status = body.get("status") or {}
        deployments = self._deployments(owner)
        resolved, error = self._resolve(spec)
        job, job_uid, job_note, candidate = self._retraining_job(owner, spec, status)
        batch_state, batch_uid, batch_note, batch_reports = batch_job.observe(
            self.kube, self.jobs, owner, status
        )
        return Observed(
            owner=owner,
            status=status,
            annotations=metadata.get("annotations") or {},
            deployments=deployments,
            resolved_version=resolved,
            resolve_error=error,
            analysis=self._analysis(owner, spec, status, deployments, now),
            drift=self._drift(owner, spec, status, now, drift),
            performance=self._performance(owner, spec, status, now, performance),
            job_state=job,
            job_uid=job_uid,
            job_note=job_note,
            candidate=candidate,
            batch_job_state=batch_state,
            batch_job_uid=batch_uid,
            batch_job_note=batch_note,
            batch_reports=batch_reports,
            scheduled_jobs=batch_job.observe_scheduled(self.kube, owner, status),
        )

    # --- children and channel ------------------------------------------------------------

    def _deployments(self, owner: Owner) -> dict[str, DeploymentState]:
        found: dict[str, DeploymentState] = {}
        for track in names.TRACKS:
            name = names.child_name(owner.name, track)
            if self.children.primed:
                known = self.children.deployment(owner.namespace, name)
                state = None if known is None else (known.owner_uid, known.state)
            else:
                # Children have deterministic names, so each is one GET: a label-selector
                # LIST would cost the API server O(objects in the namespace) per
                # reconcile, O(n^2) for a namespace of n ModelDeployments.
                child = self.kube.get("apps/v1", "Deployment", owner.namespace, name)
                state = (
                    None
                    if child is None
                    else (controller_uid(child), DeploymentState.from_object(child))
                )
            if state is not None and state[0] == owner.uid:
                found[track] = state[1]
        return found

    def _resolve(self, spec: Spec) -> tuple[str | None, str | None]:
        model = spec.model
        if not model.follows_channel:
            return None, None
        try:
            return self.registry.resolve(spec.registry.uri, model.name, model.version), None
        except Exception as exc:  # any registry failure is reported, never fatal
            return None, f"{type(exc).__name__}: {exc}"

    # --- canary analysis -------------------------------------------------------------------

    def _analysis(
        self,
        owner: Owner,
        spec: Spec,
        status: Mapping[str, Any],
        deployments: Mapping[str, DeploymentState],
        now: dt.datetime,
    ) -> tuple[analysis.CheckResult, ...] | None:
        """The current step's analysis if its interval is over (else None).

        Only here does the operator query canary metrics, and only when a
        verdict is needed. Any failure (no provider, Prometheus down) becomes
        Inconclusive results: the state machine counts them toward failureLimit.
        """
        if spec.strategy != CANARY:
            return None
        try:
            if not analysis_due(spec, status, deployments, now):
                return None
            window = spec.interval.seconds
        except SpecError:
            return None  # reconcile reports the bad spec
        settings = spec.analysis
        ctx = analysis.AnalysisContext(
            namespace=owner.namespace,
            deployment=owner.name,
            track=names.TRACK_CANARY,
            window_seconds=window,
        )
        try:
            provider = self.metrics_provider(spec)
        except Exception as exc:  # a spec the provider refuses is inconclusive, not a crash
            results = [
                analysis.CheckResult(m["name"], "", None, analysis.INCONCLUSIVE, str(exc))
                for m in settings.metrics
            ]
        else:
            results = analysis.run(provider, settings.metrics, ctx, settings.min_requests)
        log.info(
            "analysis of %s/%s: %s",
            ctx.namespace,
            ctx.deployment,
            "; ".join(f"{r.verdict} {r.message}" for r in results) or "no checks",
        )
        return tuple(results)

    # --- drift ---------------------------------------------------------------------------

    def _drift(
        self,
        owner: Owner,
        spec: Spec,
        status: Mapping[str, Any],
        now: dt.datetime,
        taken: DriftMeasurement | None,
    ) -> DriftMeasurement | None:
        """A finished measurement when one is due; starts one in the background otherwise."""
        version = (status.get("stable") or {}).get("version")
        try:
            settings = spec.drift
        except SpecError:
            return None  # reconcile reports the bad field
        if settings is None or version is None:
            return None
        if not due(status.get("drift"), version, settings, now):
            return None
        if taken is not None and taken.version == version:
            return taken
        scope = DriftScope(
            model=spec.model.name,
            version=version,
            namespace=owner.namespace,
            deployment=owner.name,
            window=settings.window.text,
        )
        # Everything the result depends on: a result for another scope is stale.
        key = (owner.uid, scope, settings, spec.drift_prometheus, spec.registry.uri)
        return self.measurements.take_or_start(
            (owner.namespace, owner.name), key, lambda: self._measure(spec, scope)
        )

    def _measure(self, spec: Spec, scope: DriftScope) -> DriftMeasurement:
        """One drift measurement (runs on the measurement pool, never in a reconcile)."""
        settings = spec.drift
        assert settings is not None
        started = time.perf_counter()
        try:
            profile = self.registry.profile(spec.registry.uri, scope.model, scope.version)
            samples = self.drift_source(spec).histograms(scope)
            report = counts.measure(profile, samples, settings)
        except Exception as exc:
            # Unknown never triggers; the status says why (and the next interval retries).
            # Prometheus down, no profile, no address: each is an error message here.
            metrics.DRIFT_CHECKS.labels(verdict=drift_verdict.UNKNOWN).inc()
            return DriftMeasurement(scope.version, None, str(exc))
        finally:
            metrics.DRIFT_CHECK_DURATION.observe(time.perf_counter() - started)
        metrics.DRIFT_CHECKS.labels(verdict=drift_verdict.verdict(report, settings)).inc()
        return DriftMeasurement(scope.version, report)

    # --- live quality ---------------------------------------------------------------------

    def _performance(
        self,
        owner: Owner,
        spec: Spec,
        status: Mapping[str, Any],
        now: dt.datetime,
        taken: QualityMeasurement | None,
    ) -> QualityMeasurement | None:
        """A finished live-quality measurement when one is due; starts one otherwise."""
        version = (status.get("stable") or {}).get("version")
        try:
            settings = spec.performance
        except SpecError:
            return None  # reconcile reports the bad field
        pool, source = self.quality_measurements, self.quality_source
        if settings is None or version is None or pool is None or source is None:
            return None
        if not quality_verdict.due(status.get("performance"), version, settings, now):
            return None
        if taken is not None and taken.version == version:
            return taken
        scope = QualityScope(
            model=spec.model.name,
            store=spec.log_store,
            window_seconds=settings.window.seconds,
            namespace=owner.namespace,
            deployment=owner.name,
        )
        key = (owner.uid, version, scope, settings)
        return pool.take_or_start(
            (owner.namespace, owner.name),
            key,
            lambda: self._measure_quality(spec, scope, version, source),
        )

    def _measure_quality(
        self, spec: Spec, scope: QualityScope, version: str, source: Callable[[Spec], QualitySource]
    ) -> QualityMeasurement:
        """One live-quality measurement (runs on its pool, never in a reconcile)."""
        started = time.perf_counter()
        try:
            report = source(spec).window_quality(scope, dt.datetime.now(dt.UTC))
        except Exception as exc:
            # Unknown never triggers; the condition says why (and the next interval retries).
            quality_metrics.QUALITY_CHECKS.labels(verdict=quality_verdict.UNKNOWN).inc()
            return QualityMeasurement(version, None, f"{type(exc).__name__}: {exc}")
        finally:
            quality_metrics.QUALITY_CHECK_DURATION.observe(time.perf_counter() - started)
        settings = spec.performance
        assert settings is not None
        verdict = quality_verdict.judge(report.versions.get(version), settings)
        quality_metrics.QUALITY_CHECKS.labels(verdict=verdict).inc()
        return QualityMeasurement(version, report)

    # --- retraining ----------------------------------------------------------------------

    def _retraining_job(
        self, owner: Owner, spec: Spec, status: Mapping[str, Any]
    ) -> tuple[str, str | None, str, tuple[str, Mapping[str, Any]] | None]:
        """The running Job as this ModelDeployment must read it, and its candidate once it ended.

        Returns (state, uid, note, candidate). A Job another object controls
        is Foreign (jobs.JobRecord.seen_by); one that status records as
        created (jobUID) but that is gone, or was replaced by another uid, is
        Lost -- and its candidate is still looked up, since a Job removed by
        ttlSecondsAfterFinished may well have published one.
        """
        retraining = status.get("retraining") or {}
        name = retraining.get("job")
        if retraining.get("state") != RUNNING or not name or not spec.watches_drift:
            return job_state(None), None, "", None
        record = self.jobs.record(owner.namespace, name)
        if record is None:  # the Job watch has not listed yet
            found = self.kube.get("batch/v1", "Job", owner.namespace, name)
            record = JobRecord(JOB_ABSENT) if found is None else record_of(found)
        state, uid, note = record.seen_by(owner.uid)
        recorded = retraining.get("jobUID")
        if recorded and (state == JOB_ABSENT or (uid is not None and uid != recorded)):
            state, uid = JOB_LOST, recorded
        if state not in (*JOB_FINISHED, JOB_LOST):
            return state, uid, note, None
        # The registry decides what the Job produced, never its exit code.
        try:
            candidate = self.registry.candidate(
                spec.registry.uri, spec.model.name, name, owner_uid=owner.uid
            )
        except Exception as exc:
            # Unreadable is not "nothing published": wait (the next reconcile reads again)
            # rather than count the attempt as failed, and keep serving meanwhile.
            log.warning("cannot read the candidate of Job %s/%s: %s", owner.namespace, name, exc)
            return JOB_ACTIVE, uid, "", None
        return state, uid, note, candidate
