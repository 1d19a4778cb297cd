"""The operator's own refusal of hostile retraining templates, and the restricted defaults.

The CRD refuses the same fields at admission (tests/cluster/invalid_manifests);
these tests cover the operator for clusters whose CRD lacks the rules: the
policy table, the Job builder (hardened pod, no Job for a refused template) and
the retraining decision (a condition and one Event naming the field, no Job).
"""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from modelops_operator.api import conditions as cond
from modelops_operator.api.objects import Owner
from modelops_operator.api.spec import Spec
from modelops_operator.retraining import policy as job_policy
from modelops_operator.retraining import trigger
from modelops_operator.retraining.job import build_job
from modelops_operator.retraining.state import JOB_ABSENT

POD = "spec.retraining.jobTemplate.spec.template.spec"
NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


def template(pod=None, container=None):
    train = {"name": "train", "image": "ghcr.io/acme/modelops-training:0.1.0"}
    train.update(container or {})
    spec = {"containers": [train]}
    spec.update(pod or {})
    return {"spec": {"template": {"spec": spec}}}


def spec_with(job_template):
    return {
        "model": {"name": "churn", "version": "3"},
        "registry": {"uri": "file:///models"},
        "retraining": {"jobTemplate": job_template, "cooldown": "1h", "maxAttempts": 2},
    }


