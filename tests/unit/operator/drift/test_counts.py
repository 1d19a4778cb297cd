"""Drift samples -> counts in the profile's bucket order (drift/counts.py)."""

from __future__ import annotations

import math

import numpy as np

from modelops_features.profile import bucket_counts
from modelops_operator.drift import counts as dc
from modelops_operator.drift.counts import BucketSamples
from tests.unit.operator.drift.data import PROFILE


def cumulative(feature: str, edges: list[str], counts: list[float]):
    total = 0.0
    for le, c in zip([*edges, "+Inf"], counts, strict=True):
        total += c
        yield ({"feature": feature, "le": le}, total)


def samples(numeric=(), categorical=(), prediction=()) -> BucketSamples:
    return BucketSamples(tuple(numeric), tuple(categorical), tuple(prediction))


def test_numeric_counts_decumulate_in_profile_order_and_clip_dips() -> None:
    counts = dc.numeric_counts([1.0, 5.0], {math.inf: 10.0, 5.0: 7.0, 1.0: 7.5})
    # 7.5 then 7.0 is an extrapolation dip: clipped to 0, never negative.
    assert counts == [7.5, 0.0, 2.5]


def test_numeric_counts_refuse_other_edges() -> None:
    assert dc.numeric_counts([1.0, 5.0], {1.0: 1.0, 6.0: 2.0, math.inf: 3.0}) is None
    assert dc.numeric_counts([1.0, 5.0], {1.0: 1.0, math.inf: 3.0}) is None


def test_categorical_counts_put_unknown_values_into_other() -> None:
    counts = dc.categorical_counts(
        ["basic", "premium", "__other__"],
        {"basic": 3.0, "gold": 2.0, "premium": 1.0, "x": float("nan")},
    )
    assert counts == [3.0, 1.0, 2.0]


def test_aligned_counts_match_bucket_counts_of_the_raw_values() -> None:
    rng = np.random.default_rng(0)
    values = rng.uniform(0, 12, size=500)
    expected = bucket_counts(values, PROFILE["features"]["tenure"]).astype(float).tolist()
    numeric = list(cumulative("tenure", ["1", "5", "10"], expected))
    obs = dc.align(
        PROFILE,
        samples(
            numeric,
            [({"feature": "plan", "value": "basic"}, 4.0)],
            [({"le": "0.5"}, 3.0), ({"le": "+Inf"}, 5.0)],
        ),
    )
    assert obs.features["tenure"] == expected
    assert obs.features["plan"] == [4.0, 0.0, 0.0]
    assert obs.prediction == [3.0, 2.0]
    assert obs.skipped == {}


def test_alignment_reports_skipped_features() -> None:
    obs = dc.align(PROFILE, samples(cumulative("tenure", ["1", "6", "10"], [1, 1, 1, 1])))
    assert obs.skipped == {
        "tenure": "bucket edges differ from the reference profile",
        "plan": "no series",
    }
    assert obs.features == {} and obs.prediction is None
