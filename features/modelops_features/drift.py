"""Drift statistics between a reference profile and observed bucket counts.

All three statistics compare two distributions over the same k buckets: the
reference proportions e (from the training profile) and the observed proportions
a = counts / sum(counts) (from live Prometheus histogram buckets). Both inputs are
normalised to sum 1 first, so raw counts work for either argument.

* PSI, population stability index:
      PSI = sum_i (a_i - e_i) * ln(a_i / e_i)
  A bucket that is empty on either side would make ln(.) infinite, so each
  proportion is floored at `eps` (default 1e-4) before the sum; the floored values
  are not renormalised (the usual convention, and the one the hand-computed
  tests use). Rule of thumb: < 0.1 stable, 0.1-0.2 moderate, > 0.2 significant.
* KS, Kolmogorov-Smirnov statistic on the binned data:
      KS = max_j | sum_{i<=j} a_i - sum_{i<=j} e_i |
  the largest gap between the two empirical CDFs evaluated at the bucket edges.
  For data whose values sit on the bucket representatives it equals scipy's
  two-sample KS statistic; for continuous data it is a lower bound of it.
  Bucket order matters, so for categorical features it depends on the category
  order; PSI or JS suit categories better.
* JS, Jensen-Shannon distance with base-2 logarithms:
      m = (a + e) / 2,  JSD = 1/2 KL(a || m) + 1/2 KL(e || m),  JS = sqrt(JSD)
  with KL(p || q) = sum_i p_i log2(p_i / q_i) and 0 * log 0 = 0, so empty buckets
  need no epsilon. It is symmetric and lies in [0, 1]; it equals
  scipy.spatial.distance.jensenshannon(a, e, base=2).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

DEFAULT_EPS = 1e-4


def _distributions(expected: Any, actual_counts: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """Both inputs as proportions, or None when nothing was observed."""
    e = np.asarray(expected, dtype=np.float64)
    a = np.asarray(actual_counts, dtype=np.float64)
    if e.ndim != 1 or e.shape != a.shape or e.size == 0:
        raise ValueError(
            f"expected and actual_counts must be 1-D and of the same length, "
            f"got shapes {e.shape} and {a.shape}"
        )
    if not (np.isfinite(e).all() and np.isfinite(a).all()) or (e < 0).any() or (a < 0).any():
        raise ValueError("expected and actual_counts must be finite and >= 0")
    e_total, a_total = e.sum(), a.sum()
    if e_total <= 0:
        raise ValueError("expected proportions sum to 0: the reference has no data")
    if a_total <= 0:
        return None
    return e / e_total, a / a_total


def psi(expected: Any, actual_counts: Any, eps: float = DEFAULT_EPS) -> float:
    """Population stability index (see module docstring); 0.0 when nothing was observed.

    With no observations there is no evidence of drift; callers decide whether the
    sample is large enough (DriftReport.insufficient).
    """
    dists = _distributions(expected, actual_counts)
    if dists is None:
        return 0.0
    e, a = (np.maximum(d, eps) for d in dists)
    return float(np.sum((a - e) * np.log(a / e)))


def ks(expected: Any, actual_counts: Any) -> float:
    """Max absolute difference of the binned CDFs; 0.0 when nothing was observed."""
    dists = _distributions(expected, actual_counts)
    if dists is None:
        return 0.0
    e, a = dists
    return float(np.max(np.abs(np.cumsum(a) - np.cumsum(e))))


def js(expected: Any, actual_counts: Any) -> float:
    """Jensen-Shannon distance, base 2, in [0, 1]; 0.0 when nothing was observed."""
    dists = _distributions(expected, actual_counts)
    if dists is None:
        return 0.0
    e, a = dists
    m = (e + a) / 2.0
    divergence = 0.5 * _kl2(a, m) + 0.5 * _kl2(e, m)
    # Rounding can leave a tiny negative divergence for identical inputs, or a
    # value a hair above 1 for disjoint ones; the distance is defined on [0, 1].
    return float(np.sqrt(np.clip(divergence, 0.0, 1.0)))


def _kl2(p: np.ndarray, q: np.ndarray) -> float:
    """KL(p || q) in bits, with 0 * log(0 / q) = 0; q > 0 wherever p > 0."""
    nonzero = p > 0
    return float(np.sum(p[nonzero] * np.log2(p[nonzero] / q[nonzero])))


METHODS: dict[str, Callable[[Any, Any], float]] = {"psi": psi, "ks": ks, "js": js}


@dataclass
class DriftReport:
    method: str
    score: float
    features: dict[str, float] = field(default_factory=dict)
    samples: int = 0
    prediction: float | None = None
    insufficient: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "score": self.score,
            "features": dict(self.features),
            "samples": self.samples,
            "prediction": self.prediction,
            "insufficient": self.insufficient,
        }

    def top(self, n: int = 5) -> list[tuple[str, float]]:
        """The n most drifted features, highest score first (ties by name)."""
        return sorted(self.features.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def compare(
    profile: Mapping[str, Any],
    observed: Mapping[str, Any],
    method: str = "psi",
    min_samples: int = 0,
    prediction_counts: Any = None,
) -> DriftReport:
    """Drift of observed bucket counts against a reference profile.

    `observed` maps feature name -> counts in that feature's profile buckets (for
    example from `profile.bucket_counts` or Prometheus histograms). Features of
    the profile that are absent from `observed` are not scored; names that the
    profile does not know, or counts of the wrong length, raise ValueError.

    `samples` is the largest number of observations of any scored feature (a
    feature with missing values counts fewer), or the prediction count when no
    feature is given. `insufficient` is set when samples < min_samples; the
    scores are still computed so that an operator can show them, but a decision
    should not be taken on them.
    """
    if method not in METHODS:
        raise ValueError(f"unknown drift method {method!r}; known: {sorted(METHODS)}")
    statistic = METHODS[method]
    references = profile.get("features", {})
    unknown = sorted(set(observed) - set(references))
    if unknown:
        raise ValueError(f"observed counts for feature(s) not in the profile: {unknown}")

    scores: dict[str, float] = {}
    samples = 0
    for name, counts in observed.items():
        reference = references[name]["proportions"]
        counts = np.asarray(counts, dtype=np.float64)
        if counts.shape != (len(reference),):
            raise ValueError(
                f"feature {name!r}: {counts.size} bucket counts observed, "
                f"profile has {len(reference)} buckets"
            )
        scores[name] = statistic(reference, counts)
        samples = max(samples, round(counts.sum()))

    prediction = None
    if prediction_counts is not None:
        if "prediction" not in profile:
            raise ValueError("prediction counts given but the profile has no prediction entry")
        pred_counts = np.asarray(prediction_counts, dtype=np.float64)
        reference = profile["prediction"]["proportions"]
        if pred_counts.shape != (len(reference),):
            raise ValueError(
                f"prediction: {pred_counts.size} bucket counts observed, "
                f"profile has {len(reference)} buckets"
            )
        prediction = statistic(reference, pred_counts)
        if not scores:
            samples = round(pred_counts.sum())

    # The overall score is the worst feature, not an average: one feature that has
    # moved is enough to make the model's inputs unlike its training data, and
    # averaging would dilute it with the many features that did not move. The
    # prediction score is kept apart: it answers "did the output move?", which is
    # a consequence of input drift rather than another input.
    score = max(scores.values(), default=0.0)
    return DriftReport(
        method=method,
        score=score,
        features=scores,
        samples=samples,
        prediction=prediction,
        insufficient=samples < min_samples,
    )
