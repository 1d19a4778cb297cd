"""The learning-path model's trainer: a multinomial logistic regression over the module catalogue.

Why multi-class rather than pairwise: the catalogue is small and closed
(`learning_path.MODULES`), each training example has exactly one right next
module, and the modules carry no features of their own. A softmax over the
catalogue is then exactly a listwise ranking model (its cross-entropy is the
ListNet/softmax ranking loss with one relevant item): one fit, scores that are
probabilities (comparable across requests and usable as a histogram), and
ranking any candidate subset is just renormalising its scores. Pairwise
learning-to-rank pays off when candidates are many, open-ended and described
by their own features; here it would multiply the data by the number of
module pairs and lose the calibrated scores.

Why logistic regression: its parameters are a few arrays exported to JSON
(`modelops_features.softmax.SoftmaxLinear`) and scored with numpy, so the
registry never holds a pickle (loading one runs arbitrary code) and the
service needs no scikit-learn. Training evaluates the *exported* parameters,
so the published metrics are those of the exact serving computation.

Evaluation is on held-out *students* (sha256 of student_id, as churn does
with customers): a student's rows never straddle the split.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from modelops_features import learning_path as lp
from modelops_features import synthetic_students
from modelops_features.profile import build_profile
from modelops_features.schema import Field, Schema, validate
from modelops_features.softmax import ModelFormatError, SoftmaxLinear
from modelops_registry import Registry
from modelops_training import data as data_io
from modelops_training import metrics, ranking
from modelops_training.candidate import Candidate
from modelops_training.errors import TrainingInputError
from modelops_training.split import HOLDOUT_FRACTION, holdout_mask_by_id, holdout_mask_by_seed

ARTEFACT_NAME = "model.json"
ALGORITHM = "softmax_logistic_regression"
PRIMARY_METRIC = "top3_accuracy"

TRAINING_SCHEMA = Schema(
    name="learning_path_training",
    fields=(
        *lp.RAW_SCHEMA.fields,
        Field(
            lp.GROUP_COLUMN,
            "category",
            categories=lp.GROUPS,
            description="Student group, for fairness reports only (never a feature).",
        ),
        Field(
            lp.TARGET,
            "category",
            categories=lp.MODULES,
            description="The module that was the right next step.",
        ),
    ),
)


@dataclass(frozen=True)
class LearningPathParams:
    """Inverse L2 strength and the solver's iteration cap (lbfgs, multinomial)."""

    c: float = 1.0
    max_iter: int = 1000

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check(frame: pd.DataFrame) -> None:
    """Refuse data that breaks the contract, with the full validation report."""
    report = validate(frame, TRAINING_SCHEMA)
    if not report.ok:
        raise TrainingInputError(
            "training data refused:\n" + report.summary(), report=report.to_dict()
        )
    if len(frame) == 0:
        raise TrainingInputError("training data refused: it has no rows")


def split_students(frame: pd.DataFrame, seed: int) -> tuple[np.ndarray, str]:
    """Held-out mask by student (id hash) or, without ids, by a seeded permutation."""
    if lp.ID_COLUMN in frame.columns and frame[lp.ID_COLUMN].notna().all():
        return holdout_mask_by_id(frame[lp.ID_COLUMN]), "student_id_hash"
    return holdout_mask_by_seed(len(frame), seed), "seeded_permutation"


def fit(x: np.ndarray, y: np.ndarray, params: LearningPathParams, seed: int) -> SoftmaxLinear:
    """Fit on standardised inputs and export the parameters the scorer needs."""
    missing = [lp.MODULES[i] for i in sorted(set(range(len(lp.MODULES))) - set(y.tolist()))]
    if missing:
        raise TrainingInputError(
            f"the training split has no student whose {lp.TARGET!r} is {missing}; "
            "every module of the catalogue needs examples (provide more data)"
        )
    center, scale = SoftmaxLinear.fit_standardization(x)
    shell = SoftmaxLinear(
        classes=lp.MODULES,
        columns=tuple(lp.MODEL_COLUMNS),
        center=center,
        scale=scale,
        coef=np.zeros((len(lp.MODULES), x.shape[1])),
        intercept=np.zeros(len(lp.MODULES)),
    )
    estimator = LogisticRegression(C=params.c, max_iter=params.max_iter, random_state=seed)
    estimator.fit(shell.standardize(x), y)
    return SoftmaxLinear(
        classes=lp.MODULES,
        columns=tuple(lp.MODEL_COLUMNS),
        center=center,
        scale=scale,
        coef=np.asarray(estimator.coef_, dtype=np.float64),
        intercept=np.asarray(estimator.intercept_, dtype=np.float64),
    )


def popularity_scores(y_train: np.ndarray, n: int) -> np.ndarray:
    """The baseline: every student gets the modules ranked by training frequency."""
    freq = np.bincount(y_train, minlength=len(lp.MODULES)) / max(len(y_train), 1)
    return np.tile(freq, (n, 1))


def held_out_metrics(
    scores: np.ndarray, y: np.ndarray, groups: np.ndarray, baseline: np.ndarray
) -> dict[str, Any]:
    fairness = ranking.fairness(scores, y, groups, lp.MODULES)
    base = ranking.quality(baseline, y)
    return metrics.rounded(
        {
            **ranking.quality(scores, y),
            "baseline_top1_accuracy": base["top1_accuracy"],
            "baseline_top3_accuracy": base["top3_accuracy"],
            "baseline_ndcg_at_3": base["ndcg_at_3"],
            "recommendation_rates": dict(
                zip(lp.MODULES, ranking.recommendation_rates(scores).tolist(), strict=True)
            ),
            **fairness,
        }
    )


