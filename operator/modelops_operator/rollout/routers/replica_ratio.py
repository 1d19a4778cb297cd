"""ReplicaRatio: no mesh; the weight is approximated by replica counts.

One Service selects the pods of both tracks (builders.service), so each ready
pod gets about the same share of connections and the canary's share of pods is
its share of traffic. Rounding rules, for `n = spec.replicas` and a weight
`w` in 1..99 (table-tested in tests/unit/operator/rollout/test_routers.py):

* canary = round-half-up(n * w / 100), but at least 1: a weight above 0 must
  send *some* traffic to the canary, or its analysis judges nothing;
* stable = n - canary, but at least 1: the stable version keeps serving
  until promotion;
* so stable + canary <= n + 1: at most one pod of surge, used only when n is
  too small to express the weight (n = 1, or a weight close to 100).

Weight 0 gives (n, 0) and weight 100 gives (0, n). With n = 0 (scaled to zero)
a positive weight still runs one canary pod so the rollout can be analysed.
The effective weight is canary / (stable + canary); status.canary.weight keeps
the requested one.
"""

from __future__ import annotations

from typing import Any

from modelops_operator import builders
from modelops_operator.api.objects import Owner
from modelops_operator.api.spec import Spec


def split(replicas: int, weight: int) -> tuple[int, int]:
    """(stable, canary) pods for `replicas` requested and a canary weight in percent."""
    if replicas < 0:
        raise ValueError(f"spec.replicas must not be negative, got {replicas}")
    if not 0 <= weight <= 100:
        raise ValueError(f"canary weight must be within 0..100, got {weight}")
    if weight == 0:
        return replicas, 0
    if weight == 100:
        return 0, max(1, replicas)
    if replicas == 0:
        return 0, 1
    # Integer round-half-up: floating point would round 2.5 to 2 (banker's rounding).
    canary = max(1, (replicas * weight * 2 + 100) // 200)
    stable = max(1, replicas - canary)
    return stable, canary


class ReplicaRatioRouter:
    type = "ReplicaRatio"

    def replicas(self, replicas: int, weight: int) -> tuple[int, int]:
        return split(replicas, weight)

    def objects(
        self, owner: Owner, spec: Spec, *, stable_version: str, weight: int
    ) -> list[dict[str, Any]]:
        # The shared Service is the whole router: the split lives in the replica counts.
        return [builders.service(owner, version=stable_version)]
