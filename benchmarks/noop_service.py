"""The BentoML floor: an endpoint that accepts the churn body and does nothing with it.

Same route and JSON body shape as the churn bento, with BentoML's default
service options (tracing and access log on): it is the per-request floor of
stock BentoML, which the churn bento only gets below by switching those two
off (docs/serving-performance.md).
"""

from __future__ import annotations

from typing import Any

import bentoml


@bentoml.service(name="noop", workers=1, traffic={"timeout": 30})
class Noop:
    @bentoml.api
    async def predict(self, records: list[dict[str, Any]]) -> dict[str, int]:
        return {"records": len(records)}
