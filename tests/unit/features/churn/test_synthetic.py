"""The synthetic churn generator and the "synthetic:N[:seed[:shift]]" source spelling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import mannwhitneyu

from modelops_features.churn import ID_COLUMN, PLANS, RAW_SCHEMA, REGIONS, TARGET, compute
from modelops_features.schema import validate
from modelops_features.synthetic import SyntheticSource, churn, parse_source


def _auc(score: np.ndarray, label: np.ndarray) -> float:
    """Area under the ROC curve of `score` for `label` (Mann-Whitney U / n1 n0)."""
    keep = ~np.isnan(score)
    score, label = score[keep], label[keep]
    u = mannwhitneyu(score[label == 1], score[label == 0]).statistic
    return float(u / ((label == 1).sum() * (label == 0).sum()))


def test_same_seed_same_data_and_other_seed_other_data():
    pd.testing.assert_frame_equal(churn(500, seed=3), churn(500, seed=3))
    pd.testing.assert_frame_equal(churn(500, seed=3, shift=0.5), churn(500, seed=3, shift=0.5))
    assert not churn(500, seed=3).equals(churn(500, seed=4))


def test_columns_ranges_and_schema():
    df = churn(3000, seed=1)
    assert list(df.columns) == [ID_COLUMN, *RAW_SCHEMA.names, TARGET]
    assert validate(df, RAW_SCHEMA).ok
    assert df[ID_COLUMN].is_unique
    assert set(df[TARGET].unique()) == {0, 1}
    assert set(df["plan"]) == set(PLANS)
    assert set(df["region"]) == set(REGIONS)
    assert 0.15 < df[TARGET].mean() < 0.4
    # Nullable raw fields are sometimes missing, the others never.
    for name in ("total_spend", "support_tickets"):
        assert 0.005 < df[name].isna().mean() < 0.05
    assert not df[["tenure_months", "monthly_spend", "orders"]].isna().any().any()


def test_shifted_data_is_still_valid_and_moves_the_inputs():
    base, moved = churn(4000, seed=1), churn(4000, seed=1, shift=1.0)
    assert validate(moved, RAW_SCHEMA).ok
    for name in ("tenure_months", "monthly_spend", "support_tickets"):
        assert moved[name].mean() > 1.3 * base[name].mean(), name
    assert (moved["region"] == "west").mean() > (base["region"] == "west").mean() + 0.2


def test_label_is_learnable_from_the_features():
    df = churn(6000, seed=5)
    features = compute(df)
    label = df[TARGET].to_numpy()
    # Single features already separate churners; a model combining them does better.
    assert _auc(-features["tenure_months"].to_numpy(), label) > 0.6
    assert _auc(features["tickets_per_month"].to_numpy(), label) > 0.55
    assert _auc(-features["spend_ratio"].to_numpy(), label) > 0.6
    # Segments matter only a little: churn rates per plan stay close together.
    rates = df.groupby("plan")[TARGET].mean()
    assert rates.max() - rates.min() < 0.1


def test_empty_and_bad_arguments():
    assert len(churn(0)) == 0
    with pytest.raises(ValueError, match="n must be"):
        churn(-1)
    with pytest.raises(ValueError, match="shift must be"):
        churn(10, shift=-0.5)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("synthetic:1000", SyntheticSource(1000, 0, 0.0)),
        ("synthetic:1000:7", SyntheticSource(1000, 7, 0.0)),
        ("synthetic:1000:7:0.5", SyntheticSource(1000, 7, 0.5)),
        ("data/customers.csv", None),
        ("s3://bucket/x.parquet", None),
    ],
)
def test_parse_source(source, expected):
    assert parse_source(source) == expected


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("synthetic:", "expected synthetic:N"),
        ("synthetic:abc", "N='abc'"),
        ("synthetic:10:x", "seed='x'"),
        ("synthetic:10:1:big", "shift='big'"),
        ("synthetic:10:1:-1", "shift must be"),
        ("synthetic:10:1:nan", "shift must be"),
        ("synthetic:0", "N must be > 0"),
        ("synthetic:1:2:3:4", "concept must be within 0..1"),
        ("synthetic:1:2:3:0:5", "expected synthetic:N"),
    ],
)
def test_parse_source_errors_name_the_part(source, message):
    with pytest.raises(ValueError, match=message):
        parse_source(source)


def test_source_name_and_generate():
    source = parse_source("synthetic:50:2:0.25")
    assert source.name == "synthetic:50:2:0.25"
    n, seed, shift, concept = source
    pd.testing.assert_frame_equal(source.generate(), churn(n, seed, shift, concept))
