"""Carries out one reconcile: observe -> reconcile (pure) -> persist -> act -> tell.

The decision is persisted in status before it is acted on, so an operator
killed between the two resumes from the recorded decision (applying children
is idempotent, a Job has a deterministic name and is adopted when it
exists). The status write is one merge patch guarded by the resourceVersion
that was observed: if anything changed the object in between (a user, a
follower that briefly thought it led), the API server answers 409 and the
whole cycle runs again on fresh data. Events come last: an Event that
cannot be posted never undoes or repeats a decision.

This mirrors Argo Rollouts' rolloutContext + persistRolloutStatus: the whole
new status is built in memory by the pure pipeline and sent once.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from modelops_operator.adapters.kube import Conflict, KubeAdapter, KubeError
from modelops_operator.adapters.registry import ModelRegistry, RegistryReader
from modelops_operator.api import names
from modelops_operator.api.spec import CANARY, Spec
from modelops_operator.api.status import merge_patch
from modelops_operator.batch.job import LABEL_BATCH
from modelops_operator.drift.counts import DriftSource
from modelops_operator.providers import drift_source_for, metrics_provider_for, quality_source_for
from modelops_operator.quality.source import QualityMeasurement, QualitySource
from modelops_operator.reconcile.pipeline import reconcile
from modelops_operator.reconcile.plan import DriftMeasurement, Observed, Plan, Policy
from modelops_operator.retraining.record import must_hold
from modelops_operator.rollout.analysis import MetricsProvider
from modelops_operator.runtime import metrics, quality_metrics
from modelops_operator.runtime.children import ChildMemory, slim
from modelops_operator.runtime.events import EventPoster
from modelops_operator.runtime.freshness import Freshness, as_version
from modelops_operator.runtime.jobs import CREATED, JobMemory, create_job, release
from modelops_operator.runtime.measurements import DriftMeasurements
from modelops_operator.runtime.observe import Observer
from modelops_operator.runtime.requeue import Requeuer

log = logging.getLogger("modelops.operator")

MAX_CONFLICT_RETRIES = 5
DRIFT_WORKERS = 4  # drift measurements running side by side (each waits on Prometheus)
# Live-quality measurements side by side: each reads and joins a window of Parquet
# (CPU and memory, not waiting), so fewer than the drift pool.
QUALITY_WORKERS = 2


def _quality_failed(message: str) -> QualityMeasurement:
    return QualityMeasurement(version="", report=None, error=message)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ConflictRetriesExhausted(RuntimeError):
    """The object kept changing under us; the caller should retry later."""


@dataclass
class Engine:
    kube: KubeAdapter
    registry: ModelRegistry = field(default_factory=RegistryReader)
    instance: str = "modelops-operator"
    clock: Callable[[], dt.datetime] = utcnow
    tracker: metrics.PhaseTracker = field(default_factory=metrics.PhaseTracker)
    # Build a spec's providers (providers/); seams for tests.
    metrics_provider: Callable[[Spec], MetricsProvider] = metrics_provider_for
    drift_source: Callable[[Spec], DriftSource] = drift_source_for
    quality_source: Callable[[Spec], QualitySource] = quality_source_for
    # The site's policy (operator flags), e.g. --retraining-service-accounts.
    policy: Policy = field(default_factory=Policy)
    # Wakes an object up when its plan asks (a canary step's interval ending,
    # the next drift measurement, a retraining retry) or a measurement finished.
    requeuer: Requeuer | None = None
    # Child Deployments as last seen and the objects last applied (children.py).
    children: ChildMemory = field(default_factory=ChildMemory)
    # Retraining Jobs as the Job watch last saw them (jobs.py).
    jobs: JobMemory = field(default_factory=JobMemory)
    # Per-object lock and newest resourceVersion used (freshness.py).
    freshness: Freshness = field(default_factory=Freshness)
    drift_workers: int = DRIFT_WORKERS
    stopping: bool = False

    def __post_init__(self) -> None:
        if self.requeuer is None:
            self.requeuer = Requeuer(self._requeued)
        # Posts synchronously until started (runtime/main.py starts its thread).
        self.events = EventPoster(self.kube, self.instance)
        self.measurements = DriftMeasurements(self.drift_workers, self._measured)
        self.quality_measurements = DriftMeasurements(
            QUALITY_WORKERS, self._measured, name="quality", failed=_quality_failed
        )
        self.observer = Observer(
            kube=self.kube,
            registry=self.registry,
            children=self.children,
            jobs=self.jobs,
            measurements=self.measurements,
            metrics_provider=self.metrics_provider,
            drift_source=self.drift_source,
            quality_source=self.quality_source,
            quality_measurements=self.quality_measurements,
        )

    def stop(self) -> None:
        """Refuse further work: at shutdown, queued reconciles return at once instead
        of keeping the process alive."""
        self.stopping = True
        if self.requeuer is not None:
            self.requeuer.stop()
        self.measurements.stop()
        self.quality_measurements.stop()
        self.events.stop()

    def _requeued(self, namespace: str, name: str) -> None:
        try:
            self.reconcile(namespace, name)
        except Exception as exc:  # the resync and watches will try again
            log.warning("requeued reconcile of %s/%s failed: %s", namespace, name, exc)

    def _measured(self, namespace: str, name: str) -> None:
        """A drift measurement finished: the object's next reconcile writes it."""
        if self.requeuer is not None:
            self.requeuer.schedule(namespace, name, 0.0)

    def prime(self, namespaces: tuple[str | None, ...]) -> None:
        """List every child Deployment and retraining Job into memory, so reconciles observe them from it.

        Called at start and before every resync pass. Between lists the watches
        (handlers.py) keep the memory current; the relist corrects what a watch
        failed to deliver (children.py, jobs.py). Without a first list (it
        failed) every reconcile GETs its children instead.
        """
        selector = {names.LABEL_MANAGED_BY: names.MANAGED_BY}
        for api_version, kind, memory in (
            ("apps/v1", "Deployment", self.children),
            ("batch/v1", "Job", self.jobs),
        ):
            try:
                snapshots = [
                    self.kube.list_snapshot(api_version, kind, namespace, labels=selector)
                    for namespace in namespaces
                ]
            except KubeError as exc:
                fallback = (
                    "the watch keeps what the last list found"
                    if memory.primed
                    else "reconciles will GET them"
                )
                log.warning("cannot list child %ss (%s); %s", kind, exc, fallback)
                continue
            listed = [slim(obj) for items, _ in snapshots for obj in items]
            corrected = memory.prime(listed, _oldest_version(v for _, v in snapshots))
            if corrected:
                # No watch event had reported these; the resync pass that
                # follows reconciles their owners.
                metrics.RELIST_CORRECTIONS.labels(kind=kind).inc(corrected)
                log.info(
                    "relist of child %ss corrected %d the watch had not reported", kind, corrected
                )

    # --- one reconcile ---------------------------------------------------------------------

    def reconcile(
        self,
        namespace: str,
        name: str,
        *,
        body: Mapping[str, Any] | None = None,
        force: bool = False,
    ) -> Plan | None:
        """Reconcile one ModelDeployment; None when it is gone, being deleted, or we stop.

        `body` is the object as the caller already has it (kopf's event, the
        resync's list): the first attempt uses it instead of reading it again,
        unless this process has already used or written a newer version. If
        it is stale in a way nobody here saw, the guarded status write answers
        409 and the retry reads the object afresh. `force` applies every child
        even when this process applied the same object before (the resync's
        safety net for children nobody watches, such as Services).
        """
        if self.stopping:
            return None
        started = time.perf_counter()
        result = "error"
        try:
            with self.freshness.lock((namespace, name)):
                plan = self._reconcile_with_retries(namespace, name, body, force)
            result = "success"
            return plan
        finally:
            metrics.RECONCILES.labels(result=result).inc()
            metrics.RECONCILE_DURATION.observe(time.perf_counter() - started)

    def _reconcile_with_retries(
        self, namespace: str, name: str, given: Mapping[str, Any] | None, force: bool
    ) -> Plan | None:
        key = (namespace, name)
        drift: DriftMeasurement | None = None  # a measurement survives a conflict
        performance: QualityMeasurement | None = None
        for attempt in range(1, MAX_CONFLICT_RETRIES + 1):
            if attempt == 1 and given is not None and not self.freshness.stale(key, given):
                body: Mapping[str, Any] | None = given
            else:
                body = self.kube.get_model_deployment(namespace, name)
            if body is None or body["metadata"].get("deletionTimestamp"):
                self._gone(namespace, name, deleted=body is None)
                return None
            self.freshness.seen(key, body)
            spec = Spec(body["spec"])
            now = self.clock()
            observed = self.observer.observe(body, spec, now, drift=drift, performance=performance)
            plan = reconcile(spec, observed, now, self.policy)
            try:
                self.carry_out(body, plan, force=force)
            except Conflict as exc:
                metrics.RECONCILES.labels(result="conflict").inc()
                log.info(
                    "conflict writing %s/%s (attempt %d): %s; re-reading",
                    namespace,
                    name,
                    attempt,
                    exc.message,
                )
                drift, performance = observed.drift, observed.performance
                continue
            self._account(body, spec, observed, plan)
            return plan
        raise ConflictRetriesExhausted(
            f"{namespace}/{name} changed during {MAX_CONFLICT_RETRIES} reconcile attempts"
        )

    def reconcile_body(self, body: Mapping[str, Any], *, force: bool = False) -> Plan:
        """One pass on an object already read; raises Conflict if it changed meanwhile."""
        spec = Spec(body["spec"])
        now = self.clock()
        observed = self.observer.observe(body, spec, now)
        plan = reconcile(spec, observed, now, self.policy)
        self.carry_out(body, plan, force=force)
        self._account(body, spec, observed, plan)
        return plan

    def _gone(self, namespace: str, name: str, *, deleted: bool) -> None:
        # Nothing will record its Jobs now: GC may delete them.
        self._release_recorded(namespace, name, None, {})
        self.tracker.record(namespace, name, None)
        metrics.forget_canary(namespace, name)
        if deleted:
            self.freshness.forget((namespace, name))
            self.measurements.forget((namespace, name))
            self.quality_measurements.forget((namespace, name))
            quality_metrics.forget(namespace, name)

    # --- persist, act, tell ------------------------------------------------------------------

    def carry_out(self, body: Mapping[str, Any], plan: Plan, *, force: bool = False) -> None:
        metadata = body["metadata"]
        namespace, name = metadata["namespace"], metadata["name"]
        # 1. Persist: only what differs, in one patch guarded by the resourceVersion read.
        patch = merge_patch(body.get("status") or {}, plan.status)
        if patch:
            answer = self.kube.patch_status(
                namespace, name, patch, resource_version=metadata.get("resourceVersion")
            )
            self.freshness.seen((namespace, name), answer)
        # 2. Act. Services before the workloads they front (the order Kubernetes
        # recommends): whoever sees a child Deployment can count on its Service
        # being there already. sorted() keeps the plan's order otherwise.
        for child in sorted(plan.apply, key=lambda obj: obj.get("kind") != "Service"):
            self._apply(child, force)
        for ref in plan.delete:
            self.children.forget(ref.kind, namespace, ref.name)
            self.kube.delete(ref.api_version, ref.kind, namespace, ref.name)
        for job in plan.create:
            self._create(job, namespace, name, metadata["uid"])
        # After the status write: a Job it records may now be deleted (retraining/record.py).
        self._release_recorded(
            namespace, name, metadata["uid"], plan.status.get("retraining") or {}
        )
        # 3. Tell.
        involved = {
            "apiVersion": names.API_VERSION,
            "kind": names.KIND,
            "name": name,
            "namespace": namespace,
            "uid": metadata["uid"],
            "resourceVersion": metadata.get("resourceVersion", ""),
        }
        for event in plan.events:
            self.events.post(involved, event.type, event.reason, event.message)

    def _apply(self, child: Mapping[str, Any], force: bool) -> None:
        """Server-side apply a child unless this process already applied exactly it."""
        if not force and self.children.unchanged(child):
            metrics.APPLIES_SKIPPED.inc()
            return
        metadata = child["metadata"]
        try:
            answer = self.kube.apply(child)
        except KubeError:
            # Whatever the server holds now is unknown: apply in full next time.
            self.children.forget(child["kind"], metadata.get("namespace", ""), metadata["name"])
            raise
        self.children.applied(child, slim(answer))

    def _create(self, job: Mapping[str, Any], namespace: str, md_name: str, uid: str) -> None:
        """Create a Job, or adopt it when an interrupted pass of ours created it (jobs.create);
        what the create found (someone else's Job, a refusal) is read by the next pass."""
        created = create_job(self.kube, self.jobs, job, uid) == CREATED
        if created and LABEL_BATCH not in (job["metadata"].get("labels") or {}):
            metrics.RETRAINING_JOBS.labels(namespace, md_name, "started").inc()

    def _release_recorded(
        self, namespace: str, md_name: str, md_uid: str | None, retraining: Mapping[str, Any]
    ) -> None:
        """Remove the record finalizer from this ModelDeployment's Jobs that no longer need it."""
        for job, found in self.jobs.held_for(namespace, md_name):
            controller_uid = (found.controller or {}).get("uid")
            keep = must_hold(
                job_name=job,
                job_uid=found.uid,
                controller_uid=controller_uid,
                md_uid=md_uid,
                retraining=retraining,
            )
            if not keep:
                release(self.kube, self.jobs, namespace, job)

    def _account(self, body: Mapping[str, Any], spec: Spec, observed: Observed, plan: Plan) -> None:
        """Metrics of what was carried out, and the next wake-up the plan asked for."""
        namespace, name = observed.owner.namespace, observed.owner.name
        self.tracker.record(namespace, name, plan.status.get("phase"))
        if spec.strategy == CANARY:
            metrics.record_canary(namespace, name, plan.status, plan.outcomes, observed.analysis)
        drift = plan.status.get("drift")
        if observed.drift is not None and observed.drift.report is not None and drift:
            metrics.export_drift(namespace, name, drift, spec.drift.threshold if spec.drift else 0)
        quality_metrics.export(namespace, name, spec, observed.performance, plan.status)
        if plan.retraining_outcome:
            metrics.RETRAINING_JOBS.labels(namespace, name, plan.retraining_outcome).inc()
        if plan.requeue_after is not None and self.requeuer is not None:
            self.requeuer.schedule(namespace, name, plan.requeue_after)


def owner_name(child: Mapping[str, Any]) -> str | None:
    """Name of the ModelDeployment controlling a child object, if any."""
    for ref in child.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("kind") == names.KIND and ref.get("controller"):
            return ref.get("name")
    return None


def _oldest_version(versions: Iterable[str | None]) -> str | None:
    """The oldest of several lists' resourceVersions (None if any is unknown): an
    object older than every list was deleted before each of them was served."""
    numbers = [as_version(v) for v in versions]
    if not numbers or None in numbers:
        return None
    return str(min(numbers))
