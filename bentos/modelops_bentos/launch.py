"""Starting a modelops bento as a `bentoml serve` process (in one process: one_process.py).

Shared by `modelops serve`, the demo and the serving tests, so all three start
the service the same way: the environment names the registry and the model
version, telemetry is off, OpenMP is single-threaded (XGBoost's default
threading collapses latency as soon as another process wants the CPU), and
"ready" means /readyz answered 200, i.e. the model is loaded and verified.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# service name -> (BentoML import target, default model name)
SERVICES: dict[str, tuple[str, str]] = {
    "churn": ("modelops_bentos.churn.service:Churn", "churn"),
    "learning-path": ("modelops_bentos.learning_path.service:LearningPath", "learning-path"),
}
# service name -> (API endpoints to list, the endpoint of the sample curl)
ENDPOINTS: dict[str, tuple[tuple[str, ...], str]] = {
    "churn": (("/predict", "/predict_batch"), "/predict"),
    "learning-path": (("/recommend", "/recommend_batch"), "/recommend"),
}
READY_TIMEOUT_SECONDS = 60.0


class ServeError(RuntimeError):
    """The service could not be started or never became ready (message says why)."""


def service_target(service: str) -> str:
    try:
        return SERVICES[service][0]
    except KeyError:
        raise ServeError(
            f"unknown service {service!r}; known services: {', '.join(sorted(SERVICES))}"
        ) from None


@dataclass(frozen=True)
class Resolved:
    """The version to serve, and what the user should be told about it."""

    version: str
    note: str | None = None  # e.g. a newer version exists but was rejected
    warning: str | None = None  # a rejected version is served (--allow-rejected)


def _failed_gates(meta: Mapping[str, Any]) -> str:
    failed = [name for name, gate in (meta.get("gates") or {}).items() if not gate.get("passed")]
    return f"failed gate(s): {', '.join(failed)}" if failed else "no failed gate recorded"


def resolve_version(
    registry_uri: str, model: str, ref: str, *, allow_rejected: bool = False
) -> Resolved:
    """The version to serve for "3", "latest" or "@latest-approved" (raises ServeError).

    "latest" means the newest *approved* version: a candidate its gates
    rejected is published only as evidence and is never served by accident.
    With `allow_rejected`, "latest" is the newest version of any status and a
    pinned rejected version is served, with a warning.
    """
    from modelops_registry import REF_LATEST, STATUS_REJECTED, Registry, RegistryError

    try:
        registry = Registry.from_uri(registry_uri)
        newest = registry.resolve(model, REF_LATEST)
        if ref.strip() == REF_LATEST and not allow_rejected:
            return _newest_approved(registry, model, newest)
        version = registry.resolve(model, ref)
        meta = registry.metadata(model, version)
    except RegistryError as exc:
        raise ServeError(
            f"cannot resolve {model} version {ref!r} in {registry_uri}: {exc}"
        ) from exc
    if meta.get("status") != STATUS_REJECTED:
        return Resolved(version)
    failed = _failed_gates(meta)
    if not allow_rejected:
        raise ServeError(
            f"{model} version {version} was REJECTED by its gates ({failed}); "
            "pass --allow-rejected to serve it anyway"
        )
    return Resolved(
        version,
        warning=f"serving {model} version {version}, which was REJECTED by its gates ({failed}), "
        "because of --allow-rejected",
    )


def _newest_approved(registry: Any, model: str, newest: str) -> Resolved:
    from modelops_registry import REF_LATEST_APPROVED, VersionNotFound

    try:
        version = registry.resolve(model, REF_LATEST_APPROVED)
    except VersionNotFound:
        meta = registry.metadata(model, newest)
        raise ServeError(
            f"{model} has no approved version in {registry.uri}; the newest, {newest}, was "
            f"{meta.get('status', 'not approved')} ({_failed_gates(meta)}): "
            f"pass --allow-rejected to serve it anyway"
        ) from None
    if version == newest:
        return Resolved(version)
    return Resolved(
        version,
        note=f"newest approved version is {version}; newer version(s) up to {newest} were "
        f"rejected and are not served (--version {newest} --allow-rejected serves one)",
    )


def serve_env(
    registry_uri: str,
    model: str,
    version: str,
    base: Mapping[str, str] | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    env.update(
        {
            "MODELOPS_REGISTRY": registry_uri,
            "MODELOPS_MODEL": model,
            "MODELOPS_MODEL_VERSION": version,
            "BENTOML_DO_NOT_TRACK": "true",
            "OMP_NUM_THREADS": "1",
            # Serve as the bento images do, where scikit-learn is not installed
            # (churn/xgboost_import.py): ~130 MB less per process.
            "MODELOPS_XGBOOST_WITHOUT_SKLEARN": "1",
        }
    )
    env.update(extra or {})
    return env


def bentoml_executable() -> list[str]:
    """`bentoml` of this interpreter's environment (works inside and outside a venv)."""
    candidate = Path(sys.executable).parent / "bentoml"
    if candidate.exists():
        return [str(candidate)]
    return [sys.executable, "-m", "bentoml"]


def serve_command(target: str, host: str, port: int) -> list[str]:
    """`bentoml serve` in one process (one_process.py): its options, without the arbiter.

    What the bento images run, so a local server holds what a replica holds.
    """
    one_process = [sys.executable, "-m", "modelops_bentos.one_process"]
    return [*one_process, target, "--host", host, "--port", str(port)]


def base_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    return f"http://{shown}:{port}"


def is_ready(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=timeout) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def wait_ready(
    url: str, process: subprocess.Popen | None = None, timeout: float = READY_TIMEOUT_SECONDS
) -> None:
    """Poll /readyz until 200; fail early when the process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ServeError(f"the server exited with code {process.returncode} before ready")
        if is_ready(url):
            return
        time.sleep(0.2)
    raise ServeError(f"{url}/readyz did not answer 200 within {timeout:.0f}s")


def sample_body(service: str) -> dict:
    """A valid request body for the service's sample curl."""
    if service == "learning-path":
        from modelops_bentos.learning_path.examples import SAMPLE_REQUEST

        return SAMPLE_REQUEST
    from modelops_bentos.churn.examples import SAMPLE_RECORD

    return {"records": [SAMPLE_RECORD]}


def sample_curl(url: str, service: str = "churn") -> str:
    """A copy-paste request against `service` at `url`."""
    body = json.dumps(sample_body(service))
    path = ENDPOINTS[service][1]
    return f"curl -s -X POST {url}{path} -H 'Content-Type: application/json' -d {shlex.quote(body)}"
