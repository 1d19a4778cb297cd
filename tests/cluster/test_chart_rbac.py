"""The chart's RBAC on a real API server: the RBAC objects are really created
(helm install), then the operator's ServiceAccount is impersonated with
`kubectl auth can-i` and with real requests. It can do exactly what the
operator needs, and cannot read Secrets or touch other kinds."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tests.chart_tools import CHART_DIR, helm
from tests.cluster.chart_support import chart_crds, helm_env, kubectl

__all__ = ["chart_crds"]  # a fixture, used by name

# (verb, resource, extra kubectl flags). Resources in the watched namespaces.
OPERATOR_NEEDS = [
    ("get", "modeldeployments.modelops.io", ()),
    ("list", "modeldeployments.modelops.io", ()),
    ("watch", "modeldeployments.modelops.io", ()),
    ("patch", "modeldeployments.modelops.io", ()),
    ("patch", "modeldeployments.modelops.io", ("--subresource=status",)),
    ("get", "modeldeployments.modelops.io", ("--subresource=status",)),
    ("get", "deployments.apps", ()),
    ("list", "deployments.apps", ()),
    ("watch", "deployments.apps", ()),
    ("create", "deployments.apps", ()),
    ("patch", "deployments.apps", ()),
    ("delete", "deployments.apps", ()),
    ("get", "services", ()),
    ("list", "services", ()),
    ("create", "services", ()),
    ("patch", "services", ()),
    ("delete", "services", ()),
    ("create", "jobs.batch", ()),
    ("patch", "jobs.batch", ()),
    ("list", "jobs.batch", ()),
    ("watch", "jobs.batch", ()),
    ("delete", "jobs.batch", ()),
    # Batch scoring: the schedule's CronJob, the run's pods (their shard summaries).
    ("create", "cronjobs.batch", ()),
    ("patch", "cronjobs.batch", ()),
    ("delete", "cronjobs.batch", ()),
    ("list", "pods", ()),
    ("create", "events", ()),
    ("create", "httproutes.gateway.networking.k8s.io", ()),
    ("patch", "httproutes.gateway.networking.k8s.io", ()),
    ("delete", "httproutes.gateway.networking.k8s.io", ()),
]

# Never needed: the operator must not be able to do any of these anywhere.
FORBIDDEN = [
    ("get", "secrets", ()),
    ("list", "secrets", ()),
    ("watch", "secrets", ()),
    ("create", "secrets", ()),
    ("get", "configmaps", ()),
    ("create", "configmaps", ()),
    ("create", "pods", ()),
    ("get", "pods", ()),
    ("create", "pods/exec", ()),
    ("create", "modeldeployments.modelops.io", ()),
    ("update", "modeldeployments.modelops.io", ()),
    ("delete", "modeldeployments.modelops.io", ()),
    ("update", "modeldeployments.modelops.io", ("--subresource=status",)),
    ("update", "deployments.apps", ()),
    ("create", "daemonsets.apps", ()),
    ("create", "statefulsets.apps", ()),
    ("create", "serviceaccounts", ()),
    ("create", "serviceaccounts/token", ()),
    ("create", "roles.rbac.authorization.k8s.io", ()),
    ("create", "rolebindings.rbac.authorization.k8s.io", ()),
    ("delete", "events", ()),
    ("create", "gateways.gateway.networking.k8s.io", ()),
    ("create", "servicemonitors.monitoring.coreos.com", ()),
    ("get", "leases.coordination.k8s.io", ()),
    ("create", "leases.coordination.k8s.io", ()),
    ("*", "*", ()),
]

# Cluster-scoped requests the operator must not make in any mode.
FORBIDDEN_CLUSTER = [
    ("create", "clusterroles.rbac.authorization.k8s.io"),
    ("create", "clusterrolebindings.rbac.authorization.k8s.io"),
    ("delete", "customresourcedefinitions.apiextensions.k8s.io"),
    ("create", "customresourcedefinitions.apiextensions.k8s.io"),
    ("create", "namespaces"),
    ("delete", "namespaces"),
    ("get", "nodes"),
    ("impersonate", "serviceaccounts"),
    ("escalate", "clusterroles.rbac.authorization.k8s.io"),
    ("bind", "clusterroles.rbac.authorization.k8s.io"),
]


@dataclass
class Install:
    release: str
    namespace: str  # release namespace: the ServiceAccount and the Lease
    plane: object
    watched: list[str] = field(default_factory=list)  # namespaced mode only

    @property
    def fullname(self) -> str:
        return f"{self.release}-modelops-operator"

    @property
    def user(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.fullname}"

    def can(self, verb: str, resource: str, *flags: str, namespace: str | None = None) -> bool:
        scope = ["--namespace", namespace] if namespace else []
        proc = kubectl(
            self.plane,
            "auth",
            "can-i",
            verb,
            resource,
            *flags,
            *scope,
            "--as",
            self.user,
            check=False,
        )
        if proc.returncode not in (0, 1):
            pytest.fail(f"kubectl auth can-i failed: {proc.stderr}")
        return proc.returncode == 0

    def kubectl_as(self, *args: str, input: str | None = None):
        return kubectl(self.plane, *args, "--as", self.user, input=input, check=False)


def make_namespace(plane) -> str:
    name = f"chart-rbac-{uuid.uuid4().hex[:8]}"
    kubectl(plane, "create", "namespace", name)
    return name


@pytest.fixture
def installed(
    control_plane, chart_crds, namespace: str, tmp_path: Path, request
) -> Iterator[Install]:
    """A real helm install of the chart (RBAC objects created, not dry run)."""
    values = dict(getattr(request, "param", {}))
    extra = []
    if values.pop("namespaced", False):
        extra = [make_namespace(control_plane), make_namespace(control_plane)]
        values["watch"] = {"namespaces": extra}
    values["gatewayAPI"] = {"enabled": True}
    install = Install(
        release=f"mo-{uuid.uuid4().hex[:6]}",
        namespace=namespace,
        plane=control_plane,
        watched=extra,
    )
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    env = helm_env(control_plane)
    helm(
        "install",
        install.release,
        str(CHART_DIR),
        "--namespace",
        namespace,
        "--values",
        str(path),
        env=env,
    )
    try:
        yield install
    finally:
        helm("uninstall", install.release, "--namespace", namespace, "--wait", env=env, check=False)
        for name in extra:
            kubectl(control_plane, "delete", "namespace", name, "--wait=false", check=False)


def test_cluster_mode_grants_exactly_the_operator_needs(installed: Install) -> None:
    other = "some-team"  # any namespace: cluster mode watches them all
    missing = [
        (v, r, f) for v, r, f in OPERATOR_NEEDS if not installed.can(v, r, *f, namespace=other)
    ]
    assert not missing, f"the operator lacks: {missing}"
    assert installed.can("list", "modeldeployments.modelops.io", "--all-namespaces")
    assert installed.can("watch", "deployments.apps", "--all-namespaces")
    extra = [(v, r, f) for v, r, f in FORBIDDEN if installed.can(v, r, *f, namespace=other)]
    assert not extra, f"the operator may do more than it needs: {extra}"
    assert not installed.can("get", "secrets", namespace=installed.namespace)
    assert not installed.can("list", "secrets", "--all-namespaces")
    assert not installed.can("list", "namespaces"), (
        "namespace discovery is only for namespaced mode"
    )
    assert installed.can("list", "customresourcedefinitions.apiextensions.k8s.io")
    assert installed.can("watch", "customresourcedefinitions.apiextensions.k8s.io")
    forbidden = [(v, r) for v, r in FORBIDDEN_CLUSTER if installed.can(v, r)]
    assert not forbidden, f"cluster-wide rights the operator must not have: {forbidden}"


def test_lease_rights_are_limited_to_the_operators_lease(installed: Install) -> None:
    ns, lease = installed.namespace, f"leases.coordination.k8s.io/{installed.fullname}"
    assert installed.can("get", lease, namespace=ns)
    assert installed.can("update", lease, namespace=ns)
    assert installed.can("create", "leases.coordination.k8s.io", namespace=ns)
    assert not installed.can("update", "leases.coordination.k8s.io/kube-scheduler", namespace=ns)
    assert not installed.can("delete", lease, namespace=ns)
    assert not installed.can("get", lease, namespace="kube-system")


def test_real_requests_as_the_operator(installed: Install, namespace: str) -> None:
    """Server-side apply creates a child as the operator; forbidden kinds are refused."""
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "churn",
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "modelops"},
        },
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": "churn"}},
            "template": {
                "metadata": {"labels": {"app": "churn"}},
                "spec": {
                    "containers": [{"name": "model", "image": "registry.example.com/churn:1.0.0"}]
                },
            },
        },
    }
    applied = installed.kubectl_as(
        "apply",
        "--server-side",
        "--field-manager=modelops-operator",
        "-f",
        "-",
        input=yaml.safe_dump(deployment),
    )
    assert applied.returncode == 0, applied.stderr
    event = installed.kubectl_as(
        "create",
        "-n",
        namespace,
        "-f",
        "-",
        input=yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": "churn.test", "namespace": namespace},
                "involvedObject": {"kind": "Deployment", "name": "churn", "namespace": namespace},
                "reason": "Created",
                "message": "chart RBAC test",
                "type": "Normal",
            }
        ),
    )
    assert event.returncode == 0, event.stderr
    for args in (
        ("get", "secrets", "-n", namespace),
        ("create", "configmap", "x", "-n", namespace),
        # One pod (GET): forbidden; listing pods is allowed (a batch run's shard summaries).
        ("get", "pods", "churn-0", "-n", namespace),
        ("delete", "deployment", "churn", "-n", namespace, "--dry-run=server"),
    ):
        proc = installed.kubectl_as(*args)
        if args[0] == "delete":
            assert proc.returncode == 0, proc.stderr  # deleting its children is allowed
        else:
            assert proc.returncode != 0 and "forbidden" in proc.stderr.lower(), (args, proc.stderr)


@pytest.mark.parametrize("installed", [{"namespaced": True}], indirect=True)
def test_namespaced_mode_is_limited_to_the_watched_namespaces(installed: Install) -> None:
    for ns in installed.watched:
        missing = [
            (v, r, f) for v, r, f in OPERATOR_NEEDS if not installed.can(v, r, *f, namespace=ns)
        ]
        assert not missing, f"the operator lacks in {ns}: {missing}"
        extra = [(v, r, f) for v, r, f in FORBIDDEN if installed.can(v, r, *f, namespace=ns)]
        assert not extra, f"the operator may do more than it needs in {ns}: {extra}"
    for verb, resource, flags in OPERATOR_NEEDS:
        assert not installed.can(verb, resource, *flags, namespace="not-watched"), (verb, resource)
    assert not installed.can("list", "modeldeployments.modelops.io", "--all-namespaces")
    assert not installed.can("create", "deployments.apps", namespace=installed.namespace)
    # Read-only discovery for kopf: namespaces appear and disappear.
    assert installed.can("list", "namespaces") and installed.can("watch", "namespaces")
    assert not installed.can("create", "namespaces")
    kinds = kubectl(
        installed.plane,
        "get",
        "clusterroles",
        "-l",
        f"app.kubernetes.io/instance={installed.release}",
        "-o",
        "name",
    ).stdout.split()
    assert kinds == [f"clusterrole.rbac.authorization.k8s.io/{installed.fullname}-discovery"]
