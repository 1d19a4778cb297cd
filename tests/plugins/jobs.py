"""Playing the node for retraining Jobs, in cluster and e2e tests.

The test ModelDeployments set `spec.managedBy: JOB_MANAGER` in their
jobTemplate, so the built-in Job controller (and kwok) leave these Jobs
alone: the test decides when and how a Job ends.

* ``finish_job``: writes a Job's terminal status the way the Job controller
  would (startTime, SuccessCriteriaMet/Complete or FailureTarget/Failed,
  succeeded/failed counts, completionTime).
* ``run_job_container``: runs the Job's first container command locally with
  the Job's environment, as a node would.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from typing import Any

JOB_MANAGER = "modelops.io/test-harness"


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def finish_job(kube, namespace: str, name: str, *, succeeded: bool) -> dict[str, Any]:
    """Write a Job's terminal status as the Job controller does (see the module docstring)."""
    start = _now()
    kube.request(
        "PATCH",
        f"/apis/batch/v1/namespaces/{namespace}/jobs/{name}/status",
        body={"status": {"startTime": start, "active": 1}},
        content_type="application/merge-patch+json",
    )
    end = _now()
    if succeeded:
        conditions = [
            _condition("SuccessCriteriaMet", "CompletionsReached", end),
            _condition("Complete", "CompletionsReached", end),
        ]
        status = {"active": 0, "succeeded": 1, "completionTime": end, "conditions": conditions}
    else:
        conditions = [
            _condition("FailureTarget", "BackoffLimitExceeded", end),
            _condition("Failed", "BackoffLimitExceeded", end),
        ]
        status = {"active": 0, "failed": 1, "conditions": conditions}
    return kube.request(
        "PATCH",
        f"/apis/batch/v1/namespaces/{namespace}/jobs/{name}/status",
        body={"status": status},
        content_type="application/merge-patch+json",
    )


def _condition(ctype: str, reason: str, now: str) -> dict[str, str]:
    return {
        "type": ctype,
        "status": "True",
        "reason": reason,
        "message": "written by the test harness playing the node",
        "lastProbeTime": now,
        "lastTransitionTime": now,
    }


def run_job_container(
    job: dict[str, Any], executable_map: dict[str, str], env: dict[str, str], timeout: float = 600
) -> subprocess.CompletedProcess:
    """Run the Job's first container command locally with the Job's env, as a node would.

    `executable_map` replaces the image's executables with local ones (e.g.
    "modelops" -> the workspace venv's modelops).
    """
    container = job["spec"]["template"]["spec"]["containers"][0]
    argv = [*(container.get("command") or []), *(container.get("args") or [])]
    argv[0] = executable_map.get(argv[0], argv[0])
    job_env = {e["name"]: e["value"] for e in container.get("env") or [] if "value" in e}
    return subprocess.run(
        argv, env={**env, **job_env}, capture_output=True, text=True, timeout=timeout
    )
