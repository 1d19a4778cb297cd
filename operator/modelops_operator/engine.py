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
from dataclasses import dataclass, field
from typing import Any

from modelops_operator import metrics, names
from modelops_operator.adapters.kube import Conflict, KubeAdapter, KubeError
from modelops_operator.adapters.registry import RegistryResolver, VersionResolver
from modelops_operator.plan import DeploymentState, Observed, Owner, Plan
from modelops_operator.reconcile import reconcile

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
    stopping: bool = False

    def stop(self) -> None:
        """Refuse further work: at shutdown, reconciles already queued in kopf's
        thread pool return at once instead of keeping the process alive."""
        self.stopping = True

    def reconcile(self, namespace: str, name: str) -> Plan | None:
        """Reconcile one ModelDeployment; None when it is gone, being deleted, or we stop."""
        if self.stopping:
            return None
        started = time.perf_counter()
        result = "error"
        try:
            plan = self._reconcile_with_retries(namespace, name)
            result = "success"
            return plan
        finally:
            metrics.RECONCILES.labels(result=result).inc()
            metrics.RECONCILE_DURATION.observe(time.perf_counter() - started)

    def _reconcile_with_retries(self, namespace: str, name: str) -> Plan | None:
        for attempt in range(1, MAX_CONFLICT_RETRIES + 1):
            body = self.kube.get_model_deployment(namespace, name)
            if body is None or body["metadata"].get("deletionTimestamp"):
                self.tracker.record(namespace, name, None)
                return None
            try:
                plan = self.reconcile_body(body)
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
        # Children have deterministic names, so each is one GET: a label-selector
        # LIST would cost the API server O(objects in the namespace) per
        # reconcile, O(n^2) for a namespace of n ModelDeployments.
        deployments: dict[str, DeploymentState] = {}
        for track in names.TRACKS:
            child = self.kube.get(
                "apps/v1", "Deployment", owner.namespace, names.child_name(owner.name, track)
            )
            if child is not None and _owned_by(child, owner.uid):
                deployments[track] = DeploymentState.from_object(child)
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

    def reconcile_body(self, body: Mapping[str, Any]) -> Plan:
        """One pass on an object already read; raises Conflict if it changed meanwhile."""
        observed = self.observe(body)
        plan = reconcile(body["spec"], observed, self.clock())
        self.carry_out(body, plan)
        return plan

    def carry_out(self, body: Mapping[str, Any], plan: Plan) -> None:
        metadata = body["metadata"]
        namespace, name = metadata["namespace"], metadata["name"]
        old_status = body.get("status") or {}
        if plan.status != old_status:
            patch = dict(plan.status)
            for key in old_status:
                patch.setdefault(key, None)  # merge-patch null removes fields no longer set
            self.kube.patch_status(
                namespace, name, patch, resource_version=metadata.get("resourceVersion")
            )
        for child in plan.apply:
            self.kube.apply(child)
        for ref in plan.delete:
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


def _owned_by(child: Mapping[str, Any], uid: str) -> bool:
    refs = child.get("metadata", {}).get("ownerReferences") or []
    return any(ref.get("uid") == uid and ref.get("controller") for ref in refs)


def owner_name(child: Mapping[str, Any]) -> str | None:
    """Name of the ModelDeployment controlling a child object, if any."""
    for ref in child.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("kind") == names.KIND and ref.get("controller"):
            return ref.get("name")
    return None
