"""Carries out one reconcile: observe -> reconcile (pure) -> persist -> act -> tell.

The order follows DESIGN.md: the decision is persisted in status before it is
acted on, so an operator killed between the two resumes from the recorded
decision (applying children is idempotent; it is simply done again). The
status write is guarded by the resourceVersion that was observed: if anything
changed the object in between (a user, another handler of this operator), the
API server answers 409 and the whole cycle is re-run on fresh data.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from modelops_operator.adapters.kube import Conflict, KubeAdapter, KubeError
from modelops_operator.adapters.registry import RegistryResolver, VersionResolver
from modelops_operator.api import names
from modelops_operator.api.objects import DeploymentState, Owner
from modelops_operator.providers import provider_for
from modelops_operator.reconcile.pipeline import CANARY, reconcile, strategy_of
from modelops_operator.reconcile.plan import Observed, Plan
from modelops_operator.rollout import analysis
from modelops_operator.rollout import machine as canary
from modelops_operator.runtime import canary_metrics, metrics
from modelops_operator.runtime.children import ChildMemory, controller_uid, slim
from modelops_operator.runtime.freshness import Freshness
from modelops_operator.runtime.requeue import Requeuer

log = logging.getLogger("modelops.operator")

MAX_CONFLICT_RETRIES = 5


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ConflictRetriesExhausted(RuntimeError):
    """The object kept changing under us; the caller should retry later."""


@dataclass
class Engine:
    kube: KubeAdapter
    resolver: VersionResolver = field(default_factory=RegistryResolver)
    instance: str = "modelops-operator"
    clock: Callable[[], dt.datetime] = utcnow
    tracker: metrics.PhaseTracker = field(default_factory=metrics.PhaseTracker)
    # Builds the canary's metrics provider from a spec (providers/); a seam for tests.
    metrics_provider: Callable[[Mapping[str, Any]], analysis.MetricsProvider] = provider_for
    # Wakes an object up when its plan asks (a canary step's interval ending).
    requeuer: Requeuer | None = None
    # Child Deployments as last seen and the objects last applied (children.py).
    children: ChildMemory = field(default_factory=ChildMemory)
    # Per-object lock and newest resourceVersion used (freshness.py).
    freshness: Freshness = field(default_factory=Freshness)
    stopping: bool = False

    def __post_init__(self) -> None:
        if self.requeuer is None:
            self.requeuer = Requeuer(self._requeued)

    def stop(self) -> None:
        """Refuse further work: at shutdown, reconciles already queued in kopf's
        thread pool return at once instead of keeping the process alive."""
        self.stopping = True
        if self.requeuer is not None:
            self.requeuer.stop()

    def _requeued(self, namespace: str, name: str) -> None:
        try:
            self.reconcile(namespace, name)
        except Exception as exc:  # the resync and watches will try again
            log.warning("requeued reconcile of %s/%s failed: %s", namespace, name, exc)

    def prime(self, namespaces: tuple[str | None, ...]) -> None:
        """Load every child Deployment once, so reconciles observe children from memory.

        After this the Deployment watch (handlers.py) keeps the memory current;
        without it (a failed list) every reconcile GETs its children instead.
        """
        try:
            listed = [
                slim(obj)
                for namespace in namespaces
                for obj in self.kube.list(
                    "apps/v1", "Deployment", namespace,
                    labels={names.LABEL_MANAGED_BY: names.MANAGED_BY},
                )
            ]  # fmt: skip
        except KubeError as exc:
            log.warning("cannot list child Deployments (%s); reconciles will GET them", exc)
            return
        self.children.prime(listed)

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
        409 and the retry reads the object afresh. `force` applies every child even when this
        process applied the same object before (the resync's safety net for
        children nobody watches, such as Services).
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
        for attempt in range(1, MAX_CONFLICT_RETRIES + 1):
            key = (namespace, name)
            if attempt == 1 and given is not None and not self.freshness.stale(key, given):
                body: Mapping[str, Any] | None = given
            else:
                body = self.kube.get_model_deployment(namespace, name)
            if body is None or body["metadata"].get("deletionTimestamp"):
                self.tracker.record(namespace, name, None)
                canary_metrics.forget(namespace, name)
                if body is None:
                    self.freshness.forget(key)
                return None
            self.freshness.seen(key, body)
            try:
                plan = self.reconcile_body(body, force=force)
            except Conflict as exc:
                metrics.RECONCILES.labels(result="conflict").inc()
                log.info(
                    "conflict writing %s/%s (attempt %d): %s; re-reading",
                    namespace,
                    name,
                    attempt,
                    exc.message,
                )
                continue
            self.tracker.record(namespace, name, plan.status.get("phase"))
            return plan
        raise ConflictRetriesExhausted(
            f"{namespace}/{name} changed during {MAX_CONFLICT_RETRIES} reconcile attempts"
        )

    def observe(self, body: Mapping[str, Any]) -> Observed:
        metadata = body["metadata"]
        spec = body["spec"]
        owner = Owner(
            name=metadata["name"],
            namespace=metadata["namespace"],
            uid=metadata["uid"],
            generation=int(metadata.get("generation") or 1),
        )
        deployments: dict[str, DeploymentState] = {}
        for track in names.TRACKS:
            state = self._child_state(owner.namespace, names.child_name(owner.name, track))
            if state is not None and state[0] == owner.uid:
                deployments[track] = state[1]
        resolved, error = None, None
        if spec["model"]["version"] == names.CHANNEL_LATEST_APPROVED:
            try:
                resolved = self.resolver.resolve(
                    spec["registry"]["uri"], spec["model"]["name"], names.CHANNEL_LATEST_APPROVED
                )
            except Exception as exc:  # any registry failure is reported, never fatal
                error = f"{type(exc).__name__}: {exc}"
        return Observed(
            owner=owner,
            status=body.get("status") or {},
            annotations=metadata.get("annotations") or {},
            deployments=deployments,
            resolved_version=resolved,
            resolve_error=error,
        )

    def _child_state(self, namespace: str, name: str) -> tuple[str | None, DeploymentState] | None:
        """(controller uid, state) of a child Deployment, from memory when it is primed."""
        if self.children.primed:
            known = self.children.deployment(namespace, name)
            return None if known is None else (known.owner_uid, known.state)
        # Children have deterministic names, so each is one GET: a label-selector
        # LIST would cost the API server O(objects in the namespace) per
        # reconcile, O(n^2) for a namespace of n ModelDeployments.
        child = self.kube.get("apps/v1", "Deployment", namespace, name)
        if child is None:
            return None
        return controller_uid(child), DeploymentState.from_object(child)

    def reconcile_body(self, body: Mapping[str, Any], *, force: bool = False) -> Plan:
        """One pass on an object already read; raises Conflict if it changed meanwhile.

        The passes, in order: observe (adapters) -> canary analysis when a step
        is due (metrics provider) -> reconcile (pure) -> carry out (status
        first, then children, then events) -> metrics and requeue.
        """
        now = self.clock()
        observed = self.analyse(body, self.observe(body), now)
        plan = reconcile(body["spec"], observed, now)
        self.carry_out(body, plan, force=force)
        metadata = body["metadata"]
        if strategy_of(body["spec"]) == CANARY:
            canary_metrics.record(
                metadata["namespace"], metadata["name"], plan.status, plan.outcomes,
                observed.analysis,
            )  # fmt: skip
        if plan.requeue_after is not None and self.requeuer is not None:
            self.requeuer.schedule(metadata["namespace"], metadata["name"], plan.requeue_after)
        return plan

    def analyse(self, body: Mapping[str, Any], observed: Observed, now: dt.datetime) -> Observed:
        """Run the canary analysis if the current step's interval is over (else unchanged).

        Only here does the operator query metrics, and only when a verdict is
        needed. Any failure (no provider, Prometheus down) becomes Inconclusive
        results: the state machine counts them toward failureLimit.
        """
        spec = body["spec"]
        if strategy_of(spec) != CANARY:
            return observed
        try:
            due = canary.analysis_due(spec, observed.status, observed.deployments, now)
            interval = canary.Rollout.of(spec).interval
        except ValueError:
            return observed  # reconcile reports the bad spec
        if not due:
            return observed
        metrics_spec, min_requests, _ = analysis.settings_of(spec)
        ctx = analysis.AnalysisContext(
            namespace=observed.owner.namespace,
            deployment=observed.owner.name,
            track=names.TRACK_CANARY,
            window_seconds=interval,
        )
        try:
            provider = self.metrics_provider(spec)
        except Exception as exc:  # a spec the provider refuses is inconclusive, not a crash
            results = [
                analysis.CheckResult(m["name"], "", None, analysis.INCONCLUSIVE, str(exc))
                for m in metrics_spec
            ]
        else:
            results = analysis.run(provider, metrics_spec, ctx, min_requests)
        log.info(
            "analysis of %s/%s: %s",
            ctx.namespace,
            ctx.deployment,
            "; ".join(f"{r.verdict} {r.message}" for r in results) or "no checks",
        )
        return replace(observed, analysis=tuple(results))

    def carry_out(self, body: Mapping[str, Any], plan: Plan, *, force: bool = False) -> None:
        metadata = body["metadata"]
        namespace, name = metadata["namespace"], metadata["name"]
        old_status = body.get("status") or {}
        if plan.status != old_status:
            patch = dict(plan.status)
            for key in old_status:
                patch.setdefault(key, None)  # merge-patch null removes fields no longer set
            answer = self.kube.patch_status(
                namespace, name, patch, resource_version=metadata.get("resourceVersion")
            )
            self.freshness.seen((namespace, name), answer)
        # Services before the workloads they front (the order Kubernetes
        # recommends): whoever sees a child Deployment can count on its
        # Service being there already. sorted() keeps the plan's order otherwise.
        for child in sorted(plan.apply, key=lambda obj: obj.get("kind") != "Service"):
            self._apply(child, force)
        for ref in plan.delete:
            self.children.forget(ref.kind, namespace, ref.name)
            self.kube.delete(ref.api_version, ref.kind, namespace, ref.name)
        involved = {
            "apiVersion": names.API_VERSION,
            "kind": names.KIND,
            "name": name,
            "namespace": namespace,
            "uid": metadata["uid"],
            "resourceVersion": metadata.get("resourceVersion", ""),
        }
        for event in plan.events:
            self._post(involved, event.type, event.reason, event.message)

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

    def _post(self, involved: Mapping[str, Any], type: str, reason: str, message: str) -> None:
        # An event that cannot be posted must not undo or repeat a decision.
        try:
            self.kube.post_event(
                involved, type=type, reason=reason, message=message, instance=self.instance
            )
            metrics.EVENTS.labels(type=type, posted="true").inc()
        except KubeError as exc:
            metrics.EVENTS.labels(type=type, posted="false").inc()
            log.warning("could not post event %s on %s: %s", reason, involved["name"], exc)


def owner_name(child: Mapping[str, Any]) -> str | None:
    """Name of the ModelDeployment controlling a child object, if any."""
    for ref in child.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("kind") == names.KIND and ref.get("controller"):
            return ref.get("name")
    return None
