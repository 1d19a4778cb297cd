"""The learning-path bento's pure parts: request schema, top-k, telemetry, load request."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import ValidationError

from modelops_bentos.learning_path.examples import SAMPLE_ACTIVITY, SAMPLE_REQUEST
from modelops_bentos.learning_path.model import load_request
from modelops_bentos.learning_path.schemas import RecommendRequest, StudentActivity
from modelops_bentos.learning_path.scoring import raw_activity, top_k
from modelops_bentos.learning_path.telemetry import LearningPathTelemetry
from modelops_features import learning_path as lp


def test_activity_model_is_generated_from_the_raw_schema() -> None:
    assert list(StudentActivity.model_fields) == lp.RAW_SCHEMA.names
    for field in lp.RAW_SCHEMA.fields:
        info = StudentActivity.model_fields[field.name]
        assert info.is_required() is (not field.nullable), field.name
    StudentActivity(**SAMPLE_ACTIVITY)
    with pytest.raises(ValidationError) as info:
        StudentActivity(**{**SAMPLE_ACTIVITY, "confidence": 6, "active_days": 31})
    assert {e["loc"][0] for e in info.value.errors()} == {"confidence", "active_days"}


def test_request_refuses_unknown_keys_and_bad_candidates() -> None:
    RecommendRequest(**SAMPLE_REQUEST)
    for bad in (
        {**SAMPLE_REQUEST, "group": "group_a"},
        {**SAMPLE_REQUEST, "candidates": ["math-advanced", "math-advanced"]},
        {**SAMPLE_REQUEST, "k": 9},
    ):
        with pytest.raises(ValidationError):
            RecommendRequest(**bad)


def test_raw_activity_keeps_only_schema_fields() -> None:
    raw = raw_activity({**SAMPLE_ACTIVITY, "student_id": "s1", "group": "group_b"})
    assert list(raw) == lp.RAW_SCHEMA.names


def test_top_k_renormalises_over_candidates_and_keeps_catalogue_order_on_ties() -> None:
    p = np.array([0.1, 0.3, 0.1, 0.2, 0.05, 0.05, 0.1, 0.1])
    assert [m for m, _ in top_k(p, 3, None)] == [lp.MODULES[1], lp.MODULES[3], lp.MODULES[0]]
    picked = top_k(p, 8, [lp.MODULES[2], lp.MODULES[0]])
    assert [m for m, _ in picked] == [lp.MODULES[0], lp.MODULES[2]]  # tie: catalogue order
    assert [s for _, s in picked] == [0.5, 0.5]
    assert math.isclose(sum(s for _, s in top_k(p, 8, None)), 1.0)
    # A candidate set the model gives (numerically) nothing falls back to uniform.
    zero = np.zeros(8)
    assert top_k(zero, 2, [lp.MODULES[4], lp.MODULES[5]]) == [
        (lp.MODULES[4], 0.5),
        (lp.MODULES[5], 0.5),
    ]


def test_telemetry_counts_recommendations_without_student_labels() -> None:
    telemetry = LearningPathTelemetry("learning-path")
    telemetry.model_loaded("4", {"features": {}, "prediction": {"edges": [0.5]}})
    telemetry.observe_recommendation("math-advanced")
    telemetry.observe_recommendation("math-advanced")
    telemetry.observe_recommendation("not-a-module")
    text = telemetry.render()
    line = 'modelops_recommendations_total{model="learning-path",module="math-advanced",version="4"} 2.0'
    assert line in text
    assert "not-a-module" not in text and "student" not in text


def test_load_request_defaults_to_this_model() -> None:
    assert load_request({"MODELOPS_REGISTRY": "file:///r"}).model == "learning-path"
    env = {
        "MODELOPS_REGISTRY": "file:///r",
        "MODELOPS_MODEL": "lp-eu",
        "MODELOPS_MODEL_VERSION": "3",
    }
    request = load_request(env)
    assert (request.model, request.ref, request.registry_uri) == ("lp-eu", "3", "file:///r")
