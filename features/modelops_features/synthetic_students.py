"""A seeded synthetic student-activity data set for the learning-path model.

Each row is one student: their recent activity (the raw columns of
`learning_path.RAW_SCHEMA`), a `student_id`, a fairness `group` and the label
`next_module`, the module that turned out to be the right next step.

How it is drawn:

* latent ability and per-subject skill (correlated); quiz averages are noisy,
  partly missing readings of the skills; engagement drives active days, video
  time, skipping and recency; confidence follows ability;
* the label is the argmax of one utility per module plus Gumbel noise, i.e. a
  multinomial logit: foundations modules suit students weak in the subject,
  advanced ones students who are strong, have prerequisites, confidence and
  low skipping, and students lean to the subject they studied last. A linear
  softmax model can learn it; the noise keeps top-1 accuracy well below 1;
* **the known group effect**: students of `group_b` watch VIDEO_FACTOR_B (half)
  as much video (e.g. low bandwidth) while their skills and labels are drawn
  exactly like everyone else's. A fair model must not rank them worse for it;
* `bias` > 0 makes a deliberately *biased* data set: that share of `group_b`
  students had their label steered to the foundations module of the same
  subject (historical steering of a group towards easier content). A model
  trained on it recommends foundations modules to group_b far more often,
  which the fairness gate must refuse;
* `shift` > 0 is a covariate shift for drift tests: lower quiz scores, more
  video, longer absences and more students coming from programming.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from modelops_features.learning_path import (
    GROUP_COLUMN,
    GROUPS,
    ID_COLUMN,
    MODULES,
    QUIZ_COLUMNS,
    SUBJECTS,
    TARGET,
)
from modelops_features.sources import check_shift, synthetic_fields

GROUP_WEIGHTS = np.array([0.45, 0.35, 0.20])
BIASED_GROUP = "group_b"
VIDEO_FACTOR_B = 0.5
QUIZ_MISSING_RATE = 0.2
CONFIDENCE_MISSING_RATE = 0.1
# Larger: less label noise relative to the signal (top-1 accuracy ~0.5).
UTILITY_SCALE = 1.6
LAST_SUBJECT_SHIFTED = np.array([0.15, 0.15, 0.55, 0.15])


def _clip_round(values: np.ndarray, lo: float, hi: float, digits: int = 0) -> np.ndarray:
    return np.clip(np.round(values, digits), lo, hi)


def students(n: int, seed: int = 0, shift: float = 0.0, bias: float = 0.0) -> pd.DataFrame:
    """`n` students: student_id, group, the raw columns and next_module.

    The same arguments always give the same frame.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if not 0 <= shift < float("inf"):
        raise ValueError(f"shift must be a finite number >= 0, got {shift}")
    if not 0 <= bias <= 1:
        raise ValueError(f"bias must be within [0, 1], got {bias}")
    rng = np.random.default_rng(seed)
    k = len(SUBJECTS)
    group_idx = rng.choice(len(GROUPS), size=n, p=GROUP_WEIGHTS)
    is_b = np.asarray(GROUPS)[group_idx] == BIASED_GROUP

    ability = rng.normal(0.0, 1.0, size=n)
    skill = 0.6 * ability[:, None] + 0.8 * rng.normal(0.0, 1.0, size=(n, k))
    engagement = rng.normal(0.0, 1.0, size=n)

    quiz = 65.0 + 15.0 * skill + rng.normal(0.0, 5.0, size=(n, k)) - 8.0 * shift
    quiz = _clip_round(quiz, 0, 100, 1)
    quiz = np.where(rng.random((n, k)) < QUIZ_MISSING_RATE, np.nan, quiz)

    # Students lean to subjects they are good at; the shift moves the mix.
    lean = np.exp(0.5 * skill)
    lean = lean / lean.sum(axis=1, keepdims=True)
    mix = min(shift, 1.0)
    lean = (1 - mix) * lean + mix * LAST_SUBJECT_SHIFTED
    last = (rng.random(n)[:, None] > np.cumsum(lean, axis=1)).sum(axis=1)
    last = np.minimum(last, k - 1)

    active = _clip_round(12 + 6 * engagement + rng.normal(0, 3, size=n), 0, 30)
    per_day = rng.lognormal(np.log(25.0), 0.4, size=n) * (1 + shift)
    video = _clip_round(active * per_day * np.where(is_b, VIDEO_FACTOR_B, 1.0), 0, 43_200, 1)
    started = rng.poisson(active * 3.0 + 1.0)
    skip_p = 1 / (1 + np.exp(1.5 + 0.8 * engagement))
    skipped = rng.binomial(started, skip_p)
    prereq = np.minimum(rng.poisson(np.exp(1.2 + 0.4 * ability + 0.2 * engagement)), 100)
    confidence = _clip_round(3 + 0.8 * ability + rng.normal(0, 0.8, size=n), 1, 5)
    confidence = np.where(rng.random(n) < CONFIDENCE_MISSING_RATE, np.nan, confidence)
    recency = _clip_round(rng.exponential(5 * np.exp(-0.5 * engagement)) * (1 + shift), 0, 3650, 1)

    label = _next_module(rng, skill, last, prereq, confidence, started, skipped, engagement)
    if bias > 0:
        steered = is_b & (rng.random(n) < bias)
        label = np.where(steered, label - label % 2, label)  # advanced -> foundations

    frame = pd.DataFrame(
        {
            ID_COLUMN: [f"s{seed}-{i:07d}" for i in range(n)],
            GROUP_COLUMN: np.asarray(GROUPS, dtype=object)[group_idx],
            **{col: quiz[:, j] for j, col in enumerate(QUIZ_COLUMNS)},
            "video_minutes": video,
            "active_days": active.astype(np.int64),
            "items_started": started.astype(np.int64),
            "items_skipped": skipped.astype(np.int64),
            "prerequisites_completed": prereq.astype(np.int64),
            "confidence": pd.array(confidence, dtype="Int64"),
            "days_since_last_activity": recency,
            "last_subject": np.asarray(SUBJECTS, dtype=object)[last],
            TARGET: np.asarray(MODULES, dtype=object)[label],
        }
    )
    return frame


