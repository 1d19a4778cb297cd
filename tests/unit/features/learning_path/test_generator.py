"""The synthetic student generator: determinism, contract, the known group effect,
the biased mode, the drift mode and the "synthetic:N[:seed[:shift[:bias]]]" spelling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from modelops_features import learning_path as lp
from modelops_features.drift import psi
from modelops_features.profile import bucket_counts, build_profile
from modelops_features.schema import validate
from modelops_features.synthetic_students import (
    BIASED_GROUP,
    VIDEO_FACTOR_B,
    StudentSource,
    parse_source,
    students,
)


def test_same_seed_same_data_other_seed_other_data() -> None:
    pd.testing.assert_frame_equal(students(400, seed=3), students(400, seed=3))
    pd.testing.assert_frame_equal(
        students(400, seed=3, shift=0.5, bias=0.5), students(400, seed=3, shift=0.5, bias=0.5)
    )
    assert not students(400, seed=3).equals(students(400, seed=4))


def test_columns_contract_groups_and_labels() -> None:
    frame = students(5000, seed=1)
    assert list(frame.columns) == [lp.ID_COLUMN, lp.GROUP_COLUMN, *lp.RAW_SCHEMA.names, lp.TARGET]
    assert validate(frame, lp.RAW_SCHEMA).ok
    assert frame[lp.ID_COLUMN].is_unique
    assert set(frame[lp.GROUP_COLUMN]) == set(lp.GROUPS)
    shares = frame[lp.TARGET].value_counts(normalize=True)
    assert set(shares.index) == set(lp.MODULES) and shares.min() > 0.05
    for col in lp.QUIZ_COLUMNS:
        assert 0.1 < frame[col].isna().mean() < 0.3


def test_the_known_group_effect_is_detectable_and_only_in_behaviour() -> None:
    frame = students(20000, seed=2)
    per_day = frame["video_minutes"] / frame["active_days"].clip(lower=1)
    is_b = frame[lp.GROUP_COLUMN] == BIASED_GROUP
    ratio = per_day[is_b].mean() / per_day[~is_b].mean()
    assert ratio == pytest.approx(VIDEO_FACTOR_B, abs=0.05)
    # Same needs: the label mix and the skills are drawn alike for every group.
    foundations = frame[lp.TARGET].str.endswith("-foundations")
    assert abs(foundations[is_b].mean() - foundations[~is_b].mean()) < 0.03
    assert (
        abs(frame.loc[is_b, "quiz_avg_math"].mean() - frame.loc[~is_b, "quiz_avg_math"].mean())
        < 1.5
    )


def test_bias_steers_only_the_biased_group_to_foundations() -> None:
    fair, biased = students(20000, seed=5), students(20000, seed=5, bias=1.0)
    is_b = biased[lp.GROUP_COLUMN] == BIASED_GROUP
    assert biased.loc[is_b, lp.TARGET].str.endswith("-foundations").all()
    # Others keep their labels; the steering keeps the subject.
    pd.testing.assert_series_equal(fair.loc[~is_b, lp.TARGET], biased.loc[~is_b, lp.TARGET])
    subject = lambda s: s.str.split("-").str[0]  # noqa: E731
    pd.testing.assert_series_equal(
        subject(fair.loc[is_b, lp.TARGET]), subject(biased.loc[is_b, lp.TARGET])
    )


def test_shift_moves_the_inputs_enough_for_drift() -> None:
    base = lp.compute(students(5000, seed=6))
    moved = lp.compute(students(5000, seed=6, shift=1.0))
    profile = build_profile(base, lp.FEATURE_SCHEMA, None)
    scores = {
        name: psi(np.asarray(spec["proportions"]), bucket_counts(moved[name], spec))
        for name, spec in profile["features"].items()
    }
    drifted = {name for name, score in scores.items() if score > 0.2}
    assert {"video_minutes", "days_since_last_activity", "last_subject"} <= drifted
    assert validate(students(2000, seed=6, shift=1.0), lp.RAW_SCHEMA).ok


def test_source_spelling() -> None:
    assert parse_source("data.csv") is None
    assert parse_source("synthetic:100") == StudentSource(100, 0, 0.0, 0.0)
    spec = parse_source("synthetic:100:7:0.5:1")
    assert spec == StudentSource(100, 7, 0.5, 1.0)
    assert spec.name == "synthetic-students:100:7:0.5:1"
    assert len(spec.generate()) == 100
    for bad, word in [
        ("synthetic:", "expected"),
        ("synthetic:x", "N='x'"),
        ("synthetic:10:1:0:2", "bias"),
        ("synthetic:10:1:-1", "shift"),
        ("synthetic:0", "N must be"),
        ("synthetic:1:2:3:4:5", "expected"),
    ]:
        with pytest.raises(ValueError, match=word):
            parse_source(bad)