@pytest.mark.parametrize(
    ("pod", "container", "field", "words"),
    [
        ({}, {"securityContext": {"privileged": True}}, "containers[0].securityContext.privileged", "privileged"),
        ({}, {"securityContext": {"allowPrivilegeEscalation": True}}, "containers[0].securityContext.allowPrivilegeEscalation", "more privileges"),
        ({}, {"securityContext": {"capabilities": {"add": ["NET_ADMIN"]}}}, "containers[0].securityContext.capabilities.add", "add Linux capabilities"),
        ({"hostNetwork": True}, {}, "hostNetwork", "network namespace"),
        ({"hostPID": True}, {}, "hostPID", "process namespace"),
        ({"hostIPC": True}, {}, "hostIPC", "IPC namespace"),
        ({"hostNetwork": "true"}, {}, "hostNetwork", "network namespace"),
        ({"volumes": [{"name": "ok", "emptyDir": {}}, {"name": "root", "hostPath": {"path": "/"}}]}, {}, "volumes[1].hostPath", "directory of the node"),
        ({"initContainers": [{"name": "i", "securityContext": {"privileged": True}}]}, {}, "initContainers[0].securityContext.privileged", "privileged"),
        ({"ephemeralContainers": [{"name": "e", "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}}}]}, {}, "ephemeralContainers[0].securityContext.capabilities.add", "capabilities"),
    ],
    ids=[
        "privileged", "privilege-escalation", "capabilities-add", "host-network", "host-pid",
        "host-ipc", "host-network-string", "host-path", "init-container", "ephemeral-container",
    ],
)  # fmt: skip
def test_each_refused_field_is_named(pod, container, field, words):
    found = job_policy.violations(template(pod, container))
    assert [v.field for v in found] == [f"{POD}.{field}"]
    assert words in found[0].message


@pytest.mark.parametrize(
    ("pod", "container"),
    [
        ({}, {}),
        ({"hostNetwork": False, "hostPID": False, "hostIPC": False}, {}),
        ({}, {"securityContext": {"privileged": False, "allowPrivilegeEscalation": False}}),
        ({}, {"securityContext": {"capabilities": {"add": [], "drop": ["ALL"]}}}),
        ({"volumes": [{"name": "scratch", "emptyDir": {}}]}, {}),
        ({"securityContext": {"runAsNonRoot": False, "runAsUser": 0}}, {}),
    ],
    ids=["plain", "host-flags-false", "flags-false", "drop-only", "empty-dir", "root-allowed"],
)
def test_allowed_templates_pass(pod, container):
    assert job_policy.violations(template(pod, container)) == []


@pytest.mark.parametrize(
    "bad",
    [{}, {"spec": None}, {"spec": {"template": "x"}}, template({"containers": "oops"}),
     template({"volumes": [None]}), template(container={"securityContext": None})],
)  # fmt: skip
def test_malformed_templates_never_crash_the_policy(bad):
    assert job_policy.violations(bad) == []


def test_every_violation_is_listed_at_once():
    hostile = template(
        {
            "hostNetwork": True,
            "hostPID": True,
            "volumes": [{"name": "r", "hostPath": {"path": "/"}}],
        },
        {"securityContext": {"privileged": True, "capabilities": {"add": ["SYS_ADMIN"]}}},
    )
    with pytest.raises(job_policy.JobTemplateRefused) as refused:
        job_policy.check(hostile)
    for field in (
        "hostNetwork",
        "hostPID",
        "volumes[0].hostPath",
        "privileged",
        "capabilities.add",
    ):
        assert field in str(refused.value)


# --- the Job builder ----------------------------------------------------------------


OWNER = Owner(name="churn", namespace="ml", uid="u-1")


def build(job_template):
    return build_job(
        OWNER,
        Spec(spec_with(job_template)),
        name="churn-retrain-v3-1-abc",
        base_version="3",
        attempt=1,
        reason="Drift",
        drift_report=None,
    )


def test_the_job_pod_gets_the_restricted_security_context_by_default():
    given = template(pod={"initContainers": [{"name": "fetch", "image": "busybox:1.36"}]})
    pod = build(given)["spec"]["template"]["spec"]
    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    for container in (*pod["containers"], *pod["initContainers"]):
        assert container["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        }
    assert "securityContext" not in given["spec"]["template"]["spec"], "the spec is not modified"


def test_the_template_may_say_otherwise_in_an_allowed_way():
    given = template(
        pod={"securityContext": {"runAsNonRoot": False, "runAsUser": 0}},
        container={"securityContext": {"capabilities": {"drop": ["NET_RAW"]}, "runAsUser": 1000}},
    )
    pod = build(given)["spec"]["template"]["spec"]
    assert pod["securityContext"] == {
        "runAsNonRoot": False,
        "runAsUser": 0,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert pod["containers"][0]["securityContext"] == {
        "capabilities": {"drop": ["NET_RAW"]},
        "runAsUser": 1000,
        "allowPrivilegeEscalation": False,
    }


def test_the_builder_never_builds_a_refused_template():
    with pytest.raises(job_policy.JobTemplateRefused, match="privileged"):
        build(template(container={"securityContext": {"privileged": True}}))


# --- the retraining decision --------------------------------------------------------

HOSTILE = template({"hostPID": True}, {"securityContext": {"privileged": True}})


def decide(job_template, *, token=None, handled=None, refusal_reported=False, previous=None):
    return trigger.decide(
        md_name="churn",
        owner_uid="u-1",
        spec=Spec(spec_with(job_template)),
        previous=previous,
        handled_token=handled,
        annotation_token=token,
        base_version="3",
        drifted=True,
        job_state=JOB_ABSENT,
        candidate=None,
        now=NOW,
        reported=cond.false(cond.REASON_JOB_TEMPLATE_REFUSED, "m") if refusal_reported else None,
    )


def test_drift_with_a_refused_template_starts_no_job_and_says_why():
    d = decide(HOSTILE)
    assert d.job is None
    assert d.status == {}, "nothing recorded as started: a fixed template can start later"
    status, reason, message = d.condition
    assert (status, reason) == ("False", cond.REASON_JOB_TEMPLATE_REFUSED)
    assert f"{POD}.hostPID" in message
    assert f"{POD}.containers[0].securityContext.privileged" in message
    assert d.events == (("Warning", cond.REASON_JOB_TEMPLATE_REFUSED, message),)


def test_the_refusal_event_is_posted_once_while_drift_lasts():
    assert decide(HOSTILE, refusal_reported=True).events == ()
    assert decide(HOSTILE, refusal_reported=True).condition[1] == cond.REASON_JOB_TEMPLATE_REFUSED


def test_a_retrain_request_with_a_refused_template_is_consumed_and_reported():
    d = decide(HOSTILE, token="t1", handled=None, refusal_reported=True)
    assert d.job is None
    assert d.handled_token == "t1", "handled once: the request is not retried on every pass"
    assert len(d.events) == 1 and "manual retraining not started" in d.events[0][2]


def test_the_refusal_stays_reported_until_the_template_is_fixed():
    quiet = trigger.decide(
        md_name="churn", owner_uid="u-1", spec=Spec(spec_with(HOSTILE)), previous=None, handled_token="t1",
        annotation_token="t1", base_version="3", drifted=False, job_state=JOB_ABSENT,
        candidate=None, now=NOW, reported=cond.false(cond.REASON_JOB_TEMPLATE_REFUSED, "why"),
    )  # fmt: skip
    assert quiet.condition == cond.false(cond.REASON_JOB_TEMPLATE_REFUSED, "why")
    assert quiet.events == () and quiet.job is None
    fixed = trigger.decide(
        md_name="churn", owner_uid="u-1", spec=Spec(spec_with(template())), previous=None, handled_token="t1",
        annotation_token="t1", base_version="3", drifted=False, job_state=JOB_ABSENT,
        candidate=None, now=NOW, reported=cond.false(cond.REASON_JOB_TEMPLATE_REFUSED, "why"),
    )  # fmt: skip
    assert fixed.condition.reason == cond.REASON_NOT_RETRAINING


def test_a_fixed_template_starts_the_job():
    previous = copy.deepcopy(decide(HOSTILE).status)
    assert decide(template(), previous=previous, refusal_reported=True).job is not None


# --- the site's ServiceAccount allow-list (--retraining-service-accounts) -----------

ALLOWED = ("default", "trainer")


@pytest.mark.parametrize(
    ("pod", "fields"),
    [
        ({}, []),  # runs as "default"
        ({"serviceAccountName": "trainer"}, []),
        ({"serviceAccountName": "admin"}, ["serviceAccountName"]),
        ({"serviceAccount": "admin"}, ["serviceAccount"]),
        ({"serviceAccountName": "trainer", "serviceAccount": "admin"}, ["serviceAccount"]),
        ({"serviceAccountName": "admin", "serviceAccount": "trainer"}, ["serviceAccountName"]),
    ],
    ids=["none", "listed", "unlisted", "alias", "alias-differs", "name-differs"],
)
def test_service_accounts_outside_the_list_are_refused(pod, fields):
    found = job_policy.violations(template(pod), ALLOWED)
    assert [v.field for v in found] == [f"{POD}.{f}" for f in fields]
    for violation in found:
        assert "allowed: default, trainer" in violation.message


def test_without_a_list_the_operator_does_not_restrict_accounts():
    assert job_policy.violations(template({"serviceAccountName": "admin"})) == []


def test_a_default_account_outside_the_list_is_refused():
    (found,) = job_policy.violations(template(), ("trainer",))
    assert found.field == f"{POD}.serviceAccountName"
    assert 'ServiceAccount "default"' in found.message


def test_the_decision_and_the_builder_apply_the_list():
    unlisted = template({"serviceAccountName": "admin"})
    spec = Spec(spec_with(unlisted))
    d = trigger.decide(
        md_name="churn", owner_uid="u-1", spec=spec, previous=None,
        handled_token=None, annotation_token=None, base_version="3", drifted=True,
        job_state=JOB_ABSENT, candidate=None, now=NOW, allowed_accounts=ALLOWED,
    )  # fmt: skip
    assert d.job is None and d.condition[1] == cond.REASON_JOB_TEMPLATE_REFUSED
    assert 'ServiceAccount "admin"' in d.condition[2]
    with pytest.raises(job_policy.JobTemplateRefused, match="admin"):
        build_job(
            OWNER, spec, name="j", base_version="3", attempt=1,
            reason="Drift", drift_report=None, allowed_accounts=ALLOWED,
        )  # fmt: skip
