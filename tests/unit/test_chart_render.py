"""The Helm chart renders what a platform team expects: lint-clean, one
template per kind, a hardened leader-elected operator Deployment, and RBAC
that grants exactly the operator's verbs (no wildcards, no Secrets)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.chart_tools import (
    ALL_ENABLED,
    CHART_DIR,
    KUBE_VERSION,
    by_kind,
    helm,
    one,
    render,
    template_args,
    values_file,
)

# What the operator calls, per (apiGroup, resource): operator/modelops_operator/
# adapters/kube.py (server-side apply = patch + create, delete, get/list,
# status merge patch, core/v1 events), leader.py (Lease get/create/update) and
# the kopf handlers (list/watch of ModelDeployments and child Deployments,
# progress annotations patched on the ModelDeployment).
EXPECTED_RULES = {
    ("modelops.io", "modeldeployments"): {"get", "list", "watch", "patch"},
    ("modelops.io", "modeldeployments/status"): {"get", "patch"},
    ("apps", "deployments"): {"get", "list", "watch", "create", "patch", "delete"},
    ("", "services"): {"get", "list", "create", "patch", "delete"},
    ("batch", "jobs"): {"get", "list", "watch", "create", "patch", "delete"},
    # Batch scoring: the schedule's CronJob (applied, deleted); a run's pods, listed
    # once when it ends for the shards' termination messages.
    ("batch", "cronjobs"): {"get", "list", "create", "patch", "delete"},
    ("", "pods"): {"list"},
    ("", "events"): {"create"},
}
HTTPROUTES = {
    ("gateway.networking.k8s.io", "httproutes"): {"get", "list", "create", "patch", "delete"}
}


def rule_map(role: dict) -> dict[tuple[str, str], set[str]]:
    """(apiGroup, resource) -> verbs of a Role / ClusterRole, ignoring resourceNames rules."""
    merged: dict[tuple[str, str], set[str]] = {}
    for rule in role["rules"]:
        if rule.get("resourceNames"):
            continue
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                merged.setdefault((group, resource), set()).update(rule["verbs"])
    return merged


def test_helm_lint_strict_default_and_all_enabled(tmp_path: Path) -> None:
    helm("lint", "--strict", str(CHART_DIR), "--kube-version", KUBE_VERSION)
    everything = values_file(tmp_path, ALL_ENABLED)
    helm("lint", "--strict", str(CHART_DIR), "--kube-version", KUBE_VERSION, "-f", str(everything))
    namespaced = values_file(tmp_path, {"watch": {"namespaces": ["ml"]}}, "ns.yaml")
    helm("lint", "--strict", str(CHART_DIR), "--kube-version", KUBE_VERSION, "-f", str(namespaced))


def test_default_render_has_the_operator_and_no_optional_parts(tmp_path: Path) -> None:
    objects = render(tmp_path)
    kinds = sorted(o["kind"] for o in objects)
    assert kinds == sorted(
        [
            "ServiceAccount",
            "ClusterRole",  # the operator's rules, cluster-wide
            "ClusterRole",  # kopf's read-only CRD discovery
            "ClusterRoleBinding",
            "ClusterRoleBinding",
            "Role",  # the leader-election Lease
            "RoleBinding",
            "Deployment",
            "Service",
            "PodDisruptionBudget",
            "NetworkPolicy",
            "ValidatingAdmissionPolicy",  # retraining ServiceAccounts (admission.*)
            "ValidatingAdmissionPolicyBinding",
        ]
    )
    cluster_scoped = (
        "ClusterRole",
        "ClusterRoleBinding",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
    )
    for obj in objects:
        if obj["kind"] not in cluster_scoped:
            assert obj["metadata"]["namespace"] == "modelops", obj["metadata"]


def test_all_enabled_render_adds_every_optional_part(tmp_path: Path) -> None:
    objects = render(tmp_path, ALL_ENABLED)
    assert (
        one(objects, "ServiceMonitor")["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    )
    monitors = {o["metadata"]["name"]: o for o in by_kind(objects, "PodMonitor")}
    assert set(monitors) == {"mo-modelops-operator", "mo-modelops-operator-models"}
    models = monitors["mo-modelops-operator-models"]["spec"]
    assert models["selector"]["matchLabels"] == {"app.kubernetes.io/managed-by": "modelops"}
    assert models["namespaceSelector"] == {"any": True}
    targets = {r["targetLabel"] for r in models["podMetricsEndpoints"][0]["relabelings"]}
    assert {"deployment", "track", "model_version", "namespace", "pod"} <= targets
    # The operator's series name the ModelDeployment's namespace: kept as scraped.
    operator_monitor = monitors["mo-modelops-operator"]["spec"]["podMetricsEndpoints"][0]
    assert operator_monitor["honorLabels"] is True
    assert one(objects, "ServiceMonitor")["spec"]["endpoints"][0]["honorLabels"] is True
    dashboard = one(objects, "ConfigMap")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert dashboard["metadata"]["annotations"] == {"grafana_folder": "MLOps"}
    assert (CHART_DIR / "dashboards" / "modelops.json").read_text().strip() == dashboard["data"][
        "modelops.json"
    ].strip()
    cluster_role = one(objects, "ClusterRole", "mo-modelops-operator")
    assert rule_map(cluster_role) == {**EXPECTED_RULES, **HTTPROUTES}


def test_each_template_renders_one_kind(tmp_path: Path) -> None:
    values = {**ALL_ENABLED, "watch": {"namespaces": ["a", "b"]}}
    for template in sorted((CHART_DIR / "templates").glob("*.yaml")):
        args = [*template_args(tmp_path, values), "--show-only", f"templates/{template.name}"]
        proc = helm(*args, check=False)
        if "could not find template" in proc.stderr:
            continue  # renders nothing with these values
        assert proc.returncode == 0, proc.stderr
        kinds = {d["kind"] for d in yaml.safe_load_all(proc.stdout) if d}
        assert len(kinds) == 1, f"{template.name} renders {sorted(kinds)}"
        assert template.stem.replace("-", "") == next(iter(kinds)).lower(), template.name


def test_operator_deployment_is_hardened_and_leader_elected(tmp_path: Path) -> None:
    deployment = one(render(tmp_path), "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert deployment["spec"]["replicas"] == 2
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    ctx = container["securityContext"]
    assert ctx["allowPrivilegeEscalation"] is False
    assert ctx["readOnlyRootFilesystem"] is True
    assert ctx["capabilities"] == {"drop": ["ALL"]}
    assert ctx["runAsUser"] >= 10000
    assert {m["mountPath"] for m in container["volumeMounts"]} == {"/tmp"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"metrics": 8080, "health": 8081}
    assert container["readinessProbe"]["httpGet"] == {"path": "/metrics", "port": "metrics"}
    assert container["resources"]["limits"]["memory"] and container["resources"]["requests"]["cpu"]
    assert container["image"] == "ghcr.io/modelops/modelops-operator:0.1.0"
    args = container["args"]
    assert args[:3] == ["operator", "run", "--all-namespaces"]
    for expected in (
        "--metrics-host=0.0.0.0",
        "--metrics-port=8080",
        "--liveness=http://0.0.0.0:8081/healthz",
        "--leader-election",
        "--lease-namespace=$(POD_NAMESPACE)",
        "--lease-name=mo-modelops-operator",
        "--identity=$(POD_NAME)",
    ):
        assert expected in args
    anti = pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert anti[0]["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"


def test_operator_cli_accepts_the_rendered_arguments(tmp_path: Path) -> None:
    """The chart's args parse with the real `modelops operator run` options."""
    from click.testing import CliRunner

    from modelops_cli.operator import operator

    (container,) = one(render(tmp_path), "Deployment")["spec"]["template"]["spec"]["containers"]
    args = [
        a.replace("$(POD_NAMESPACE)", "modelops").replace("$(POD_NAME)", "p")
        for a in container["args"]
    ]
    # --help after the arguments makes click parse and validate them, then stop.
    result = CliRunner().invoke(operator, [*args[1:], "--help"])
    assert result.exit_code == 0, result.output
    namespaced = render(tmp_path, {"watch": {"namespaces": ["ml", "ops"]}})
    (container,) = one(namespaced, "Deployment")["spec"]["template"]["spec"]["containers"]
    assert "--namespace=ml" in container["args"] and "--namespace=ops" in container["args"]
    assert "--all-namespaces" not in container["args"]
    deadline = render(tmp_path, {"leaderElection": {"renewDeadlineSeconds": 12}})
    (container,) = one(deadline, "Deployment")["spec"]["template"]["spec"]["containers"]
    assert "--lease-renew-deadline=12" in container["args"]
    args = [
        a.replace("$(POD_NAMESPACE)", "m").replace("$(POD_NAME)", "p") for a in container["args"]
    ]
    assert CliRunner().invoke(operator, [*args[1:], "--help"]).exit_code == 0


