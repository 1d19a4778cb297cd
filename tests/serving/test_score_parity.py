"""Batch scoring gives the live endpoint's numbers, bit for bit.

10,000 records, with the edge cases the features define specially (zero
orders, zero tenure, missing nullable values, all at once), are scored twice:
by `modelops score` (a real process, Parquet in and out) and by a real
`bentoml serve` of the churn service over HTTP (/predict, 1,000 records per
request: the many-record path; and one record per request for a sample
covering every edge pattern: the one-record path). Every probability must be
the same float32, and every record must be scored (none rejected).
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys

import httpx
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from modelops_features import synthetic

from .conftest import api_records

RECORDS = 10_000
PER_REQUEST = 1_000  # the service's default MODELOPS_MAX_RECORDS
PATTERNS = 10  # edge pattern of a row = its index % 20, for the first 10 of every 20 rows


def edge_case_customers() -> pd.DataFrame:
    frame = synthetic.churn(RECORDS, seed=21).drop(columns=["churned"])
    frame = frame.astype({"support_tickets": "Float64"})
    pattern = np.arange(RECORDS) % 20
    frame.loc[pattern == 0, "orders"] = 0
    frame.loc[pattern == 1, "tenure_months"] = 0
    frame.loc[pattern == 2, "total_spend"] = np.nan
    frame.loc[pattern == 3, "support_tickets"] = pd.NA
    frame.loc[pattern == 4, ["orders", "tenure_months"]] = 0
    frame.loc[pattern == 4, "total_spend"] = np.nan
    frame.loc[pattern == 4, "support_tickets"] = pd.NA
    frame.loc[pattern == 5, ["orders", "total_spend"]] = 0
    frame.loc[pattern == 6, ["tenure_months", "total_spend", "support_tickets"]] = 0
    frame.loc[pattern == 7, "monthly_spend"] = 0.0
    frame.loc[pattern == 8, ["orders", "support_tickets"]] = 0
    frame.loc[pattern == 9, "tenure_months"] = 1  # the per-month floor: max(tenure, 1)
    frame["support_tickets"] = frame["support_tickets"].astype("Int64")
    return frame


def bits(value: float) -> int:
    """The float32 bit pattern of a probability (exact, unlike any tolerance)."""
    return struct.unpack("<I", struct.pack("<f", value))[0]


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    return edge_case_customers()


@pytest.fixture(scope="module")
def batch_scores(churn_model, customers, tmp_path_factory) -> dict[str, float]:
    work = tmp_path_factory.mktemp("score-parity")
    data = work / "customers.parquet"
    customers.to_parquet(data, index=False, row_group_size=2_500)
    out = work / "scores.parquet"
    cmd = [
        sys.executable, "-m", "modelops_cli.main", "score", "--registry", churn_model.uri,
        "--version", churn_model.version, "--data", str(data), "--out", str(out), "-o", "json",
        "--chunk-rows", "3000",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, env=os.environ, timeout=300)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["rows"], summary["scored"], summary["rejected"]) == (RECORDS, RECORDS, 0)
    table = pq.read_table(out)
    assert set(table.column("model_version").to_pylist()) == {churn_model.version}
    ids = table.column("customer_id").to_pylist()
    return dict(zip(ids, table.column("churn_probability").to_pylist(), strict=True))


@pytest.fixture(scope="module")
def http(live_server):
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        yield client


def predict(http, records: list[dict]) -> dict[str, float]:
    resp = http.post("/predict", json={"records": records})
    assert resp.status_code == 200, resp.text
    return {p["customer_id"]: p["churn_probability"] for p in resp.json()["predictions"]}


def test_the_edge_cases_are_in_the_data(customers) -> None:
    assert (customers["orders"] == 0).sum() >= RECORDS // 20 * 4
    assert (customers["tenure_months"] == 0).sum() >= RECORDS // 20 * 3
    assert customers["total_spend"].isna().sum() >= RECORDS // 20 * 2
    assert customers["support_tickets"].isna().sum() >= RECORDS // 20 * 2


def test_batch_equals_predict_bit_for_bit_on_the_many_record_path(
    http, customers, batch_scores
) -> None:
    records = api_records(customers)
    served: dict[str, float] = {}
    for start in range(0, RECORDS, PER_REQUEST):
        served.update(predict(http, records[start : start + PER_REQUEST]))
    assert served.keys() == batch_scores.keys()
    differ = [i for i, p in served.items() if bits(p) != bits(batch_scores[i])]
    assert not differ, f"{len(differ)} of {RECORDS} differ, e.g. {differ[:5]}"
    # JSON carries float32 values exactly: the same numbers as float64 too.
    assert all(served[i] == batch_scores[i] for i in served)


def test_batch_equals_predict_bit_for_bit_on_the_one_record_path(
    http, customers, batch_scores
) -> None:
    records = api_records(customers)
    # Every edge pattern (and plain rows) several times, one record per request.
    sample = [r for i, r in enumerate(records[:400]) if i % 20 < PATTERNS or i % 20 == 15]
    for record in sample:
        ((customer, probability),) = predict(http, [record]).items()
        assert bits(probability) == bits(batch_scores[customer]), record
        assert probability == batch_scores[customer], record
