"""The chart's retraining ServiceAccount policy, as rendered (the API server test
is tests/cluster/test_admission_policy.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chart_tools import by_kind, helm, one, render, template_args

ADMISSION = ("ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding")


def variables(policy: dict) -> dict[str, str]:
    return {v["name"]: v["expression"] for v in policy["spec"]["variables"]}


def test_default_policy_allows_the_default_account_and_denies(tmp_path: Path) -> None:
    objects = render(tmp_path)
    policy = one(objects, "ValidatingAdmissionPolicy", "mo-modelops-operator-retraining")
    assert variables(policy)["allowed"] == '["default"]'
    rule = policy["spec"]["matchConstraints"]["resourceRules"][0]
    assert (rule["apiGroups"], rule["resources"]) == (["modelops.io"], ["modeldeployments"])
    assert set(rule["operations"]) == {"CREATE", "UPDATE"}, "updates are checked too"
    assert policy["spec"]["failurePolicy"] == "Fail"
    binding = one(objects, "ValidatingAdmissionPolicyBinding")
    assert binding["spec"]["policyName"] == policy["metadata"]["name"]
    assert binding["spec"]["validationActions"] == ["Deny"]
    assert "matchResources" not in binding["spec"], "cluster-wide mode: every namespace"


def test_values_reach_the_policy_and_the_binding(tmp_path: Path) -> None:
    values = {
        "admission": {
            "retrainingServiceAccounts": ["default", "trainer"],
            "validationActions": ["Warn", "Audit"],
        },
        "watch": {"namespaces": ["ml", "ml-staging"]},
    }
    objects = render(tmp_path, values)
    policy = one(objects, "ValidatingAdmissionPolicy")
    assert variables(policy)["allowed"] == '["default","trainer"]'
    binding = one(objects, "ValidatingAdmissionPolicyBinding")
    assert binding["spec"]["validationActions"] == ["Warn", "Audit"]
    (selector,) = binding["spec"]["matchResources"]["namespaceSelector"]["matchExpressions"]
    assert selector == {
        "key": "kubernetes.io/metadata.name",
        "operator": "In",
        "values": ["ml", "ml-staging"],
    }


def test_disabled_renders_no_policy(tmp_path: Path) -> None:
    objects = render(tmp_path, {"admission": {"enabled": False}})
    assert not [o for o in objects if o["kind"] in ADMISSION]
    assert by_kind(objects, "Deployment"), "the operator itself is still rendered"


@pytest.mark.parametrize(
    "admission",
    [
        {"retrainingServiceAccounts": []},
        {"retrainingServiceAccounts": ["Not_A_Name"]},
        {"retrainingServiceAccounts": "default"},
        {"validationActions": ["Deny", "Warn"]},
        {"validationActions": ["Block"]},
        {"enabled": "yes"},
        {"allowAll": True},
    ],
    ids=["empty-list", "bad-name", "not-a-list", "deny-with-warn", "unknown-action", "enabled-string", "unknown-key"],
)  # fmt: skip
def test_bad_admission_values_are_refused_naming_the_field(tmp_path: Path, admission) -> None:
    proc = helm(*template_args(tmp_path, {"admission": admission}), check=False)
    assert proc.returncode != 0
    assert "/admission" in proc.stderr, proc.stderr
