"""What every peer does per request: the churn bento's validation, features and model.

Peers run in their own bench-only environments (envs.py) with the workspace's
feature package installed and bentos/ on PYTHONPATH for the request schema
(`modelops_bentos.churn.records` needs only pydantic and modelops_features), so
they validate with the same generated pydantic model, compute the same
features with the package's public functions and predict with the same
artefact. They record no metrics: they are the bare servers to beat.

Bodies: {"records": [raw records]} (validated, features computed) or
{"inputs": [[model row], ...]} (precomputed model rows, predict only).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import xgboost as xgb
from pydantic import BaseModel

from modelops_bentos.churn.records import Records
from modelops_features import churn as churn_features

MODEL_ENV = "MODELOPS_BENCH_MODEL_FILE"


def load_booster() -> xgb.Booster:
    booster = xgb.Booster()
    booster.load_model(os.environ[MODEL_ENV])
    booster.set_param({"nthread": 1})
    return booster


class RecordsBody(BaseModel):
    records: Records


class RowsBody(BaseModel):
    # null: a missing feature (JSON has no NaN); numpy reads None as NaN below.
    inputs: list[list[float | None]]


def rows_for(records: list[dict[str, Any]]) -> np.ndarray:
    if len(records) == 1:
        return churn_features.model_row(churn_features.compute_one(records[0]))
    return churn_features.model_matrix_from_records(records)


def predict_records(booster: xgb.Booster, body: RecordsBody) -> dict[str, Any]:
    records = [vars(r) for r in body.records]
    if not records:
        return {"predictions": []}
    probabilities = booster.inplace_predict(rows_for(records)).tolist()
    return {
        "predictions": [
            {"customer_id": r["customer_id"], "churn_probability": p}
            for r, p in zip(records, probabilities, strict=True)
        ]
    }


def predict_rows(booster: xgb.Booster, body: RowsBody) -> dict[str, Any]:
    rows = np.asarray(body.inputs, dtype=np.float32)
    return {"predictions": booster.inplace_predict(rows).tolist() if len(rows) else []}


def predict_any(booster: xgb.Booster, payload: dict[str, Any]) -> dict[str, Any]:
    """For servers with one route: the body's key says which kind it is."""
    if "inputs" in payload:
        return predict_rows(booster, RowsBody.model_validate(payload))
    return predict_records(booster, RecordsBody.model_validate(payload))