def test_image_digest_pins_the_image(tmp_path: Path) -> None:
    digest = "sha256:" + "a" * 64
    objects = render(tmp_path, {"image": {"digest": digest, "tag": "9.9.9"}})
    (container,) = one(objects, "Deployment")["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"ghcr.io/modelops/modelops-operator@{digest}"


def test_cluster_mode_rbac_is_exactly_what_the_operator_calls(tmp_path: Path) -> None:
    objects = render(tmp_path)
    assert rule_map(one(objects, "ClusterRole", "mo-modelops-operator")) == EXPECTED_RULES
    discovery = one(objects, "ClusterRole", "mo-modelops-operator-discovery")
    assert rule_map(discovery) == {
        ("apiextensions.k8s.io", "customresourcedefinitions"): {"list", "watch"}
    }
    lease = one(objects, "Role", "mo-modelops-operator-leader-election")
    assert lease["metadata"]["namespace"] == "modelops"
    assert rule_map(lease) == {("coordination.k8s.io", "leases"): {"create"}}
    (named,) = [r for r in lease["rules"] if r.get("resourceNames")]
    assert named["resourceNames"] == ["mo-modelops-operator"]
    assert set(named["verbs"]) == {"get", "update"}
    binding = one(objects, "ClusterRoleBinding", "mo-modelops-operator")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "mo-modelops-operator", "namespace": "modelops"}
    ]


