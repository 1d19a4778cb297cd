"""Helpers of the ground-truth tests: a churn inference log written the way the bento writes it.

The log rows go through the same public pieces the service's writer thread
uses (inference_log.log_columns, parquet.encode, DataLog.write); only the
HTTP layer is left out, which the serving tests cover.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from modelops_features import churn as churn_features
from modelops_features import groundtruth, parquet
from modelops_features import inference_log as il
from modelops_registry.datalog import DataLog

KEY = b"test-key"
POLICY = il.IdentifierPolicy("hash", KEY)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    columns = [*churn_features.RAW_SCHEMA.names, churn_features.ID_COLUMN]
    return json.loads(frame[columns].to_json(orient="records"))


def write_churn_log(
    uri: str,
    frame: pd.DataFrame,
    probabilities: np.ndarray,
    start: datetime,
    model: str = "churn",
    version: str = "1",
    per_request: int = 50,
) -> list[str]:
    """Log `frame`'s customers as requests of `per_request` records, one second apart.

    Returns each row's request id (request i holds rows i*per_request ...).
    """
    layout = il.layout("churn")
    raw = records(frame)
    requests, ids = [], []
    for n, first in enumerate(range(0, len(raw), per_request)):
        chunk = raw[first : first + per_request]
        arrays = churn_features.feature_arrays_from_records(chunk)
        rid = f"req-{version}-{n}"
        requests.append(
            il.LoggedRequest(
                rid,
                "predict",
                groundtruth.to_us(start + timedelta(seconds=n)),
                model,
                version,
                chunk,
                churn_features.feature_columns(arrays),
                probabilities[first : first + per_request],
            )
        )
        ids += [rid] * len(chunk)
    columns = il.log_columns(layout, requests, POLICY)
    meta = il.file_metadata(il.LOG_STREAM, layout, model)
    DataLog(uri).write(
        model,
        il.LOG_STREAM,
        start.date(),
        parquet.encode(layout.log_columns(), columns, metadata=meta),
    )
    return ids


def labels_frame(
    frame: pd.DataFrame, request_ids: list[str], per_request: int = 50
) -> pd.DataFrame:
    """Outcomes of every logged row: even rows by request id, odd rows by customer id."""
    rows = []
    for i, (customer, label) in enumerate(
        zip(frame[churn_features.ID_COLUMN], frame[churn_features.TARGET], strict=True)
    ):
        if i % 2 == 0:
            rows.append(
                {"request_id": request_ids[i], "record": i % per_request, "outcome": int(label)}
            )
        else:
            rows.append({"entity_id": customer, "outcome": int(label)})
    return pd.DataFrame(
        rows, columns=["request_id", "record", "entity_id", "outcome", "observed_at"]
    )
