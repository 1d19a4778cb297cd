"""What a retraining pod may not do, and the restricted defaults it gets (pure).

The operator creates retraining Jobs from `spec.retraining.jobTemplate` with
its own rights, so a template is a way to run a pod for anyone who may write a
ModelDeployment. The CRD refuses the dangerous fields at admission (CEL rules
on the declared pod fields, crds/modeldeployments.yaml); this module refuses
the same ones again before a Job is built, for clusters where the CRD is older
than the operator or was installed without those rules. The messages are the
CRD's, so a user sees the same words wherever the refusal comes from.

The ServiceAccounts a retraining pod may run as are site policy: the Helm
chart's ValidatingAdmissionPolicy enforces its list at admission, and passes
the same list to the operator (`--retraining-service-accounts`), which
refuses any other account here too. Without that flag the operator does not
restrict accounts (it cannot guess a site's policy).

`hardened` gives the pod what Pod Security "restricted" asks for where the
template says nothing: runAsNonRoot, the RuntimeDefault seccomp profile, no
privilege escalation and every capability dropped. A template may still say
otherwise in an allowed way (e.g. runAsNonRoot: false for an image that needs
root); it then simply does not pass "restricted".
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

POD_FIELD = "spec.retraining.jobTemplate.spec.template.spec"
WHO = "a retraining pod"
# Batch scoring Jobs (batch/) run their pods under the same rules, named by their own field.
BATCH_POD_FIELD = "spec.batch.jobTemplate.spec.template.spec"
BATCH_WHO = "a batch scoring pod"
CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
# Ephemeral containers cannot be part of a pod template; the API server
# refuses them at Job creation, so only these get defaults.
HARDENED_LISTS = ("containers", "initContainers")

HOST_NAMESPACES = {
    "hostNetwork": "use the node's network namespace",
    "hostPID": "share the node's process namespace",
    "hostIPC": "share the node's IPC namespace",
}
CONTAINER_FLAGS = {
    "privileged": "run privileged containers",
    "allowPrivilegeEscalation": (
        "let a process gain more privileges than its parent (allowPrivilegeEscalation)"
    ),
}


class JobTemplateRefused(ValueError):
    """The template asks for something a retraining pod may not do."""


@dataclass(frozen=True)
class Violation:
    field: str  # full path from the ModelDeployment, e.g. spec.retraining...privileged
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def _set(value: Any) -> bool:
    """Whether a flag asks for the thing: anything but absent or false (a stray
    "true" string would be refused by the API server anyway, but never allowed here)."""
    return value is not None and value is not False


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def pod_spec_of(job_template: Mapping[str, Any]) -> Mapping[str, Any]:
    return _mapping(_mapping(_mapping(job_template.get("spec")).get("template")).get("spec"))


def _container_violations(pod: Mapping[str, Any], pod_field: str, who: str) -> Iterator[Violation]:
    for list_name in CONTAINER_LISTS:
        for index, container in enumerate(_items(pod.get(list_name))):
            where = f"{pod_field}.{list_name}[{index}].securityContext"
            context = _mapping(_mapping(container).get("securityContext"))
            for flag, what in CONTAINER_FLAGS.items():
                if _set(context.get(flag)):
                    yield Violation(f"{where}.{flag}", f"must not be true: {who} may not {what}")
            if _items(_mapping(context.get("capabilities")).get("add")):
                yield Violation(
                    f"{where}.capabilities.add",
                    f"must be empty: {who} may not add Linux capabilities (drop is allowed)",
                )


def _account_violations(
    pod: Mapping[str, Any], allowed: Collection[str], pod_field: str, kind: str
) -> Iterator[Violation]:
    """serviceAccountName, else its deprecated alias serviceAccount, else "default"
    (what the pod runs as) must be allowed; so must the alias when both are set."""
    named = pod.get("serviceAccountName") or None
    alias = pod.get("serviceAccount") or None
    runs_as = named or alias or "default"
    checks = [("serviceAccount" if alias and not named else "serviceAccountName", runs_as)]
    if named and alias:
        checks.append(("serviceAccount", alias))
    for field, account in checks:
        if account not in allowed:
            yield Violation(
                f"{pod_field}.{field}",
                f'{kind} Jobs may not run as ServiceAccount "{account}" (allowed: '
                f"{', '.join(allowed)}; the operator's --retraining-service-accounts)",
            )


def violations(
    job_template: Mapping[str, Any],
    allowed_accounts: Collection[str] | None = None,
    *,
    pod_field: str = POD_FIELD,
    who: str = WHO,
) -> list[Violation]:
    """Every field of the template's pod spec that a retraining pod may not have.

    `allowed_accounts` is the site's ServiceAccount allow-list; None means no
    restriction.
    """
    pod = pod_spec_of(job_template)
    found = [
        Violation(f"{pod_field}.{name}", f"must not be true: {who} may not {what}")
        for name, what in HOST_NAMESPACES.items()
        if _set(pod.get(name))
    ]
    for index, volume in enumerate(_items(pod.get("volumes"))):
        if _mapping(volume).get("hostPath") is not None:
            found.append(
                Violation(
                    f"{pod_field}.volumes[{index}].hostPath",
                    f"must not be set: {who} may not mount a directory of the node (hostPath)",
                )
            )
    found.extend(_container_violations(pod, pod_field, who))
    if allowed_accounts is not None:
        kind = "batch scoring" if pod_field == BATCH_POD_FIELD else "retraining"
        found.extend(_account_violations(pod, allowed_accounts, pod_field, kind))
    return found


def check(
    job_template: Mapping[str, Any],
    allowed_accounts: Collection[str] | None = None,
    *,
    pod_field: str = POD_FIELD,
    who: str = WHO,
) -> None:
    """Raise JobTemplateRefused naming every refused field."""
    found = violations(job_template, allowed_accounts, pod_field=pod_field, who=who)
    if found:
        raise JobTemplateRefused("; ".join(str(v) for v in found))


def _dict_at(parent: dict[str, Any], key: str) -> dict[str, Any]:
    """parent[key] as a dict to fill in, created when absent (or null)."""
    if not isinstance(parent.get(key), dict):
        parent[key] = {}
    return parent[key]


def hardened(pod_spec: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the pod spec with the restricted security context filled in where it says nothing."""
    pod = copy.deepcopy(dict(pod_spec))
    pod_context = _dict_at(pod, "securityContext")
    pod_context.setdefault("runAsNonRoot", True)
    pod_context.setdefault("seccompProfile", {"type": "RuntimeDefault"})
    for list_name in HARDENED_LISTS:
        for container in _items(pod.get(list_name)):
            if not isinstance(container, dict):
                continue
            context = _dict_at(container, "securityContext")
            context.setdefault("allowPrivilegeEscalation", False)
            _dict_at(context, "capabilities").setdefault("drop", ["ALL"])
    return pod