def test_namespaced_mode_uses_roles_in_each_watched_namespace(tmp_path: Path) -> None:
    objects = render(tmp_path, {"watch": {"namespaces": ["ml", "ops"]}})
    assert [o["metadata"]["name"] for o in by_kind(objects, "ClusterRole")] == [
        "mo-modelops-operator-discovery"
    ]
    roles = {
        o["metadata"]["namespace"]: o
        for o in by_kind(objects, "Role")
        if o["metadata"]["name"] == "mo-modelops-operator"
    }
    assert set(roles) == {"ml", "ops"}
    for role in roles.values():
        assert rule_map(role) == EXPECTED_RULES
    bindings = {
        o["metadata"]["namespace"]
        for o in by_kind(objects, "RoleBinding")
        if o["metadata"]["name"] == "mo-modelops-operator"
    }
    assert bindings == {"ml", "ops"}
    discovery = one(objects, "ClusterRole", "mo-modelops-operator-discovery")
    assert ("", "namespaces") in rule_map(discovery)
    models = render(
        tmp_path, {"watch": {"namespaces": ["ml"]}, "models": {"podMonitor": {"enabled": True}}}
    )
    monitor = one(models, "PodMonitor")
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["ml"]}


@pytest.mark.parametrize(
    "values",
    [
        {},
        ALL_ENABLED,
        {**ALL_ENABLED, "watch": {"namespaces": ["ml", "ops"]}},
    ],
    ids=["default", "all-enabled", "namespaced"],
)
def test_no_rbac_wildcards_and_no_secret_access(tmp_path: Path, values: dict) -> None:
    for role in [o for o in render(tmp_path, values) if o["kind"] in ("Role", "ClusterRole")]:
        for rule in role["rules"]:
            for field in ("apiGroups", "resources", "verbs"):
                assert "*" not in rule[field], (role["metadata"]["name"], rule)
            assert not {"secrets", "configmaps", "pods/exec"} & set(rule["resources"])
            # Pods: list only (a finished batch run's shard summaries are its pods'
            # termination messages), never get, watch, create or exec.
            if "pods" in rule["resources"]:
                assert rule["resources"] == ["pods"] and rule["verbs"] == ["list"], rule
            assert not {"escalate", "bind", "impersonate"} & set(rule["verbs"])


def test_rbac_and_service_account_can_be_switched_off(tmp_path: Path) -> None:
    objects = render(
        tmp_path, {"rbac": {"create": False}, "serviceAccount": {"create": False, "name": "ops-sa"}}
    )
    assert not [o for o in objects if o["kind"] in ("Role", "ClusterRole", "ServiceAccount")]
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "ops-sa"


def test_single_replica_has_no_disruption_budget(tmp_path: Path) -> None:
    assert not by_kind(render(tmp_path, {"replicaCount": 1}), "PodDisruptionBudget")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"replicaCount": 2, "leaderElection": {"enabled": False}},
            "replicaCount > 1 needs leaderElection.enabled",
        ),
        (
            {"leaderElection": {"leaseDurationSeconds": 10, "renewPeriodSeconds": 10}},
            "renewPeriodSeconds must be shorter",
        ),
        (
            {"leaderElection": {"leaseDurationSeconds": 15, "renewDeadlineSeconds": 15}},
            "renewDeadlineSeconds must lie between",
        ),
        (
            {"metrics": {"serviceMonitor": {"enabled": True}, "service": {"enabled": False}}},
            "serviceMonitor.enabled needs metrics.service.enabled",
        ),
        ({"serviceAccount": {"create": False}}, "serviceAccount.name is required"),
        ({"probes": {"healthPort": 8080}}, "probes.healthPort and metrics.port must differ"),
    ],
)
def test_inconsistent_values_are_refused_with_a_reason(
    tmp_path: Path, values: dict, message: str
) -> None:
    proc = helm(*template_args(tmp_path, values), check=False)
    assert proc.returncode != 0
    assert message in proc.stderr


def test_packaged_chart_holds_crds_and_dashboard_but_not_tooling(tmp_path: Path) -> None:
    import tarfile

    helm("package", str(CHART_DIR), "--destination", str(tmp_path))
    (archive,) = tmp_path.glob("modelops-operator-*.tgz")
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert "modelops-operator/crds/modeldeployments.yaml" in names
    assert "modelops-operator/dashboards/modelops.json" in names
    assert "modelops-operator/values.schema.json" in names
    assert not [n for n in names if "/argocd/" in n or "/security/" in n]


def test_helm_template_without_a_cluster_accepts_the_charts_kube_version() -> None:
    """The helm the project builds assumes a current Kubernetes, as a released helm does.

    Built without helm's version stamps it assumes v1.20, and a user's plain
    `helm template charts/modelops-operator` fails on the chart's kubeVersion.
    """
    version = helm("version", "--template", "{{.Version}}").stdout.strip()
    assert version.startswith("v3."), version
    out = helm("template", "modelops", str(CHART_DIR)).stdout
    assert "kind: Deployment" in out
