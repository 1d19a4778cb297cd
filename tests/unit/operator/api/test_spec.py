"""The typed spec: every default in one place, equal to the CRD's, and each section read alone."""

from __future__ import annotations

import pytest

from modelops_operator.api.spec import DEFAULTS, OPERATOR_DEFAULTS, Spec, SpecError
from tests.unit.operator.api.test_crd_schema import schema, walk


def crd_defaults() -> dict:
    return {
        path.lstrip("."): node["default"]
        for path, node in walk(schema(), "")
        if "default" in node and path.startswith(".spec")
    }


def test_every_crd_default_is_the_operators_and_the_operator_adds_none_unlisted():
    assert crd_defaults() == DEFAULTS


def test_operator_only_defaults_are_those_the_crd_leaves_out():
    assert not set(OPERATOR_DEFAULTS) & set(crd_defaults())
    assert OPERATOR_DEFAULTS == {"spec.rollout.steps": (10, 25, 50)}


def test_an_empty_spec_reads_as_every_default():
    spec = Spec(
        {"model": {"name": "churn", "version": "3"}, "image": "i", "registry": {"uri": "u"}}
    )
    assert (spec.replicas, spec.image_pull_policy, spec.strategy) == (
        1,
        "IfNotPresent",
        "Immediate",
    )
    assert spec.resources == DEFAULTS["spec.resources"]
    assert (spec.steps, spec.interval.seconds, spec.progress_deadline.seconds) == (
        (10, 25, 50),
        60.0,
        600.0,
    )
    assert spec.router.type == "ReplicaRatio"
    analysis = spec.analysis
    assert (analysis.prometheus, analysis.min_requests, analysis.failure_limit) == (None, 100, 2)
    assert list(analysis.metrics) == DEFAULTS["spec.rollout.analysis.metrics"]
    assert spec.drift is None and spec.retraining is None and not spec.watches_drift


def test_a_default_handed_out_cannot_change_the_table():
    spec = Spec({})
    spec.resources["limits"]["memory"] = "1Ti"
    assert DEFAULTS["spec.resources"]["limits"]["memory"] == "1Gi"


def test_drift_defaults_and_absence():
    assert Spec({}).drift is None
    s = Spec({"monitoring": {"drift": {}}}).drift
    assert (s.method, s.threshold, s.window.seconds, s.min_samples, s.interval.seconds) == (
        "psi",
        0.2,
        3600.0,
        1000,
        300.0,
    )
    assert Spec({"monitoring": {"drift": {}}}).watches_drift


def test_retraining_defaults_and_a_missing_template():
    s = Spec({"retraining": {"jobTemplate": {"spec": {}}}}).retraining
    assert (s.cooldown.seconds, s.max_attempts, s.trigger_on_drift, dict(s.gates)) == (
        21600.0,
        3,
        True,
        {},
    )
    with pytest.raises(SpecError, match=r"spec\.retraining\.jobTemplate"):
        _ = Spec({"retraining": {"cooldown": "1h"}}).retraining


def test_the_drift_prometheus_falls_back_to_the_analysis_one():
    assert (
        Spec({"monitoring": {"prometheus": {"address": "http://a"}}}).drift_prometheus == "http://a"
    )
    assert (
        Spec({"rollout": {"analysis": {"prometheus": {"address": "http://b"}}}}).drift_prometheus
        == "http://b"
    )
    assert Spec({}).drift_prometheus is None


@pytest.mark.parametrize(
    ("rollout", "field", "words"),
    [
        ({"steps": [50, 10]}, "spec.rollout.steps", "strictly ascending"),
        ({"steps": [0, 10]}, "spec.rollout.steps", "within 1..99"),
        ({"interval": "soon"}, "spec.rollout.interval", "expected a duration"),
        ({"progressDeadline": "0s"}, "spec.rollout.progressDeadline", "greater than zero"),
    ],
)
def test_a_bad_rollout_field_is_named_and_leaves_the_rest_readable(rollout, field, words):
    spec = Spec({"replicas": 3, "rollout": {"strategy": "Canary", **rollout}})
    with pytest.raises(SpecError, match=words) as raised:
        _ = spec.rollout
    assert raised.value.field == field and field in str(raised.value)
    assert (spec.replicas, spec.strategy) == (3, "Canary")


def test_gateway_parent_refs_get_their_group_and_kind():
    spec = Spec(
        {
            "rollout": {
                "trafficRouter": {
                    "type": "GatewayAPI",
                    "gatewayAPI": {"parentRefs": [{"name": "gw", "sectionName": "web"}]},
                }
            }
        }
    )
    (ref,) = spec.router.gateway.parent_refs
    assert ref == {
        "name": "gw",
        "sectionName": "web",
        "group": "gateway.networking.k8s.io",
        "kind": "Gateway",
    }
