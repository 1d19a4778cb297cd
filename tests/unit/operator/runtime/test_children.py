"""The engine's memory of its children (children.py) and the per-object freshness (freshness.py)."""

from __future__ import annotations

import copy

from modelops_operator.runtime.children import ChildMemory, slim
from modelops_operator.runtime.freshness import Freshness


def deployment(
    name: str = "churn",
    *,
    rv: str = "10",
    generation: int = 1,
    owner: str = "uid-1",
    ready: int = 0,
    image: str = "img:1",
) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": "ml",
            "resourceVersion": rv,
            "generation": generation,
            "labels": {"modelops.io/model-version": "1"},
            "ownerReferences": [{"uid": owner, "controller": True, "kind": "ModelDeployment"}],
            "managedFields": [{"manager": "modelops-operator", "fieldsV1": {"f:spec": {}}}],
        },
        "spec": {"replicas": 1, "template": {"spec": {"containers": [{"image": image}]}}},
        "status": {"readyReplicas": ready, "observedGeneration": generation},
    }


def desired(image: str = "img:1") -> dict:
    body = deployment(image=image)
    del body["status"]
    for key in ("resourceVersion", "generation", "managedFields"):
        del body["metadata"][key]
    return body


def test_slim_drops_managed_fields_and_returns_plain_dicts_without_touching_the_input():
    original = deployment()
    kept = copy.deepcopy(original)
    slimmed = slim(original)
    assert "managedFields" not in slimmed["metadata"]
    assert original == kept
    assert slimmed["spec"] == original["spec"]


def test_a_seen_deployment_is_known_with_its_owner_and_state():
    memory = ChildMemory()
    assert memory.saw_deployment(deployment(ready=0)) is True
    known = memory.deployment("ml", "churn")
    assert known is not None
    assert known.owner_uid == "uid-1"
    assert known.state.image == "img:1"
    assert known.state.ready_replicas == 0


def test_only_a_changed_state_counts_as_a_change():
    memory = ChildMemory()
    memory.saw_deployment(deployment(rv="10"))
    # A newer resourceVersion with the same state (e.g. controller bookkeeping).
    assert memory.saw_deployment(deployment(rv="11")) is False
    assert memory.saw_deployment(deployment(rv="12", ready=1)) is True


def test_an_older_answer_does_not_overwrite_a_newer_one():
    memory = ChildMemory()
    memory.saw_deployment(deployment(rv="20", ready=1))
    assert memory.saw_deployment(deployment(rv="19", ready=0)) is False
    assert memory.deployment("ml", "churn").state.ready_replicas == 1


def test_priming_makes_absence_meaningful():
    memory = ChildMemory()
    assert memory.primed is False
    memory.prime([deployment("a"), deployment("b")])
    assert memory.primed is True
    assert len(memory) == 2
    assert memory.deployment("ml", "c") is None


def test_a_relist_corrects_what_the_watch_never_delivered():
    """A stalled watch: the canary became available and another child was deleted unseen."""
    memory = ChildMemory()
    memory.prime([deployment("canary", rv="10", ready=0), deployment("old", rv="11")], "11")
    memory.applied(desired(), deployment("old", rv="11"))
    corrected = memory.prime([deployment("canary", rv="30", ready=1)], "40")
    assert corrected == 2
    assert memory.deployment("ml", "canary").state.ready_replicas == 1
    assert memory.deployment("ml", "old") is None


def test_a_relist_never_overrides_what_is_newer_than_it():
    memory = ChildMemory()
    memory.prime([deployment("canary", rv="10")], "10")
    # The watch (or the answer to our own write) is ahead of the list being applied.
    memory.saw_deployment(deployment("canary", rv="50", ready=1))
    memory.saw_deployment(deployment("created-after-the-list", rv="45"))
    corrected = memory.prime([deployment("canary", rv="40", ready=0)], "40")
    assert corrected == 0
    assert memory.deployment("ml", "canary").state.ready_replicas == 1
    assert memory.deployment("ml", "created-after-the-list") is not None


def test_a_relist_without_a_list_version_drops_nothing():
    memory = ChildMemory()
    memory.prime([deployment("a", rv="10")], None)
    assert memory.prime([], None) == 0
    assert memory.deployment("ml", "a") is not None


def test_the_first_list_corrects_nothing():
    assert ChildMemory().prime([deployment("a"), deployment("b")], "10") == 0


def test_an_applied_child_is_unchanged_until_it_differs():
    memory = ChildMemory()
    assert memory.unchanged(desired()) is False
    memory.applied(desired(), deployment(rv="5", generation=1))
    assert memory.unchanged(desired()) is True
    assert memory.unchanged(desired(image="img:2")) is False


def test_a_spec_edit_by_someone_else_forgets_the_applied_digest():
    memory = ChildMemory()
    memory.applied(desired(), deployment(rv="5", generation=1))
    # The watch reports generation 2: the spec was edited after our apply.
    memory.saw_deployment(deployment(rv="6", generation=2, image="img:edited"))
    assert memory.unchanged(desired()) is False


def test_a_status_change_keeps_the_applied_digest():
    memory = ChildMemory()
    memory.applied(desired(), deployment(rv="5", generation=1))
    memory.saw_deployment(deployment(rv="6", generation=1, ready=1))
    assert memory.unchanged(desired()) is True


def test_forgetting_a_deleted_child_drops_state_and_digest():
    memory = ChildMemory()
    memory.applied(desired(), deployment(rv="5"))
    memory.forget("Deployment", "ml", "churn")
    assert memory.deployment("ml", "churn") is None
    assert memory.unchanged(desired()) is False


def test_a_service_digest_is_kept_per_kind():
    memory = ChildMemory()
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "churn", "namespace": "ml"},
    }
    memory.applied(service, {"metadata": {"name": "churn", "namespace": "ml"}})
    assert memory.unchanged(service) is True
    # A Deployment of the same name is another child.
    assert memory.unchanged(desired()) is False


def md(rv: str | None) -> dict:
    return {"metadata": {"name": "churn", "namespace": "ml", "resourceVersion": rv}}


def test_a_body_older_than_one_already_used_is_stale():
    fresh = Freshness()
    key = ("ml", "churn")
    assert fresh.stale(key, md("5")) is False
    fresh.seen(key, md("7"))
    assert fresh.stale(key, md("5")) is True
    assert fresh.stale(key, md("7")) is False
    assert fresh.stale(key, md("8")) is False


def test_the_newest_version_only_moves_forward():
    fresh = Freshness()
    key = ("ml", "churn")
    fresh.seen(key, md("9"))
    fresh.seen(key, md("3"))
    assert fresh.stale(key, md("8")) is True


def test_unknown_versions_are_never_stale_and_forgetting_starts_afresh():
    fresh = Freshness()
    key = ("ml", "churn")
    fresh.seen(key, md("9"))
    assert fresh.stale(key, md(None)) is False
    assert fresh.stale(key, md("not-a-number")) is False
    fresh.forget(key)
    assert fresh.stale(key, md("1")) is False


def test_one_lock_per_object():
    fresh = Freshness()
    assert fresh.lock(("ml", "a")) is fresh.lock(("ml", "a"))
    assert fresh.lock(("ml", "a")) is not fresh.lock(("ml", "b"))
