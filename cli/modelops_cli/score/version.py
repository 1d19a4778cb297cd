"""Which model version a run scores with: `--version`, or what a deployment serves.

`--version` takes a number, "latest" (the newest *approved* version, as
`modelops serve` reads it) or "@latest-approved"; a version its gates
rejected is used only with --allow-rejected. The rules are the bentos'
`launch.resolve_version`, shared with `modelops serve`.

`--from-deployment NAMESPACE/NAME` reads the ModelDeployment's
`status.stable.version` (what its stable track serves right now), its
`spec.model.name` and, unless --registry is given, its `spec.registry.uri`,
through the operator's kube adapter, imported in this one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class VersionError(ValueError):
    """The version cannot be decided (the message says why)."""


@dataclass(frozen=True)
class Chosen:
    registry_uri: str
    model: str
    version: str
    notes: tuple[str, ...] = ()  # told to the user on stderr


def parse_deployment_ref(text: str) -> tuple[str, str]:
    """`ml/churn` -> ("ml", "churn"); raises VersionError naming the expected form."""
    namespace, sep, name = text.strip().partition("/")
    if not sep or not namespace or not name or "/" in name:
        raise VersionError(f"--from-deployment {text!r}: expected NAMESPACE/NAME, e.g. ml/churn")
    return namespace, name


def stable_of(body: dict[str, Any], ref: str) -> tuple[str, str, str | None]:
    """(model name, stable version, registry URI or None) of a ModelDeployment object."""
    spec = body.get("spec") or {}
    stable = (body.get("status") or {}).get("stable") or {}
    version = str(stable.get("version") or "").strip()
    if not version:
        phase = (body.get("status") or {}).get("phase") or "no status yet"
        raise VersionError(
            f"ModelDeployment {ref} has no stable version yet (phase: {phase}); "
            "score with --version instead, or wait until it serves one"
        )
    model = str((spec.get("model") or {}).get("name") or "").strip()
    if not model:
        raise VersionError(f"ModelDeployment {ref} has no spec.model.name")
    registry = (spec.get("registry") or {}).get("uri")
    return model, version, registry


def read_deployment(ref: str, kubeconfig: str | None) -> dict[str, Any]:
    """The ModelDeployment object `ref` (NAMESPACE/NAME), read through the kube adapter."""
    namespace, name = parse_deployment_ref(ref)
    try:
        from modelops_operator.adapters.kube import KubeAdapter, KubeError
    except ImportError as exc:
        raise VersionError(
            f"--from-deployment needs the operator's Kubernetes adapter, which is missing ({exc}): "
            "install the modelops-operator distribution (in this repository: tools/bootstrap.sh)"
        ) from exc
    try:
        body = KubeAdapter.from_kubeconfig(kubeconfig).get_model_deployment(namespace, name)
    except KubeError as exc:
        raise VersionError(f"cannot read ModelDeployment {ref}: {exc}") from exc
    except Exception as exc:  # no kubeconfig, unreachable API server (urllib3 / OS errors)
        raise VersionError(
            f"cannot read ModelDeployment {ref}: {type(exc).__name__}: {exc}"
        ) from exc
    if body is None:
        raise VersionError(f"ModelDeployment {ref} not found")
    return body


def choose(
    *,
    registry_uri: str | None,
    model: str,
    version: str | None,
    from_deployment: str | None,
    allow_rejected: bool,
    kubeconfig: str | None = None,
) -> Chosen:
    """The registry, model name and concrete version to score with."""
    from modelops_registry import default_uri

    if version is not None and from_deployment is not None:
        raise VersionError("give --version or --from-deployment, not both")
    notes: list[str] = []
    if from_deployment is not None:
        model, pinned, deployed_registry = stable_of(
            read_deployment(from_deployment, kubeconfig), from_deployment
        )
        uri = registry_uri or deployed_registry or default_uri()
        notes.append(
            f"ModelDeployment {from_deployment} serves {model} version {pinned} on its stable "
            f"track; reading it from {uri}"
        )
        ref, allow_rejected = pinned, True  # what is served is what is scored, whatever its gates
    else:
        uri = registry_uri or default_uri()
        ref = version or "latest"
    try:
        from modelops_bentos import launch
    except ImportError as exc:
        raise VersionError(
            f"modelops score resolves versions with the bentos' code, which is missing ({exc}): "
            "install the modelops-bentos distribution (in this repository: tools/bootstrap.sh)"
        ) from exc
    try:
        resolved = launch.resolve_version(uri, model, ref, allow_rejected=allow_rejected)
    except launch.ServeError as exc:
        raise VersionError(reworded(str(exc))) from exc
    if from_deployment is None:
        notes.extend(reworded(n) for n in (resolved.note, resolved.warning) if n)
    return Chosen(uri, model, resolved.version, tuple(notes))


def reworded(text: str) -> str:
    """`modelops serve`'s resolution messages, said of scoring (the rules are the same)."""
    return (
        text.replace("to serve it anyway", "to score with it anyway")
        .replace("are not served", "are not used")
        .replace("serves one)", "uses one)")
        .replace("serving ", "scoring with ", 1)
    )
