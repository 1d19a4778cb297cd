"""The churn model (XGBoost) and its comparison baseline (logistic regression).

Models are stored as XGBoost UBJSON, a data-only format: loading one never
executes code, unlike a pickle.
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

ARTEFACT_NAME = "model.ubj"
ALGORITHM = "xgboost"


@dataclass(frozen=True)
class XGBParams:
    """Moderate settings: 20k rows train in a few seconds on one thread."""

    n_estimators: int = 200
    max_depth: int = 4
    learning_rate: float = 0.08
    subsample: float = 0.9
    colsample_bytree: float = 0.9
    min_child_weight: float = 2.0

    def booster_params(self, seed: int) -> dict[str, Any]:
        return {
            "objective": "binary:logistic",
            "eval_metric": "logloss",
            "tree_method": "hist",
            # One thread: deterministic, and it does not fight serving
            # processes for the CPU (see FACTS.md on OpenMP contention).
            "nthread": 1,
            "seed": seed,
            "max_depth": self.max_depth,
            "eta": self.learning_rate,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
            "min_child_weight": self.min_child_weight,
        }

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fit_xgboost(
    x: np.ndarray, y: np.ndarray, feature_names: list[str], params: XGBParams, seed: int
) -> xgb.Booster:
    # XGBoost feature names may not contain "[", "]" or "<".
    dtrain = xgb.DMatrix(x, label=y, feature_names=safe_feature_names(feature_names))
    return xgb.train(params.booster_params(seed), dtrain, num_boost_round=params.n_estimators)


def safe_feature_names(names: list[str]) -> list[str]:
    return [n.replace("[", "(").replace("]", ")").replace("<", "lt") for n in names]


def predict(booster: xgb.Booster, x: np.ndarray) -> np.ndarray:
    # inplace_predict skips building a DMatrix and ignores feature names, so a
    # base model is scored purely by column position (checked by the caller).
    return np.asarray(booster.inplace_predict(x), dtype=np.float64)


def to_ubj(booster: xgb.Booster) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ARTEFACT_NAME
        booster.save_model(path)
        return path.read_bytes()


def from_ubj(data: bytes) -> xgb.Booster:
    """Load a UBJSON model from verified bytes (the registry checked its sha256)."""
    booster = xgb.Booster()
    booster.load_model(bytearray(data))
    booster.set_param({"nthread": 1})
    return booster


def fit_baseline(x: np.ndarray, y: np.ndarray, seed: int):
    """Logistic regression on the same model matrix: the bar XGBoost must clear."""
    model = make_pipeline(
        SimpleImputer(strategy="median", keep_empty_features=True),
        StandardScaler(),
        LogisticRegression(max_iter=1000, random_state=seed),
    )
    model.fit(_finite(x), y)
    return model


def predict_baseline(model, x: np.ndarray) -> np.ndarray:
    return model.predict_proba(_finite(x))[:, 1]


def _finite(x: np.ndarray) -> np.ndarray:
    # Scikit-learn refuses inf; treat it as missing like NaN (the imputer fills both).
    return np.where(np.isfinite(x), x, np.nan)
