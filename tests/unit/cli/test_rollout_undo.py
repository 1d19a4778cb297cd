"""What `modelops rollout undo` writes in each rollout state (pure; the operator side is in
tests/cluster/test_rollout_cli.py)."""

from __future__ import annotations

import pytest

from modelops_cli.rollout_undo import Refused, plan, served

V1 = {"version": "1", "image": "img:1", "since": "t1"}
V2 = {"version": "2", "image": "img:1", "since": "t2"}
V3 = {"version": "3", "image": "img:2"}


def body(spec_version: str, strategy: str = "Canary", image: str = "img:1", **status):
    rollout = {"strategy": strategy}
    if strategy == "Canary":
        rollout["steps"] = [10, 50]
    return {
        "metadata": {"name": "churn", "namespace": "ml", "resourceVersion": "42", "generation": 5},
        "spec": {
            "model": {"name": "churn", "version": spec_version},
            "image": image,
            "rollout": rollout,
        },
        "status": status,
    }


def version_patch(release):
    return {
        "metadata": {"resourceVersion": "42"},
        "spec": {"model": {"version": release["version"]}, "image": release["image"]},
    }


@pytest.mark.parametrize(
    ("case", "obj", "target", "patch", "restore", "why"),
    [
        (
            "canary running: spec back to stable, instant in the operator",
            body("3", image="img:2", stable=V2, previous=V1, canary={**V3, "weight": 10}),
            V2,
            version_patch(V2),
            None,
            "drops the canary of version 3",
        ),
        (
            "rolled back: spec back to stable, the rejection forgotten",
            body("3", image="img:2", stable=V2, previous=V1, rejected=V3, phase="RolledBack"),
            V2,
            version_patch(V2),
            None,
            "drops the rejected version 3",
        ),
        (
            "promoting: spec back to previous, instant in the operator",
            body("2", stable=V2, previous=V1, canary={**V2, "weight": 50}, phase="Promoting"),
            V1,
            version_patch(V1),
            None,
            "promotion reverted",
        ),
        (
            "Immediate: replaced in place",
            body("2", strategy="Immediate", stable=V2, previous=V1),
            V1,
            version_patch(V1),
            None,
            "replaced in place",
        ),
        (
            "settled Canary: Immediate until served, then Canary with its steps",
            body("2", stable=V2, previous=V1),
            V1,
            {
                "metadata": {"resourceVersion": "42"},
                "spec": {
                    "model": {"version": "1"},
                    "image": "img:1",
                    "rollout": {"strategy": "Immediate", "steps": None},
                },
            },
            {"spec": {"rollout": {"strategy": "Canary", "steps": [10, 50]}}},
            "Immediate until the operator serves it",
        ),
    ],
)
def test_plan(case, obj, target, patch, restore, why):
    got = plan(obj)
    assert got.target == target, case
    assert got.patch == patch, case
    assert got.restore == restore, case
    assert why in got.why, case


def test_a_channel_compares_its_resolved_version():
    obj = body("@latest-approved", stable=V2, previous=V1, resolvedVersion="2")
    assert plan(obj).target == V1  # settled on 2: back to 1, pinned


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        (body("1", stable=V1), "no previous version to roll back to"),
        (body("1"), "has no status.stable yet"),
    ],
)
def test_refused(obj, message):
    with pytest.raises(Refused, match=message):
        plan(obj)


@pytest.mark.parametrize(
    ("status", "done"),
    [
        ({"observedGeneration": 6, "stable": V1}, True),
        ({"observedGeneration": 5, "stable": V1}, False),  # the patch's generation not seen yet
        ({"observedGeneration": 6, "stable": V2}, False),
        ({"observedGeneration": 6, "stable": V1, "canary": {**V2, "weight": 10}}, False),
    ],
)
def test_served(status, done):
    assert served({"status": status}, V1, 6) is done
