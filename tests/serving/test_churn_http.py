"""The churn service as a real `bentoml serve` process, over HTTP.

Also the parity test: the features the live endpoint computes for 1,000
records are identical to what the training code (`compute` + `model_matrix`)
computes for the same records, on both the one-record and the many-record path,
and its predictions equal in-process `inplace_predict` bit for bit.
"""

from __future__ import annotations

import json
import math

import httpx
import numpy as np
import pytest

from modelops_bentos.churn.examples import SAMPLE_RECORD

from .conftest import api_records

BAD_BODIES = [
    ({"records": [{**SAMPLE_RECORD, "plan": "gold"}]}, 422, "records.0.plan"),
    ({"records": [{**SAMPLE_RECORD, "tenure_months": 10**9}]}, 422, "records.0.tenure_months"),
    ({"records": [{**SAMPLE_RECORD, "tenure_months": "NaN"}]}, 422, "records.0.tenure_months"),
    ({"records": [{"plan": "basic"}]}, 422, "records.0.orders"),
    ({"records": [{**SAMPLE_RECORD, "surprise": 1}]}, 422, "records.0.surprise"),
    ({"records": "all of them"}, 422, "records"),
    (["not", "an", "object"], 422, "body"),
    (b"{not json", 400, "body"),
]


@pytest.fixture(scope="module")
def http(live_server):
    with httpx.Client(base_url=live_server.url, timeout=30) as c:
        yield c


def test_health_endpoints(http) -> None:
    for path in ("/livez", "/readyz", "/healthz"):
        assert http.get(path).status_code == 200, path


def test_predict_over_http(http, churn_model) -> None:
    resp = http.post("/predict", json={"records": [SAMPLE_RECORD]})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["version"] == churn_model.version
    assert body["predictions"][0]["customer_id"] == SAMPLE_RECORD["customer_id"]
    batch = http.post("/predict_batch", json={"records": [SAMPLE_RECORD]})
    assert batch.status_code == 200, batch.text
    assert batch.json() == body


@pytest.mark.parametrize("path", ["/predict", "/predict_batch"])
@pytest.mark.parametrize(("body", "status", "field"), BAD_BODIES)
def test_bad_inputs_over_http(http, live_server, path, body, status, field) -> None:
    if isinstance(body, bytes):
        resp = http.post(path, content=body, headers={"Content-Type": "application/json"})
    else:
        resp = http.post(path, json=body)
    assert resp.status_code == status, f"{resp.text}\n{live_server.log_tail()}"
    assert field in resp.json()["error"]
    assert live_server.process.poll() is None, "the server died"


def test_wrong_content_type_over_http(http) -> None:
    resp = http.post("/predict", content=b"x=1", headers={"Content-Type": "text/plain"})
    assert resp.status_code == 415


def test_metrics_over_http(http, churn_model) -> None:
    http.post("/predict", json={"records": [SAMPLE_RECORD]})
    text = http.get("/metrics").text
    assert "bentoml_" in text  # BentoML's own metrics stay
    version = churn_model.version
    assert (
        f'modelops_requests_total{{endpoint="predict",model="churn",status="200",version="{version}"}}'
        in text
    )
    assert "modelops_feature_value_bucket{" in text
    assert "modelops_prediction_bucket{" in text


def _same(a, b) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    if a is None or b is None:
        # JSON has no NaN: the endpoint reports a missing feature as null.
        return (a is None or math.isnan(a)) and (b is None or math.isnan(b))
    return float(a) == float(b)


def _assert_features_equal(expected_rows: list[dict], got_rows: list[dict], label: str) -> None:
    mismatches = [
        (i, name, expected[name], got[name])
        for i, (expected, got) in enumerate(zip(expected_rows, got_rows, strict=True))
        for name in expected
        if not _same(expected[name], got[name])
    ]
    assert not mismatches, f"{label}: {len(mismatches)} mismatches, first: {mismatches[:5]}"


def test_parity_training_features_vs_live_endpoint(http, churn_model) -> None:
    import xgboost as xgb

    from modelops_features import churn as churn_features
    from modelops_features import synthetic
    from modelops_registry import Registry

    frame = synthetic.churn(1000, seed=2024)
    records = api_records(frame)
    # The training code path, in this process.
    features = churn_features.compute(frame)
    expected_features = features[churn_features.FEATURE_NAMES].to_dict(orient="records")
    matrix = churn_features.model_matrix(features)
    booster = xgb.Booster()
    booster.load_model(
        bytearray(
            Registry.from_uri(churn_model.uri).read_artefact(
                "churn", churn_model.version, "model.ubj"
            )
        )
    )
    expected_p = booster.inplace_predict(matrix)

    # Many-record path: one request with all 1,000 records.
    many = http.post("/features", json={"records": records})
    assert many.status_code == 200, many.text
    _assert_features_equal(expected_features, many.json()["features"], "1000-record request")
    assert np.array_equal(np.asarray(many.json()["rows"], dtype=np.float32), matrix, equal_nan=True)

    # One-record path: 1,000 requests of one record each.
    single_features, single_rows = [], []
    for record in records:
        resp = http.post("/features", json={"records": [record]})
        assert resp.status_code == 200, resp.text
        single_features += resp.json()["features"]
        single_rows += resp.json()["rows"]
    _assert_features_equal(expected_features, single_features, "one-record requests")
    assert np.array_equal(np.asarray(single_rows, dtype=np.float32), matrix, equal_nan=True)

    # Predictions: bit-identical to in-process inplace_predict on the training matrix.
    predicted = http.post("/predict", json={"records": records}).json()["predictions"]
    got = np.asarray([p["churn_probability"] for p in predicted], dtype=np.float32)
    assert np.array_equal(got, expected_p.astype(np.float32), equal_nan=False)
    assert [p["customer_id"] for p in predicted] == frame["customer_id"].tolist()
    assert json.dumps(records)  # the bodies were plain JSON
