"""Shared helpers of the Helm chart tests (tests/unit/test_chart_*.py and
tests/cluster/test_chart_*.py): the helm and checkov binaries, rendering, and
the third-party CRDs the chart's optional objects need.

The tools come from the project's own provision scripts (tools/helm,
tools/checkov); a missing tool makes the test fail with the command that
provides it, never skip.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
CHART_DIR = REPO_ROOT / "charts" / "modelops-operator"
HELM_PROVISION = REPO_ROOT / "tools" / "helm" / "provision.sh"
CHECKOV_PROVISION = REPO_ROOT / "tools" / "checkov" / "provision.sh"
# helm template's offline default is an old Kubernetes version; the chart
# declares kubeVersion >= 1.29, so renders name the version the tests run.
KUBE_VERSION = "1.36.0"

# Every optional part of the chart switched on.
ALL_ENABLED: dict[str, Any] = {
    "gatewayAPI": {"enabled": True},
    "metrics": {
        "serviceMonitor": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}},
        "podMonitor": {"enabled": True},
    },
    "models": {"podMonitor": {"enabled": True}},
    "dashboard": {"enabled": True, "annotations": {"grafana_folder": "MLOps"}},
}


def tool_env() -> dict[str, str]:
    return {**os.environ, "BENTOML_DO_NOT_TRACK": "true", "OMP_NUM_THREADS": "1"}


@dataclass(frozen=True)
class HelmTools:
    helm: str
    third_party_crds: Path


@cache
def _provision_helm() -> HelmTools | str:
    """Run tools/helm/provision.sh once per session; a str is the failure message."""
    if not HELM_PROVISION.is_file():
        return f"{HELM_PROVISION} is missing"
    proc = subprocess.run(
        [str(HELM_PROVISION), "--print-env"],
        capture_output=True,
        text=True,
        env=tool_env(),
        timeout=1500,
        check=False,
    )
    if proc.returncode != 0:
        return (
            "helm is not available: `make helm` (tools/helm/provision.sh) failed:\n"
            + proc.stderr[-3000:]
        )
    exported = {}
    for line in proc.stdout.splitlines():
        parts = shlex.split(line)
        if len(parts) == 2 and parts[0] == "export" and "=" in parts[1]:
            key, value = parts[1].split("=", 1)
            exported[key] = value
    return HelmTools(
        helm=exported["MODELOPS_HELM"],
        third_party_crds=Path(exported["MODELOPS_THIRD_PARTY_CRDS"]),
    )


def helm_tools() -> HelmTools:
    tools = _provision_helm()
    if isinstance(tools, str):
        pytest.fail(tools, pytrace=False)
    return tools


def helm(*args: str, check: bool = True, env: dict[str, str] | None = None, timeout: float = 300):
    """Run helm; with check=True a non-zero exit fails the test with helm's stderr."""
    proc = subprocess.run(
        [helm_tools().helm, *args],
        capture_output=True,
        text=True,
        env=env or tool_env(),
        timeout=timeout,
        check=False,
    )
    if check and proc.returncode != 0:
        pytest.fail(f"helm {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def values_file(tmp_path: Path, values: dict[str, Any], name: str = "values.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(values))
    return path


def template_args(
    tmp_path: Path,
    values: dict[str, Any] | None = None,
    *,
    release: str = "mo",
    namespace: str = "modelops",
) -> list[str]:
    args = ["template", release, str(CHART_DIR), "--namespace", namespace]
    args += ["--kube-version", KUBE_VERSION]
    if values:
        args += ["--values", str(values_file(tmp_path, values))]
    return args


def render_text(tmp_path: Path, values: dict[str, Any] | None = None, **kwargs: Any) -> str:
    return helm(*template_args(tmp_path, values, **kwargs)).stdout


def render(tmp_path: Path, values: dict[str, Any] | None = None, **kwargs: Any) -> list[dict]:
    """The chart's rendered objects (templates only; the CRD is in crds/)."""
    return [doc for doc in yaml.safe_load_all(render_text(tmp_path, values, **kwargs)) if doc]


def by_kind(objects: list[dict], kind: str) -> list[dict]:
    return [o for o in objects if o["kind"] == kind]


def one(objects: list[dict], kind: str, name: str | None = None) -> dict:
    found = [o for o in by_kind(objects, kind) if name is None or o["metadata"]["name"] == name]
    assert len(found) == 1, (
        f"expected one {kind} {name or ''}, got {[o['metadata'] for o in found]}"
    )
    return found[0]


def checkov() -> str:
    proc = subprocess.run(
        [str(CHECKOV_PROVISION)],
        capture_output=True,
        text=True,
        env=tool_env(),
        timeout=900,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(
            "checkov is not available: tools/checkov/provision.sh failed:\n" + proc.stderr[-3000:],
            pytrace=False,
        )
    return proc.stdout.strip().splitlines()[-1]


def third_party_crd_files() -> list[Path]:
    """Gateway API (standard channel) and ServiceMonitor / PodMonitor CRD files."""
    files = sorted(helm_tools().third_party_crds.glob("*/*.yaml"))
    kinds = {p.name for p in files}
    needed = {
        "gateway.networking.k8s.io_httproutes.yaml",
        "monitoring.coreos.com_servicemonitors.yaml",
        "monitoring.coreos.com_podmonitors.yaml",
    }
    missing = needed - kinds
    if missing:
        pytest.fail(f"third-party CRDs missing from the cache: {sorted(missing)}; run `make helm`")
    return files
