"""What a model's trainer hands back to the shared pipeline.

The pipeline (pipeline.py) owns what every model shares: checking gates and
the base version first, evaluating the gates, and publishing with the same
metadata layout. A trainer (one module per model, see trainers.py) owns what
differs: data contract, features, algorithm, held-out metrics, fairness and
the comparison with the base version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from modelops_registry import Registry


@dataclass
class Candidate:
    """A fitted and evaluated model, not yet gated or published."""

    artefacts: dict[str, bytes]  # file name -> bytes (a safe, data-only format)
    algorithm: str
    dataset: dict[str, Any]  # {"name", "sha256", "rows"}
    metrics: dict[str, Any]  # held-out metrics, JSON-ready (rounded)
    features: dict[str, Any]  # {"schema_hash", "raw_schema_hash", "model_columns", ...}
    profile: dict[str, Any]  # reference profile (build_profile output, with prediction)
    comparison: dict[str, Any] | None  # base comparison, names its "metric"
    training: dict[str, Any]  # seed, split, rows, params, ...


class Trainer(Protocol):
    """One model kind. `fit` raises TrainingInputError on bad data or options.

    `primary_metric` and `baseline_metric` name the held-out metrics the
    maxBaselineRegression gate compares; `default_gates` apply unless the
    caller overrides them or asks for no gates at all.
    """

    name: str
    gateable_metrics: tuple[str, ...]
    primary_metric: str
    baseline_metric: str
    default_gates: dict[str, Any]

    def fit(
        self,
        data: str,
        seed: int,
        params: Any,
        registry: Registry,
        model: str,
        base: str | None,
    ) -> Candidate: ...
