"""Drift of the learning-path model, measured the operator's way: from the service's
Prometheus exposition (profile-edged buckets), never from raw data.

Students from the generator's drift mode, observed by the service's telemetry,
must score PSI > 0.2 against the model's reference profile; students like the
training ones must not.
"""

from __future__ import annotations

import numpy as np
from prometheus_client.parser import text_string_to_metric_families

from modelops_bentos.learning_path.telemetry import LearningPathTelemetry
from modelops_features import learning_path as lp
from modelops_features.drift import compare
from modelops_features.profile import build_profile, counts_from_cumulative
from modelops_features.synthetic_students import students


def _observed(text: str, profile: dict) -> dict[str, np.ndarray]:
    cumulative: dict[str, list[float]] = {}
    categories: dict[str, dict[str, float]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "modelops_feature_value_bucket":
                cumulative.setdefault(s.labels["feature"], []).append(s.value)
            elif s.name == "modelops_feature_category_total":
                categories.setdefault(s.labels["feature"], {})[s.labels["value"]] = s.value
    out = {name: counts_from_cumulative(values) for name, values in cumulative.items()}
    for name, counts in categories.items():
        order = profile["features"][name]["categories"]
        out[name] = np.array([counts[c] for c in order])
    return out


def _drift(shift: float) -> tuple[float, list[str]]:
    reference = lp.compute(students(5000, seed=1))
    profile = build_profile(reference, lp.FEATURE_SCHEMA, None)
    telemetry = LearningPathTelemetry("learning-path")
    telemetry.model_loaded("1", profile)
    live = lp.compute(students(3000, seed=2, shift=shift))
    telemetry.observe_predictions(live, np.full(len(live), 0.5))
    report = compare(profile, _observed(telemetry.render(), profile), "psi", min_samples=1000)
    assert not report.insufficient
    return report.score, [name for name, score in report.top(20) if score > 0.2]


def test_live_students_like_the_training_ones_do_not_drift() -> None:
    score, drifted = _drift(0.0)
    assert score < 0.1 and drifted == []


def test_the_drift_mode_is_detected_from_the_exposition() -> None:
    score, drifted = _drift(1.0)
    assert score > 0.2
    assert {"video_minutes", "days_since_last_activity", "last_subject"} <= set(drifted)
