"""Drift maths (PSI, binned KS, Jensen-Shannon) and compare() (modelops_features.drift)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon
from scipy.stats import ks_2samp

from modelops_features import synthetic
from modelops_features.churn import FEATURE_SCHEMA, compute
from modelops_features.drift import METHODS, DriftReport, compare, js, ks, psi
from modelops_features.profile import bucket_counts, build_profile

# --- PSI by hand ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "counts", "value"),
    [
        # (a - e) * ln(a / e) summed: -.15 ln .4 - .05 ln .8 + .05 ln 1.2 + .15 ln 1.6
        ([0.25] * 4, [10, 20, 30, 40], 0.22821740957339182),
        ([0.25] * 4, [1, 1, 1, 1], 0.0),
        # Reference given as counts: normalised first.
        # -.2 ln(.3/.5) + .2 ln(.7/.5) = .2 ln(.7/.3)
        ([50, 50], [30, 70], 0.2 * math.log(0.7 / 0.3)),
        # An empty reference bucket is floored at eps=1e-4, without renormalising.
        (
            [0.5, 0.5, 0.0],
            [1, 1, 2],
            2 * (-0.25 * math.log(0.25 / 0.5)) + (0.5 - 1e-4) * math.log(0.5 / 1e-4),
        ),
    ],
)
def test_psi_by_hand(expected, counts, value):
    assert psi(np.array(expected), np.array(counts)) == pytest.approx(value, rel=1e-12)


def test_psi_eps_is_a_parameter():
    a = psi([0.5, 0.5, 0.0], [1, 1, 2], eps=1e-2)
    b = 2 * (-0.25 * math.log(0.5)) + (0.5 - 1e-2) * math.log(0.5 / 1e-2)
    assert a == pytest.approx(b, rel=1e-12)


# --- KS against scipy -------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 7), min_size=1, max_size=300),
    st.lists(st.integers(0, 7), min_size=1, max_size=300),
)
def test_binned_ks_equals_scipy_on_bin_representatives(reference, observed):
    # Values 0..7 with edges 0..6: each value sits exactly on its bucket's edge
    # (the +Inf bucket holds 7), so binning loses nothing and the binned CDF
    # difference is scipy's two-sample KS statistic.
    profile = {"kind": "numeric", "edges": [0, 1, 2, 3, 4, 5, 6]}
    ref_counts = bucket_counts(np.array(reference, dtype=float), profile)
    obs_counts = bucket_counts(np.array(observed, dtype=float), profile)
    with np.errstate(divide="ignore"):  # scipy's p-value, not the statistic, warns
        expected = ks_2samp(reference, observed, method="asymp").statistic
    assert ks(ref_counts / ref_counts.sum(), obs_counts) == pytest.approx(expected, abs=1e-12)


def test_ks_by_hand():
    # CDFs: e = .25 .5 .75 1, a = .1 .3 .6 1 -> max |diff| = .2
    assert ks([0.25] * 4, [10, 20, 30, 40]) == pytest.approx(0.2)
    assert ks([1, 0], [0, 5]) == pytest.approx(1.0)


# --- JS against scipy -------------------------------------------------------------------

bucket_vectors = st.integers(1, 12).flatmap(
    lambda k: st.tuples(
        st.lists(st.floats(0, 1000), min_size=k, max_size=k).filter(lambda v: sum(v) > 1e-6),
        st.lists(st.integers(0, 1000), min_size=k, max_size=k).filter(lambda v: sum(v) > 0),
    )
)


@settings(max_examples=200, deadline=None)
@given(bucket_vectors)
def test_js_equals_scipy_base2(pair):
    expected, counts = (np.array(v, dtype=float) for v in pair)
    value = js(expected, counts)
    reference = jensenshannon(counts, expected, base=2)
    # scipy takes the square root of a divergence that rounding can make a hair below
    # zero when the two are proportional ([3.3, 1.1] vs [33, 11]): nan where it is 0.
    assert value == pytest.approx(0.0 if np.isnan(reference) else reference, abs=1e-9)
    assert 0.0 <= value <= 1.0


def test_js_of_proportional_buckets_is_zero_where_scipy_says_nan():
    assert np.isnan(jensenshannon([33.0, 11.0], [3.3, 1.1], base=2))
    assert js([3.3, 1.1], [33, 11]) == pytest.approx(0.0, abs=1e-9)


def test_js_extremes():
    assert js([1, 0], [0, 10]) == pytest.approx(1.0)
    assert js([0.3, 0.7], [3, 7]) == pytest.approx(0.0, abs=1e-12)


# --- shared properties ------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(bucket_vectors)
def test_statistics_are_non_negative_and_zero_on_identity(pair):
    expected, counts = (np.array(v, dtype=float) for v in pair)
    for fn in METHODS.values():
        assert fn(expected, counts) >= 0.0
        assert fn(counts, counts) == pytest.approx(0.0, abs=1e-9)
    # PSI is symmetric in its two distributions.
    e = expected / expected.sum()
    a = counts / counts.sum()
    assert psi(e, a) == pytest.approx(psi(a, e), rel=1e-9, abs=1e-12)


def test_nothing_observed_scores_zero():
    for fn in METHODS.values():
        assert fn([0.5, 0.5], [0, 0]) == 0.0


@pytest.mark.parametrize(
    ("expected", "counts", "message"),
    [
        ([0.5, 0.5], [1, 2, 3], "same length"),
        ([], [], "same length"),
        ([0.5, 0.5], [1, -1], ">= 0"),
        ([0.5, math.nan], [1, 1], "finite"),
        ([0.0, 0.0], [1, 1], "reference has no data"),
    ],
)
def test_bad_inputs_are_refused(expected, counts, message):
    for fn in METHODS.values():
        with pytest.raises(ValueError, match=message):
            fn(expected, counts)


# --- compare ----------------------------------------------------------------------------

PROFILE = {
    "version": 1,
    "samples": 100,
    "features": {
        "a": {"kind": "numeric", "edges": [1.0], "proportions": [0.5, 0.5], "missing_rate": 0},
        "b": {"kind": "numeric", "edges": [1.0], "proportions": [0.5, 0.5], "missing_rate": 0},
        "c": {"kind": "categorical", "categories": ["x", "__other__"], "proportions": [0.9, 0.1]},
    },
    "prediction": {"kind": "numeric", "edges": [0.5], "proportions": [0.7, 0.3]},
}


def test_compare_scores_each_feature_and_takes_the_max():
    observed = {"a": [50, 50], "b": [90, 10], "c": [85, 10]}
    report = compare(PROFILE, observed, method="psi", min_samples=50)
    assert report.features == {
        "a": pytest.approx(0.0),
        "b": pytest.approx(psi([0.5, 0.5], [90, 10])),
        "c": pytest.approx(psi([0.9, 0.1], [85, 10])),
    }
    assert report.score == max(report.features.values()) == report.features["b"]
    assert report.samples == 100
    assert report.insufficient is False
    assert report.prediction is None
    assert report.top(2) == [("b", report.features["b"]), ("c", report.features["c"])]
    assert json.loads(json.dumps(report.to_dict()))["method"] == "psi"


@pytest.mark.parametrize("method", sorted(METHODS))
def test_compare_uses_the_named_method(method):
    report = compare(PROFILE, {"b": [90, 10]}, method=method)
    assert report.method == method
    assert report.score == pytest.approx(METHODS[method]([0.5, 0.5], [90, 10]))


def test_compare_reports_prediction_drift_separately():
    report = compare(PROFILE, {"a": [5, 5]}, prediction_counts=[1, 9], min_samples=11)
    assert report.score == pytest.approx(0.0)
    assert report.prediction == pytest.approx(psi([0.7, 0.3], [1, 9]))
    assert report.samples == 10
    assert report.insufficient is True  # the scores are still there
    only_predictions = compare(PROFILE, {}, prediction_counts=[7, 3])
    assert only_predictions.samples == 10
    assert only_predictions.score == 0.0


def test_compare_refuses_bad_input_with_clear_errors():
    with pytest.raises(ValueError, match="unknown drift method 'wasserstein'"):
        compare(PROFILE, {}, method="wasserstein")
    with pytest.raises(ValueError, match=r"not in the profile: \['zzz'\]"):
        compare(PROFILE, {"zzz": [1, 2]})
    with pytest.raises(ValueError, match="feature 'a': 3 bucket counts observed"):
        compare(PROFILE, {"a": [1, 2, 3]})
    with pytest.raises(ValueError, match="prediction: 3 bucket counts"):
        compare(PROFILE, {}, prediction_counts=[1, 2, 3])
    no_prediction = {k: v for k, v in PROFILE.items() if k != "prediction"}
    with pytest.raises(ValueError, match="no prediction entry"):
        compare(no_prediction, {}, prediction_counts=[1, 2])


def test_drift_report_defaults():
    report = DriftReport(method="js", score=0.0)
    assert report.to_dict() == {
        "method": "js",
        "score": 0.0,
        "features": {},
        "samples": 0,
        "prediction": None,
        "insufficient": False,
    }


# --- end to end on synthetic data -------------------------------------------------------


def _observed(profile: dict, shift: float) -> dict:
    live = compute(synthetic.churn(4000, seed=11, shift=shift))
    return {name: bucket_counts(live[name], entry) for name, entry in profile["features"].items()}


@pytest.fixture(scope="module")
def reference_profile() -> dict:
    return build_profile(compute(synthetic.churn(8000, seed=1)), FEATURE_SCHEMA, None)


def test_unshifted_data_shows_no_drift(reference_profile):
    report = compare(reference_profile, _observed(reference_profile, 0.0), min_samples=1000)
    assert report.score < 0.1
    assert not report.insufficient


def test_shifted_data_drifts_on_several_features(reference_profile):
    report = compare(reference_profile, _observed(reference_profile, 1.0), min_samples=1000)
    drifted = [name for name, score in report.features.items() if score > 0.2]
    assert len(drifted) >= 4, report.top(8)
    assert {"tenure_months", "monthly_spend", "support_tickets"} <= set(drifted)
    assert report.score > 0.2
