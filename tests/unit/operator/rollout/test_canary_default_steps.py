"""A Canary without `steps` walks 10 -> 25 -> 50 %: the operator's default.

The CRD no longer defaults `steps` (so that an Immediate rollout with steps can
be refused), so the operator must supply them itself.
"""

from __future__ import annotations

from modelops_operator.api.spec import Spec
from tests.unit.operator.rollout.world import World, passing, spec


def without_steps():
    body = spec()
    del body["rollout"]["steps"]
    return body


def test_the_rollout_settings_default_the_steps():
    assert Spec(without_steps()).rollout.steps == (10, 25, 50)


def test_a_canary_without_steps_goes_through_the_default_steps():
    world = World(without_steps())
    world.reconcile(pods_ready=False)
    weights = []
    for _ in range(6):
        world.reconcile(passing(), advance=30)
        weights.append((world.status.get("canary") or {}).get("weight"))
    assert weights[:3] == [10, 25, 50], weights
    assert world.status["stable"]["version"] == "4"