# Default gates: top-3 accuracy well above chance (3 of 8 modules: 0.375), and
# no worse than recommending the most popular modules (the baseline) by more
# than 0.01 on the same held-out students. synthetic:20000 gives 0.811 against
# a baseline of 0.396.
DEFAULT_GATES = {"minMetric": {"top3_accuracy": 0.5}, "maxBaselineRegression": 0.01}


class LearningPathTrainer:
    name = "learning-path"
    primary_metric = PRIMARY_METRIC
    baseline_metric = "baseline_top3_accuracy"
    default_gates = DEFAULT_GATES
    gateable_metrics = (
        "top1_accuracy",
        "top3_accuracy",
        "ndcg_at_3",
        "logloss",
        "fairness_gap",
        "top3_accuracy_gap",
        "recommendation_rate_gap",
        "baseline_top3_accuracy",
    )

    def fit(
        self,
        data: str,
        seed: int,
        params: Any,
        registry: Registry,
        model: str,
        base: str | None,
    ) -> Candidate:
        if params is not None and not isinstance(params, LearningPathParams):
            raise TrainingInputError(
                f"learning-path takes LearningPathParams, not {type(params).__name__} "
                "(--n-estimators applies to churn only)"
            )
        params = params or LearningPathParams()
        dataset = data_io.load(
            data,
            synthetic_students.parse_source,
            lp.ID_COLUMN,
            registry_uri=registry.uri,
            kind=self.name,
            required=(lp.GROUP_COLUMN,),
        )
        frame = dataset.frame
        check(frame)
        features = lp.compute(frame)
        x = lp.model_matrix(features)
        y = pd.Index(lp.MODULES).get_indexer(frame[lp.TARGET]).astype(np.int64)
        holdout, method = split_students(frame, seed)
        train = ~holdout
        if not holdout.any() or not train.any():
            raise TrainingInputError(
                f"{len(frame)} rows cannot be split into training and held-out students; "
                "provide more data"
            )
        scorer = fit(x[train], y[train], params, seed)
        scores = scorer.proba(x[holdout])
        groups = frame.loc[holdout, lp.GROUP_COLUMN].astype(str).to_numpy()
        held_out = held_out_metrics(
            scores, y[holdout], groups, popularity_scores(y[train], int(holdout.sum()))
        )
        comparison = (
            compare_with_base(
                registry, model, base, x[holdout], y[holdout], held_out[PRIMARY_METRIC]
            )
            if base
            else None
        )
        # Features from the training students; the prediction (top-1 score)
        # distribution from held-out students, as serving will see it.
        profile = build_profile(features.loc[train], lp.FEATURE_SCHEMA, None)
        profile["prediction"] = build_profile(
            features.loc[holdout], lp.FEATURE_SCHEMA, scores.max(axis=1)
        )["prediction"]
        return Candidate(
            artefacts={ARTEFACT_NAME: scorer.to_json()},
            algorithm=ALGORITHM,
            dataset={
                "name": dataset.name,
                "sha256": dataset.sha256,
                "rows": len(frame),
                **dataset.details,
            },
            metrics=held_out,
            features={
                "schema_hash": lp.FEATURE_SCHEMA.content_hash(),
                "raw_schema_hash": lp.RAW_SCHEMA.content_hash(),
                "model_columns": list(lp.MODEL_COLUMNS),
                "modules": list(lp.MODULES),
            },
            profile=profile,
            comparison=comparison,
            training={
                "seed": seed,
                "split": method,
                "holdout_fraction": HOLDOUT_FRACTION,
                "rows_train": int(train.sum()),
                "rows_holdout": int(holdout.sum()),
                "params": params.to_dict(),
                "baseline": "popularity",
                "approach": "multi-class softmax over the module catalogue",
            },
        )


def compare_with_base(
    registry: Registry,
    model: str,
    base: str,
    x_hold: np.ndarray,
    y_hold: np.ndarray,
    candidate_value: float | None,
) -> dict[str, Any]:
    """The base version's top-3 accuracy on the candidate's held-out students when possible.

    Falls back to the base's stored metric (and says so) when its parameters
    use other model columns or another catalogue.
    """
    base_meta = registry.metadata(model, base)
    result: dict[str, Any] = {
        "metric": PRIMARY_METRIC,
        "base_version": base,
        f"candidate_{PRIMARY_METRIC}": candidate_value,
    }
    try:
        scorer = SoftmaxLinear.from_json(registry.read_artefact(model, base, ARTEFACT_NAME))
        same = scorer.columns == tuple(lp.MODEL_COLUMNS) and scorer.classes == lp.MODULES
    except ModelFormatError:
        scorer, same = None, False
    if scorer is not None and same:
        base_quality = metrics.rounded(ranking.quality(scorer.proba(x_hold), y_hold))
        result.update(
            {
                "method": "same_holdout",
                f"base_{PRIMARY_METRIC}": base_quality[PRIMARY_METRIC],
                "base_metrics": base_quality,
            }
        )
    else:
        result.update(
            {
                "method": "stored_metrics",
                f"base_{PRIMARY_METRIC}": (base_meta.get("metrics") or {}).get(PRIMARY_METRIC),
                "note": "base model uses other columns or modules; compared with its stored "
                "held-out metric",
            }
        )
    return result


TRAINER = LearningPathTrainer()
