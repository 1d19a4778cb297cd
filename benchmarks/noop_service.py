"""The BentoML floor: an endpoint that accepts the churn body and does nothing with it.

Same route, same JSON body shape, same service options as the churn bento, so
the difference between the two is the cost of modelops' own work (validation,
features, prediction, metrics) rather than BentoML's per-request overhead.
"""

from __future__ import annotations

from typing import Any

import bentoml


@bentoml.service(name="noop", workers=1, traffic={"timeout": 30})
class Noop:
    @bentoml.api
    async def predict(self, records: list[dict[str, Any]]) -> dict[str, int]:
        return {"records": len(records)}
