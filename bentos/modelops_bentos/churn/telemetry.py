"""The churn service's metrics: the common modelops_ families (common/telemetry.py).

Only what `modelops_prediction` measures is churn's own: the churn probability.
"""

from __future__ import annotations

from modelops_bentos.common import telemetry


class Telemetry(telemetry.Telemetry):
    prediction_help = (
        "Predicted churn probability, bucketed at the model's reference-profile edges."
    )
