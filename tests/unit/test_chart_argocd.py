"""The Argo CD health check (charts/modelops-operator/argocd/health.lua) run in
a real Lua runtime (lupa) against ModelDeployment statuses, the way Argo CD
runs it: the live object in the global `obj`, a {status, message} table back."""

from __future__ import annotations

import re
import textwrap
from typing import Any

import pytest
from lupa import LuaRuntime

from tests.chart_tools import CHART_DIR

SCRIPT = (CHART_DIR / "argocd" / "health.lua").read_text()
ARGOCD_KEY = "resource.customizations.health.modelops.io_ModelDeployment"


def health(obj: dict[str, Any]) -> dict[str, str]:
    lua = LuaRuntime(unpack_returned_tuples=True)
    lua.globals().obj = lua.table_from(obj, recursive=True)
    result = lua.execute(SCRIPT)
    return {"status": result["status"], "message": result["message"]}


def md(status: dict | None = None, generation: int = 3) -> dict:
    obj: dict[str, Any] = {
        "apiVersion": "modelops.io/v1alpha1",
        "kind": "ModelDeployment",
        "metadata": {"name": "churn", "namespace": "ml", "generation": generation},
        "spec": {"model": {"name": "churn", "version": "3"}},
    }
    if status is not None:
        obj["status"] = status
    return obj


def cond(type_: str, status: str, reason: str = "", message: str = "") -> dict:
    return {"type": type_, "status": status, "reason": reason, "message": message}


READY = cond("Ready", "True", "Available", "2/2 replicas available")

CASES = [
    ("no status yet", md(), "Progressing", "Waiting for the modelops operator"),
    (
        "status of an older generation",
        md({"phase": "Stable", "observedGeneration": 2, "conditions": [READY]}),
        "Progressing",
        "observe generation 3",
    ),
    (
        "stable and ready",
        md(
            {
                "phase": "Stable",
                "observedGeneration": 3,
                "stable": {"version": "3"},
                "conditions": [READY, cond("Degraded", "False")],
            }
        ),
        "Healthy",
        "Serving version 3",
    ),
    (
        "canary under analysis",
        md(
            {
                "phase": "Progressing",
                "observedGeneration": 3,
                "stable": {"version": "3"},
                "canary": {"version": "4", "weight": 25, "step": 1},
                "conditions": [READY],
            }
        ),
        "Progressing",
        "canary 4 at 25%",
    ),
    (
        "promoting",
        md({"phase": "Promoting", "observedGeneration": 3, "conditions": [READY]}),
        "Progressing",
        "Promoting",
    ),
    (
        "rolled back",
        md(
            {
                "phase": "RolledBack",
                "observedGeneration": 3,
                "conditions": [
                    cond("Ready", "False", "VersionRejected", "version 4 was rejected"),
                    cond("Degraded", "True", "RolledBack", "error-rate 0.04 > 0.01 at step 2"),
                ],
            }
        ),
        "Degraded",
        "RolledBack: error-rate 0.04 > 0.01",
    ),
    (
        "rolled back, written before the Degraded condition said so",
        md({"phase": "RolledBack", "observedGeneration": 3, "message": "version 4 rejected"}),
        "Degraded",
        "RolledBack: version 4 rejected",
    ),
    (
        "a condition of an older generation",
        md(
            {
                "phase": "Stable",
                "observedGeneration": 3,
                "conditions": [{**READY, "observedGeneration": 2}],
            }
        ),
        "Progressing",
        "observe generation 3",
    ),
    (
        "scaled to zero",
        md(
            {
                "phase": "Stable",
                "observedGeneration": 3,
                "conditions": [cond("Ready", "False", "ScaledToZero", "scaled to zero replicas")],
            }
        ),
        "Healthy",
        "scaled to zero replicas",
    ),
    (
        "failed",
        md({"phase": "Failed", "observedGeneration": 3, "message": "image pull failed"}),
        "Degraded",
        "Failed: image pull failed",
    ),
    (
        "degraded condition while stable",
        md(
            {
                "phase": "Stable",
                "observedGeneration": 3,
                "conditions": [
                    cond("Ready", "False", "Unavailable"),
                    cond("Degraded", "True", "ProgressDeadlineExceeded", "pods not available"),
                ],
            }
        ),
        "Degraded",
        "pods not available",
    ),
    (
        "waiting for pods",
        md(
            {
                "phase": "Stable",
                "observedGeneration": 3,
                "conditions": [cond("Ready", "False", "Unavailable", "0/2 replicas available")],
            }
        ),
        "Progressing",
        "0/2 replicas available",
    ),
]


@pytest.mark.parametrize(
    ("obj", "status", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_health(obj: dict, status: str, message: str) -> None:
    result = health(obj)
    assert result["status"] == status, result
    assert message in result["message"], result


def test_readme_snippet_is_the_script() -> None:
    """The argocd-cm snippet in the chart README carries the script verbatim."""
    readme = (CHART_DIR / "README.md").read_text()
    match = re.search(
        rf"```yaml\n(.*?{re.escape(ARGOCD_KEY)}: \|\n)(?P<body>.*?)```", readme, flags=re.DOTALL
    )
    assert match, f"the README has no argocd-cm snippet with key {ARGOCD_KEY}"
    assert textwrap.dedent(match["body"]).strip() == SCRIPT.strip()
