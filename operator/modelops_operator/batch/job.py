"""The batch scoring Job and CronJob: deterministic names and batch/v1 manifests (pure).

A run is an Indexed Job: `completions` = spec.batch.shards, each pod runs
`modelops score --shard $(JOB_COMPLETION_INDEX)/N` over the same input and
writes its own part into the run's folder, `<out>/<Job name>/`, so runs
never overwrite each other and a retried pod replaces exactly its part.
Every pod scores the version pinned in the Job (`--version`), the one the
stable track served when the run was decided, whatever a rollout does
meanwhile; and `--summary-file /dev/termination-log` leaves each pod's JSON
summary in its status, for the operator to sum without reading logs.

Exit codes 2 (bad input) and 3 (rejects over maxRejectRate) fail the same
way on every retry, so the pod failure policy fails the whole Job at once;
other failures (a node lost, an OOM) are retried up to backoffLimit.

The pod comes from spec.batch.jobTemplate under the retraining Jobs' rules
(retraining/policy.py: nothing privileged, no hostPath or host namespaces,
no added capabilities, the site's ServiceAccounts) and gets the same
restricted defaults.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Mapping
from typing import Any

from modelops_operator.api import names
from modelops_operator.api.objects import Owner
from modelops_operator.api.spec import BatchSpec, Spec
from modelops_operator.retraining import policy

JOB_NAME_MAX = 63  # copied into the pods' job-name label
CRONJOB_NAME_MAX = 52  # the CronJob controller appends "-<11 digits>" to name its Jobs
UID_IN_NAME = 8
CONTAINER = "score"  # the container the operator fills in when the template names none
LABEL_OWNER_UID = "modelops.io/owner-uid"
LABEL_BATCH = "modelops.io/batch"  # "run" (operator-created) or "scheduled" (the CronJob's)
LABEL_RUN = "modelops.io/batch-run"
BATCH_RUN = "run"
BATCH_SCHEDULED = "scheduled"
# The Job controller labels every pod with its Job's name (Kubernetes >= 1.27); the
# pod reads it through the downward API, so a CronJob's runs get their own folders too.
POD_JOB_NAME_LABEL = "batch.kubernetes.io/job-name"
RUN_ENV = "MODELOPS_BATCH_RUN"
TERMINATION_LOG = "/dev/termination-log"
FAIL_JOB_EXIT_CODES = (2, 3)


def _dns_part(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")


def _named(readable: str, key: str, limit: int) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()[:8]
    readable = _dns_part(readable)[: limit - len(digest) - 1].rstrip("-")
    return f"{readable}-{digest}" if readable else f"batch-{digest}"


def job_name(md_name: str, owner_uid: str, run: int, version: str) -> str:
    """`<md>-batch-<uid[:8]>-<run>-v<version>-<hash>`: deterministic, DNS-1123, at most 63.

    The run number is counted in status.batch.runs and persisted with the
    decision, so the same decision always names the same Job; the uid keeps
    a same-named ModelDeployment created after a delete off its predecessor's
    Jobs (as for retraining Jobs).
    """
    uid = _dns_part(owner_uid)[:UID_IN_NAME]
    return _named(
        f"{md_name}-batch-{uid}-{run}-v{version}",
        f"{md_name}\0{owner_uid}\0{run}\0{version}",
        JOB_NAME_MAX,
    )


def cronjob_name(md_name: str, owner_uid: str) -> str:
    """`<md>-batch-<uid[:8]>-<hash>`, at most 52 characters (one CronJob per ModelDeployment)."""
    uid = _dns_part(owner_uid)[:UID_IN_NAME]
    return _named(f"{md_name}-batch-{uid}", f"{md_name}\0{owner_uid}", CRONJOB_NAME_MAX)


def run_output(batch: BatchSpec, run: str) -> str:
    """The folder a run writes: `<out>/<run>/` (run: a Job name)."""
    return f"{batch.out.rstrip('/')}/{run}/"


def score_args(spec: Spec, batch: BatchSpec, version: str) -> list[str]:
    """`modelops score` for one shard of a run; $(...) are expanded by the kubelet."""
    return [
        "score",
        "--model", batch.scorer,
        "--model-name", spec.model.name,
        # The version stable serves is the version scored, whatever its gates said.
        "--version", version, "--allow-rejected",
        "--registry", spec.registry.uri,
        "--data", batch.data,
        "--out", run_output(batch, f"$({RUN_ENV})"),
        "--shard", f"$(JOB_COMPLETION_INDEX)/{batch.shards}",
        "--max-reject-rate", f"{batch.max_reject_rate:g}",
        "-o", "json", "--no-progress",
        "--summary-file", TERMINATION_LOG,
    ]  # fmt: skip


def label_value(text: str) -> str:
    """`text` as a label value (the owner uid, a version): at most 63 of [A-Za-z0-9_.-]."""
    value = re.sub(r"[^A-Za-z0-9_.-]+", "-", text)[:63].strip("-_.")
    return value or "none"


def labels(owner: Owner, version: str, kind: str) -> dict[str, str]:
    return {
        names.LABEL_MANAGED_BY: names.MANAGED_BY,
        names.LABEL_DEPLOYMENT: owner.name,
        names.LABEL_MODEL_VERSION: label_value(version),
        LABEL_OWNER_UID: label_value(owner.uid),
        LABEL_BATCH: kind,
    }


def owner_reference(owner: Owner) -> dict[str, Any]:
    return {
        "apiVersion": names.API_VERSION,
        "kind": names.KIND,
        "name": owner.name,
        "uid": owner.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def job_spec(
    spec: Spec, version: str, allowed_accounts: tuple[str, ...] | None, pod_labels: dict[str, str]
) -> tuple[dict[str, Any], Mapping[str, Any]]:
    """(the Indexed JobSpec, the template's metadata) for scoring `version`.

    Raises policy.JobTemplateRefused for a pod the rules refuse.
    """
    batch = spec.batch
    if batch is None:
        raise ValueError("spec.batch is not set: no batch Job to build")
    policy.check(
        batch.job_template, allowed_accounts, pod_field=policy.BATCH_POD_FIELD, who=policy.BATCH_WHO
    )
    template = copy.deepcopy(dict(batch.job_template))
    result = copy.deepcopy(template.get("spec") or {})
    result.update(
        completionMode="Indexed",
        completions=batch.shards,
        parallelism=min(batch.parallelism, batch.shards),
    )
    result.setdefault("backoffLimit", batch.shards)
    result["podFailurePolicy"] = {
        "rules": [
            {
                "action": "FailJob",
                "onExitCodes": {
                    "containerName": _container(result)["name"],
                    "operator": "In",
                    "values": list(FAIL_JOB_EXIT_CODES),
                },
            },
            # A pod evicted or preempted did nothing wrong: retry it without counting it.
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
        ]
    }
    pod = result["template"]
    pod_spec = policy.hardened(pod.get("spec") or {})
    pod_spec["restartPolicy"] = "Never"  # a pod failure policy requires it
    pod["spec"] = pod_spec
    pod_meta = pod.setdefault("metadata", {})
    pod_meta["labels"] = {**(pod_meta.get("labels") or {}), **pod_labels}
    container = _container(result)
    container.setdefault("command", ["modelops"])
    container["args"] = score_args(spec, batch, version)
    ours = {RUN_ENV}
    kept = [e for e in container.get("env") or [] if e.get("name") not in ours]
    container["env"] = [
        *kept,
        {
            "name": RUN_ENV,
            "valueFrom": {"fieldRef": {"fieldPath": f"metadata.labels['{POD_JOB_NAME_LABEL}']"}},
        },
    ]
    if spec.registry.credentials_secret:
        secret = {"secretRef": {"name": spec.registry.credentials_secret}}
        container["envFrom"] = [*(container.get("envFrom") or []), secret]
    container.setdefault("terminationMessagePolicy", "File")
    return result, template.get("metadata") or {}


def _container(job: dict[str, Any]) -> dict[str, Any]:
    """The scoring container: the one named `score`, else the first; created when none."""
    pod_spec = job.setdefault("template", {}).setdefault("spec", {})
    containers = pod_spec.setdefault("containers", [])
    for container in containers:
        if container.get("name") == CONTAINER:
            return container
    if not containers:
        containers.append({"name": CONTAINER})
    return containers[0]


def build_job(
    owner: Owner,
    spec: Spec,
    *,
    name: str,
    version: str,
    allowed_accounts: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """The Indexed Job of one run, owned (controller) by the ModelDeployment."""
    job_labels = {**labels(owner, version, BATCH_RUN), LABEL_RUN: name}
    body, meta = job_spec(spec, version, allowed_accounts, job_labels)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": owner.namespace,
            "labels": {**(meta.get("labels") or {}), **job_labels},
            "annotations": dict(meta.get("annotations") or {}),
            "ownerReferences": [owner_reference(owner)],
        },
        "spec": body,
    }


def build_cronjob(
    owner: Owner,
    spec: Spec,
    *,
    version: str,
    allowed_accounts: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """The CronJob of spec.batch.schedule, pinned to `version` (re-applied when stable changes).

    A CronJob's Jobs are copies of its template taken when they start, so the
    version is written into the template; the operator applies the CronJob
    again whenever status.stable.version changes (docs/batch-scoring.md).
    """
    batch = spec.batch
    if batch is None or batch.schedule is None:
        raise ValueError("spec.batch.schedule is not set: no CronJob to build")
    job_labels = labels(owner, version, BATCH_SCHEDULED)
    body, meta = job_spec(spec, version, allowed_accounts, job_labels)
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {
            "name": cronjob_name(owner.name, owner.uid),
            "namespace": owner.namespace,
            "labels": job_labels,
            "ownerReferences": [owner_reference(owner)],
        },
        "spec": {
            "schedule": batch.schedule,
            "concurrencyPolicy": batch.concurrency_policy,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "metadata": {
                    "labels": {**(meta.get("labels") or {}), **job_labels},
                    "annotations": dict(meta.get("annotations") or {}),
                },
                "spec": body,
            },
        },
    }
