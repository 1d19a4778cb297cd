"""The drift and retraining pass over one ModelDeployment: observe -> decide -> persist -> act -> tell.

Run by the resync loop after each reconcile (resync.py). It owns status.drift,
status.retraining, status.actions.retrain and the Drifted / Retraining
conditions, and writes only those, in one merge patch guarded by the
resourceVersion it read: if the engine (or a user) changed the object in
between, the API server answers 409 and the pass starts again on fresh data.

Order, as in the engine: the decision (status.retraining naming the Job) is
persisted before the Job is created, so an operator killed in between creates
the same Job -- same deterministic name -- on its next pass; an existing Job
answers 409 AlreadyExists and is simply adopted. Events are posted last.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from modelops_operator.adapters.kube import Conflict, KubeAdapter, KubeError
from modelops_operator.adapters.model_metadata import (
    ModelMetadata,
    ProfileNotAvailable,
    RegistryMetadata,
)
from modelops_operator.adapters.prometheus import PrometheusClient, PrometheusUnavailable
from modelops_operator.api import conditions as cond
from modelops_operator.api import names
from modelops_operator.drift import check as dc
from modelops_operator.retraining import trigger as rt
from modelops_operator.runtime import drift_metrics as dm

log = logging.getLogger("modelops.operator.drift")

MAX_CONFLICT_RETRIES = 3


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Measurement:
    verdict: str
    status: dict[str, Any] | None  # new status.drift, None when nothing new was measured
    condition: tuple[str, str, str] | None  # None: keep the Drifted condition as it is


@dataclass
class DriftPass:
    kube: KubeAdapter
    metadata: ModelMetadata = field(default_factory=RegistryMetadata)
    prometheus: Callable[[str], Any] = PrometheusClient
    clock: Callable[[], dt.datetime] = utcnow
    instance: str = "modelops-operator"
    # ServiceAccounts retraining pods may run as (--retraining-service-accounts); None: any.
    allowed_accounts: tuple[str, ...] | None = None

    @staticmethod
    def wanted(body: Mapping[str, Any]) -> bool:
        """Whether an object asks for drift monitoring or retraining at all."""
        spec = body.get("spec") or {}
        # An empty drift object still asks for drift (with the CRD's defaults).
        return (spec.get("monitoring") or {}).get("drift") is not None or bool(
            spec.get("retraining")
        )

    def run(self, namespace: str, name: str, listed: Mapping[str, Any] | None = None) -> None:
        """One pass; a no-op for objects without monitoring.drift and retraining.

        `listed` is the object as the caller last saw it: when it asks for
        neither, the pass returns without reading it again (most objects, on
        every resync).
        """
        if listed is not None and not self.wanted(listed):
            return
        for _ in range(MAX_CONFLICT_RETRIES):
            body = self.kube.get_model_deployment(namespace, name)
            if body is None or body["metadata"].get("deletionTimestamp"):
                return
            try:
                self.run_body(body)
                return
            except Conflict:
                log.info("conflict writing drift status of %s/%s; re-reading", namespace, name)
        log.warning(
            "drift pass of %s/%s gave up after %d conflicts", namespace, name, MAX_CONFLICT_RETRIES
        )

    def run_body(self, body: Mapping[str, Any]) -> None:
        spec = body.get("spec") or {}
        meta = body["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        drift_settings = dc.DriftSettings.from_spec(spec)
        retrain_settings = rt.RetrainSettings.from_spec(spec)
        if drift_settings is None and retrain_settings is None:
            return
        status = dict(body.get("status") or {})
        version = (status.get("stable") or {}).get("version")
        if version is None:
            return  # nothing serves yet: no traffic to measure, no base to retrain from
        now = self.clock()
        ts = dc.rfc3339(now)
        generation = int(meta.get("generation") or 1)
        old_conditions = list(status.get("conditions") or [])
        conditions = old_conditions
        events: list[tuple[str, str, str]] = []
        patch: dict[str, Any] = {}

        verdict = dc.UNKNOWN
        drift_now = status.get("drift")
        if drift_settings is not None:
            m = self.measure(spec, namespace, name, version, status.get("drift"), drift_settings)
            verdict = m.verdict
            if m.status is not None:
                patch["drift"] = replacing(status.get("drift"), m.status)
                drift_now = m.status
                dm.export_drift(namespace, name, m.status, drift_settings.threshold)
            if m.condition is not None:
                conditions = cond.set_condition(
                    conditions, cond.DRIFTED, *m.condition, now=ts, generation=generation
                )
                events.extend(_drift_flip(old_conditions, conditions))

        decision = None
        if retrain_settings is not None:
            decision = self.decide_retraining(
                body, spec, status, version, verdict, retrain_settings, now
            )
            if decision.status != (status.get("retraining") or {}):
                patch["retraining"] = replacing(status.get("retraining"), decision.status)
            if decision.handled_token is not None:
                patch["actions"] = {"retrain": decision.handled_token}
            conditions = cond.set_condition(
                conditions, cond.RETRAINING, *decision.condition, now=ts, generation=generation
            )
            events.extend(decision.events)

        if conditions != old_conditions:
            patch["conditions"] = conditions
        if patch:
            self.kube.patch_status(
                namespace, name, patch, resource_version=meta.get("resourceVersion")
            )
        if decision is not None:
            self._act(body, spec, decision, retrain_settings, drift_now)
        involved = {
            "apiVersion": names.API_VERSION,
            "kind": names.KIND,
            "name": name,
            "namespace": namespace,
            "uid": meta["uid"],
        }
        for type_, reason, message in events:
            try:
                self.kube.post_event(
                    involved, type=type_, reason=reason, message=message, instance=self.instance
                )
            except KubeError as exc:  # an Event that cannot be posted must not undo a decision
                log.warning("could not post event %s on %s: %s", reason, name, exc)

    # --- drift ---------------------------------------------------------------------

    def measure(
        self,
        spec: Mapping[str, Any],
        namespace: str,
        name: str,
        version: str,
        old: Mapping[str, Any] | None,
        settings: dc.DriftSettings,
    ) -> Measurement:
        now = self.clock()
        if not dc.due(old, version, settings, now):
            return Measurement(_last_verdict(old, settings), None, None)
        started = time.perf_counter()
        try:
            report = self._report(spec, namespace, name, version, settings)
        except (PrometheusUnavailable, ProfileNotAvailable, ValueError) as exc:
            # Unknown never triggers; the status says why (and the next pass retries).
            dm.DRIFT_CHECKS.labels(verdict=dc.UNKNOWN).inc()
            return Measurement(
                dc.UNKNOWN, None, dc.drifted_condition(dc.UNKNOWN, None, settings, str(exc)[:900])
            )
        finally:
            dm.DRIFT_CHECK_DURATION.observe(time.perf_counter() - started)
        verdict = dc.verdict(report, settings)
        dm.DRIFT_CHECKS.labels(verdict=verdict).inc()
        return Measurement(
            verdict,
            dc.drift_status(report, version, now),
            dc.drifted_condition(verdict, report, settings),
        )

    def _report(self, spec, namespace, name, version, settings):
        address = dc.prometheus_address(spec)
        if address is None:
            raise ValueError("spec.monitoring.prometheus.address is not set")
        profile = self.metadata.profile(spec["registry"]["uri"], spec["model"]["name"], version)
        client = self.prometheus(address)
        queries = dc.queries(spec["model"]["name"], version, namespace, name, settings.window)
        answers = {
            key: [(s.labels, s.value) for s in client.query(expr)] for key, expr in queries.items()
        }
        obs = dc.observation(
            profile, answers["numeric"], answers["categorical"], answers["prediction"]
        )
        return dc.measure(profile, obs, settings)

    # --- retraining --------------------------------------------------------------

    def decide_retraining(self, body, spec, status, version, verdict, settings, now):
        meta = body["metadata"]
        previous = status.get("retraining") or {}
        job = None
        candidate = None
        if previous.get("state") == rt.RUNNING and previous.get("job"):
            job = self.kube.get("batch/v1", "Job", meta["namespace"], previous["job"])
            if rt.job_state(job) in (rt.JOB_COMPLETE, rt.JOB_FAILED):
                candidate = self.metadata.candidate(
                    spec["registry"]["uri"], spec["model"]["name"], previous["job"]
                )
        retraining_condition = cond.get_condition(status.get("conditions") or [], cond.RETRAINING)
        return rt.decide(
            md_name=meta["name"],
            spec=spec,
            settings=settings,
            previous=previous,
            handled_token=(status.get("actions") or {}).get("retrain"),
            annotation_token=(meta.get("annotations") or {}).get(names.ANNOTATION_RETRAIN),
            base_version=version,
            drifted=verdict == dc.DRIFTED,
            job=job,
            candidate=candidate,
            now=now,
            exhausted_reported=bool(
                retraining_condition and retraining_condition.get("reason") == rt.REASON_EXHAUSTED
            ),
            refusal_reported=bool(
                retraining_condition
                and retraining_condition.get("reason") == rt.REASON_TEMPLATE_REFUSED
            ),
            allowed_accounts=self.allowed_accounts,
        )

    def _act(self, body, spec, decision: rt.Decision, settings, drift_status) -> None:
        meta = body["metadata"]
        if decision.outcome:
            dm.RETRAINING_JOBS.labels(meta["namespace"], meta["name"], decision.outcome).inc()
        if decision.job is None:
            return
        retraining = decision.status
        owner = {"name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"]}
        job = rt.build_job(
            owner,
            spec,
            settings,
            name=decision.job,
            base_version=retraining["baseVersion"],
            attempt=int(retraining["attempts"]),
            reason=retraining.get("reason") or "Drift",
            drift_report=drift_status,
            allowed_accounts=self.allowed_accounts,
        )
        try:
            self.kube.create(job)
            dm.RETRAINING_JOBS.labels(meta["namespace"], meta["name"], "started").inc()
            log.info("created retraining Job %s/%s", meta["namespace"], decision.job)
        except Conflict:
            pass  # it exists already: created by an earlier pass that was cut short


def replacing(old: Any, new: Any) -> Any:
    """`new` as a JSON merge patch over `old`: keys that `new` no longer has become null.

    A merge patch merges nested objects, so without the nulls a finished
    attempt's candidate or finishedAt would survive into the next attempt.
    """
    if not isinstance(old, Mapping) or not isinstance(new, Mapping):
        return new
    patch = {key: replacing(old.get(key), value) for key, value in new.items()}
    for key in old:
        patch.setdefault(key, None)
    return patch


def _last_verdict(old: Mapping[str, Any] | None, settings: dc.DriftSettings) -> str:
    """The verdict of the measurement in status, between two measurements."""
    if not old:
        return dc.UNKNOWN
    if old.get("insufficient"):
        return dc.INSUFFICIENT
    return dc.DRIFTED if float(old.get("score") or 0.0) > settings.threshold else dc.NOT_DRIFTED


def _drift_flip(old: list[dict], new: list[dict]) -> list[tuple[str, str, str]]:
    """An Event when Drifted changes status (not on every measurement)."""
    before = cond.get_condition(old, cond.DRIFTED)
    after = cond.get_condition(new, cond.DRIFTED)
    if after is None or (before is not None and before.get("status") == after.get("status")):
        return []
    if after["status"] == cond.TRUE:
        return [("Warning", after["reason"], after["message"])]
    if before is not None and before.get("status") == cond.TRUE:
        return [("Normal", "DriftCleared", after["message"])]
    return []
