"""Reference profiles stay bit-identical to the ones already stored in the registry.

tests/unit/features/data/profile_golden.json was written by the profile code as it
was before the fast quantile and counting paths (commit ae94028, np.quantile +
np.searchsorted), from the seeded data below. Stored models carry such profiles, and
serving buckets and drift scores depend on every edge, so any change to an edge or
a proportion, even in the last bit, must fail here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from modelops_features import synthetic
from modelops_features.churn import FEATURE_SCHEMA, compute
from modelops_features.profile import build_profile, numeric_profile

GOLDEN = Path(__file__).parent / "data" / "profile_golden.json"


def _columns() -> dict[str, np.ndarray]:
    # 60,000 rows: above the size where the quantile selection switches from a plain
    # partition to its counting pass, so both paths are pinned.
    rng = np.random.default_rng(20261124)
    n = 60_000
    heavy = rng.lognormal(0.0, 3.0, n)
    heavy[:50] = 1e300  # outliers squeeze almost every value into one counting range
    heavy[50:60] = -1e300
    odd = rng.normal(0, 1, n)
    odd[::97] = np.nan
    odd[::89] = np.inf
    odd[::83] = -np.inf
    return {
        "normal": rng.normal(0.0, 1.0, n),
        "heavy_tailed": heavy,
        "integer_ties": rng.poisson(3.0, n).astype(np.float64),
        "binary": (rng.random(n) < 0.07).astype(np.float64),
        "constant": np.full(n, 2.5),
        "nan_inf": odd,
        "tiny": rng.normal(0, 1, 7),
    }


def _current() -> dict:
    features = compute(synthetic.churn(50_000, seed=5, shift=0.3))
    predictions = np.random.default_rng(3).beta(2, 5, len(features))
    return {
        "churn": build_profile(features, FEATURE_SCHEMA, predictions, n_buckets=10),
        "columns": {
            name: {str(k): numeric_profile(values, k) for k in (2, 10, 50)}
            for name, values in _columns().items()
        },
    }


def test_profiles_are_bit_identical_to_the_stored_golden_file():
    # JSON floats are written with repr, which round-trips exactly, so comparing the
    # serialised text compares every edge and proportion bit for bit.
    expected = json.loads(GOLDEN.read_text())
    current = json.loads(json.dumps(_current(), sort_keys=True))
    for name, by_buckets in expected["columns"].items():
        assert current["columns"][name] == by_buckets, name
    for name, feature in expected["churn"]["features"].items():
        assert current["churn"]["features"][name] == feature, name
    assert json.dumps(current, sort_keys=True) == json.dumps(expected, sort_keys=True)