def _next_module(
    rng: np.random.Generator,
    skill: np.ndarray,
    last: np.ndarray,
    prereq: np.ndarray,
    confidence: np.ndarray,
    started: np.ndarray,
    skipped: np.ndarray,
    engagement: np.ndarray,
) -> np.ndarray:
    """Index into MODULES (subject-major: 2s = foundations, 2s+1 = advanced)."""
    n, k = skill.shape
    conf = np.where(np.isnan(confidence), 3.0, confidence)
    skip_share = np.where(started > 0, skipped / np.maximum(started, 1), 0.0)
    ready = 0.35 * (prereq - 3.3) / 1.8 + 0.3 * (conf - 3) - 1.5 * (skip_share - 0.2)
    utility = np.empty((n, 2 * k))
    for s in range(k):
        leaning = 0.8 * (last == s)
        utility[:, 2 * s] = leaning - 1.0 * skill[:, s]
        utility[:, 2 * s + 1] = leaning + 1.3 * skill[:, s] + ready + 0.15 * engagement - 0.5
    noise = rng.gumbel(0.0, 1.0, size=utility.shape)
    return np.argmax(UTILITY_SCALE * utility + noise, axis=1)


class StudentSource(NamedTuple):
    """A parsed "synthetic:N[:seed[:shift[:bias]]]" source for the learning-path model."""

    n: int
    seed: int = 0
    shift: float = 0.0
    bias: float = 0.0

    @property
    def name(self) -> str:
        return f"synthetic-students:{self.n}:{self.seed}:{self.shift:g}:{self.bias:g}"

    def generate(self) -> pd.DataFrame:
        return students(self.n, self.seed, self.shift, self.bias)


def parse_source(source: str) -> StudentSource | None:
    """Parse "synthetic:N[:seed[:shift[:bias]]]"; None for any other source (a file).

    Raises ValueError naming the bad part when the synthetic spelling is malformed.
    """
    fields = (("N", int), ("seed", int), ("shift", float), ("bias", float))
    values = synthetic_fields(source, fields)
    if values is None:
        return None
    spec = StudentSource(*values)  # type: ignore[arg-type]
    check_shift(source, spec.shift)
    if not 0 <= spec.bias <= 1:
        raise ValueError(f"bad data source {source!r}: bias must be within [0, 1]")
    return spec
