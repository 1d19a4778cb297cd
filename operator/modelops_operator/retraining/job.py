"""The retraining Job: its deterministic name and its batch/v1 manifest (pure).

The name is a function of (ModelDeployment name and uid, base version,
attempt) so that a decision persisted in status always leads to the same Job,
however often the create is retried across operator restarts, while a
ModelDeployment deleted and re-created under the same name (a new uid) never
computes the name of its predecessor's Jobs. The uid is also a label
(`modelops.io/owner-uid`) and, as the controller ownerReference, what an
existing Job must carry to be adopted.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from modelops_operator.api import names
from modelops_operator.api.objects import Owner
from modelops_operator.api.spec import Spec, SpecError
from modelops_operator.retraining import policy, record

JOB_NAME_MAX = 63  # the Job controller copies the name into a pod label (63 characters max)
LABEL_RETRAIN_ATTEMPT = "modelops.io/retrain-attempt"
LABEL_RETRAIN_REASON = "modelops.io/retrain-reason"  # Drift, Performance, Manual, Retry
ANNOTATION_TRAIN_DATA = "modelops.io/train-data"  # the inference-log: source it was offered
LABEL_OWNER_UID = "modelops.io/owner-uid"
UID_IN_NAME = 8  # uid characters kept readable in the name (the hash covers all of it)


# --- naming -------------------------------------------------------------------------


def _dns_part(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")


def job_name(md_name: str, owner_uid: str, base_version: str, attempt: int) -> str:
    """`<md>-retrain-<uid[:8]>-v<base>-<attempt>-<hash>`: deterministic, DNS-1123, at most 63 characters.

    The uid makes the name this ModelDeployment instance's: a same-named
    object created after a delete (`--cascade=orphan` leaves the old Jobs
    behind) gets other names, so it neither collides with nor adopts them.
    The attempt number (counted per base version, never restarted: see
    trigger.py) tells the attempts apart; the same decision always yields the
    same name, so retries of the create are idempotent. The hash, over all of
    it, keeps names distinct when a long ModelDeployment name or version is
    truncated.
    """
    key = f"{md_name}\0{owner_uid}\0{base_version}\0{attempt}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:8]
    uid = _dns_part(owner_uid)[:UID_IN_NAME]
    readable = _dns_part(f"{md_name}-retrain-{uid}-v{base_version}-{attempt}")
    readable = readable[: JOB_NAME_MAX - len(digest) - 1].rstrip("-")
    return f"{readable}-{digest}" if readable else f"retrain-{digest}"


def _label_value(text: str) -> str:
    value = re.sub(r"[^A-Za-z0-9_.-]+", "-", text)[:63].strip("-_.")
    return value or "none"


# --- the Job ----------------------------------------------------------------------


def window_text(seconds: float) -> str:
    """A window in the one unit the `inference-log:` source reads (d, h, m or s)."""
    whole = max(1, round(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if whole % size == 0:
            return f"{whole // size}{unit}"
    return f"{whole}s"


def train_data(spec: Spec) -> str | None:
    """`inference-log:<model>:<window>`: the predictions judged by spec.monitoring.performance,
    joined with their outcomes; None when performance is not monitored."""
    try:
        settings = spec.performance
    except SpecError:
        return None  # reported on PerformanceDegraded; the Job keeps its template's data
    if settings is None:
        return None
    return f"inference-log:{spec.model.name}:{window_text(settings.window.seconds)}"


def request_env(
    spec: Spec,
    base_version: str,
    reason: str,
    job: str,
    owner_uid: str,
    drift_report: Mapping[str, Any] | None,
    gates: Mapping[str, Any],
    performance_report: Mapping[str, Any] | None = None,
) -> list[dict[str, str]]:
    """The MODELOPS_* environment describing the request; `modelops train` reads it.

    With spec.monitoring.performance the Job is also offered the logged data:
    MODELOPS_TRAIN_DATA (`--data`'s default, and `$(MODELOPS_TRAIN_DATA)` in a
    template's args) and MODELOPS_LOG_URI (where that log lives), with the
    measurement that judged it in MODELOPS_PERFORMANCE_REPORT.
    """
    env = {
        "MODELOPS_MODEL": spec.model.name,
        "MODELOPS_BASE_VERSION": base_version,
        "MODELOPS_REGISTRY": spec.registry.uri,
        "MODELOPS_RETRAIN_REASON": reason,
        "MODELOPS_RETRAIN_JOB": job,
        # Recorded with the candidate (metadata.retraining.owner_uid): the operator
        # looks a candidate up by owner uid and Job, never by Job name alone.
        "MODELOPS_RETRAIN_OWNER_UID": owner_uid,
        "MODELOPS_DRIFT_REPORT": json.dumps(drift_report or {}, sort_keys=True),
        "MODELOPS_GATES": json.dumps(dict(gates), sort_keys=True),
    }
    data = train_data(spec)
    if data is not None:
        env["MODELOPS_TRAIN_DATA"] = data
        env["MODELOPS_LOG_URI"] = spec.log_store
        env["MODELOPS_PERFORMANCE_REPORT"] = json.dumps(performance_report or {}, sort_keys=True)
    return [{"name": k, "value": v} for k, v in env.items()]


def build_job(
    owner: Owner,
    spec: Spec,
    *,
    name: str,
    base_version: str,
    attempt: int,
    reason: str,
    drift_report: Mapping[str, Any] | None,
    allowed_accounts: tuple[str, ...] | None = None,
    performance_report: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The batch/v1 Job for one attempt: the user's template plus our name, labels, env, owner.

    `owner` is the ModelDeployment. The request environment replaces variables of the same name in the template, so a
    template cannot point a Job at another model by accident. The Job gets
    backoffLimit 0 and restartPolicy Never unless the template says otherwise:
    retries are the operator's (maxAttempts, recorded in status), not hidden
    pod restarts. Its pod gets the restricted security context where the
    template leaves it out (policy.harden).

    Raises policy.JobTemplateRefused for a template a retraining pod may
    not have (privileged, hostPath, host namespaces...): `decide` refuses such
    a template before any Job is due, so this is the last line, never the first.
    """
    settings = spec.retraining
    if settings is None:
        raise ValueError("spec.retraining is not set: no retraining Job to build")
    policy.check(settings.job_template, allowed_accounts)
    template = copy.deepcopy(dict(settings.job_template))
    meta = template.get("metadata") or {}
    job_spec = copy.deepcopy(template.get("spec") or {})
    job_spec.setdefault("backoffLimit", 0)
    pod = job_spec.setdefault("template", {})
    pod_meta = pod.setdefault("metadata", {})
    pod_spec = pod.setdefault("spec", {})
    pod_spec.setdefault("restartPolicy", "Never")
    pod_spec = policy.hardened(pod_spec)
    pod["spec"] = pod_spec
    labels = {
        **(meta.get("labels") or {}),
        names.LABEL_MANAGED_BY: names.MANAGED_BY,
        names.LABEL_DEPLOYMENT: owner.name,
        names.LABEL_MODEL_VERSION: _label_value(base_version),
        LABEL_RETRAIN_ATTEMPT: str(attempt),
        LABEL_RETRAIN_REASON: _label_value(reason),
        LABEL_OWNER_UID: _label_value(owner.uid),
    }
    pod_meta["labels"] = {**(pod_meta.get("labels") or {}), **labels}
    env = request_env(
        spec,
        base_version,
        reason,
        name,
        owner.uid,
        drift_report,
        settings.gates,
        performance_report,
    )
    ours = {e["name"] for e in env}
    for container in pod_spec.get("containers") or []:
        kept = [e for e in container.get("env") or [] if e.get("name") not in ours]
        container["env"] = kept + env
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": owner.namespace,
            "labels": labels,
            "annotations": {**(meta.get("annotations") or {}), **_data_annotation(spec)},
            # Held until status records it (record.py): deleted before that, it
            # stays visible, so it is reported lost, never created again.
            "finalizers": [record.FINALIZER],
            "ownerReferences": [
                {
                    "apiVersion": names.API_VERSION,
                    "kind": names.KIND,
                    "name": owner.name,
                    "uid": owner.uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": job_spec,
    }


def _data_annotation(spec: Spec) -> dict[str, str]:
    data = train_data(spec)
    return {} if data is None else {ANNOTATION_TRAIN_DATA: data}
