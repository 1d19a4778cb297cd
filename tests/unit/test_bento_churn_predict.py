"""DensePredictor: bit-for-bit the output of Booster.inplace_predict, and strict about its input."""

from __future__ import annotations

import numpy as np
import pytest
import xgboost as xgb

from modelops_bentos.churn.predict import DensePredictor

N_FEATURES = 6


@pytest.fixture(scope="module")
def booster() -> xgb.Booster:
    rng = np.random.default_rng(11)
    x = rng.standard_normal((400, N_FEATURES)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] ** 2 + rng.standard_normal(400) > 0.5).astype(np.float32)
    x[rng.random(x.shape) < 0.1] = np.nan  # trees learn default directions for missing
    params = {"objective": "binary:logistic", "max_depth": 4, "nthread": 1}
    return xgb.train(params, xgb.DMatrix(x, label=y), num_boost_round=30)


@pytest.mark.parametrize("n", [1, 2, 100, 300])
def test_equals_inplace_predict_bit_for_bit(booster, n) -> None:
    rng = np.random.default_rng(n)
    rows = (rng.standard_normal((n, N_FEATURES)) * 10).astype(np.float32)
    rows[rng.random(rows.shape) < 0.15] = np.nan
    rows[0, 0] = np.inf
    rows[-1, 1] = -np.inf
    expected = booster.inplace_predict(rows)
    got = DensePredictor(booster)(rows)
    assert got.dtype == expected.dtype == np.float32
    assert got.shape == expected.shape == (n,)
    assert np.array_equal(got, expected)


def test_output_is_a_copy_not_the_boosters_buffer(booster) -> None:
    predict = DensePredictor(booster)
    first = predict(np.zeros((1, N_FEATURES), dtype=np.float32))
    kept = first.copy()
    predict(np.ones((1, N_FEATURES), dtype=np.float32))
    assert np.array_equal(first, kept)


def test_non_contiguous_rows_are_read_correctly(booster) -> None:
    wide = np.random.default_rng(3).standard_normal((5, 2 * N_FEATURES)).astype(np.float32)
    view = wide[:, ::2]
    assert np.array_equal(DensePredictor(booster)(view), booster.inplace_predict(view.copy()))


def test_one_predictor_reused_and_shared_by_threads_stays_exact(booster) -> None:
    """The proxy DMatrix is kept between calls (one per thread): no call sees another's rows."""
    from concurrent.futures import ThreadPoolExecutor

    predict = DensePredictor(booster)
    rng = np.random.default_rng(5)
    batches = [
        (rng.standard_normal((n, N_FEATURES)) * 5).astype(np.float32) for n in [1, 7, 50] * 20
    ]
    expected = [booster.inplace_predict(b) for b in batches]
    assert all(np.array_equal(predict(b), e) for b, e in zip(batches, expected, strict=True))
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(predict, batches))
    assert all(np.array_equal(g, e) for g, e in zip(got, expected, strict=True))


def test_no_rows_give_no_predictions(booster) -> None:
    assert DensePredictor(booster)(np.zeros((0, N_FEATURES), dtype=np.float32)).shape == (0,)


@pytest.mark.parametrize(
    "rows",
    [
        np.zeros((1, N_FEATURES), dtype=np.float64),
        np.zeros((1, N_FEATURES + 1), dtype=np.float32),
        np.zeros(N_FEATURES, dtype=np.float32),
    ],
    ids=["float64", "wrong-width", "1-d"],
)
def test_refuses_other_inputs_naming_the_expected_shape(booster, rows) -> None:
    with pytest.raises(ValueError, match=f"float32 rows of {N_FEATURES} columns"):
        DensePredictor(booster)(rows)
