"""The churn service in process (ASGI): good inputs, many bad inputs, metrics.

Every bad input must get a 4xx whose body names the failing field; no input may
produce a 5xx.
"""

from __future__ import annotations

import json

import pytest
from prometheus_client.parser import text_string_to_metric_families

from modelops_bentos.churn.examples import SAMPLE_RECORD

from .conftest import asgi_client, service_env

GOOD = SAMPLE_RECORD
ENDPOINTS = ("/predict", "/predict_batch", "/features")


def post(client, path: str, body, **kwargs):
    if isinstance(body, bytes):
        headers = kwargs.pop("headers", {"Content-Type": "application/json"})
        return client.post(path, content=body, headers=headers, **kwargs)
    return client.post(path, json=body, **kwargs)


def test_predict_one_record(client, churn_model) -> None:
    resp = post(client, "/predict", {"records": [GOOD]})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["model"] == "churn" and body["version"] == churn_model.version
    (prediction,) = body["predictions"]
    assert prediction["customer_id"] == GOOD["customer_id"]
    assert 0.0 < prediction["churn_probability"] < 1.0
    assert resp.headers["x-modelops-model-version"] == churn_model.version


def test_predict_many_records_keeps_order_and_ids(client) -> None:
    records = [
        {**GOOD, "customer_id": f"c{i}", "tenure_months": i, "support_tickets": i % 7}
        for i in range(50)
    ]
    records[3] = {k: v for k, v in records[3].items() if k != "customer_id"}
    records[4]["total_spend"] = None  # nullable in the schema
    body = post(client, "/predict", {"records": records}).json()
    ids = [p["customer_id"] for p in body["predictions"]]
    assert ids == [r.get("customer_id") for r in records]
    # The many-record path gives each record what the one-record path gives it.
    for record, prediction in zip(records[:5], body["predictions"][:5], strict=True):
        single = post(client, "/predict", {"records": [record]}).json()["predictions"][0]
        assert single["churn_probability"] == prediction["churn_probability"]


def test_empty_record_list_is_an_empty_answer(client) -> None:
    assert post(client, "/predict", {"records": []}).json()["predictions"] == []
    assert post(client, "/predict_batch", {"records": []}).json()["predictions"] == []


def test_predict_batch_answers_as_predict(client) -> None:
    # One contract: the same body and the same answer ({"model", "version",
    # "predictions"}, like learning-path's /recommend_batch), batching or not.
    records = [{**GOOD, "orders": n} for n in range(5)]
    batch = post(client, "/predict_batch", {"records": records})
    assert batch.status_code == 200, batch.text
    assert batch.json() == post(client, "/predict", {"records": records}).json()


BAD_INPUTS = [
    ("unknown plan", {"records": [{**GOOD, "plan": "gold"}]}, 422, "records.0.plan"),
    ("negative tenure", {"records": [{**GOOD, "tenure_months": -1}]}, 422, "records.0.tenure_months"),
    ("huge number", {"records": [{**GOOD, "monthly_spend": 1e308}]}, 422, "records.0.monthly_spend"),
    ("huge int", {"records": [{**GOOD, "orders": 10**30}]}, 422, "records.0.orders"),
    ("string number", {"records": [{**GOOD, "orders": "many"}]}, 422, "records.0.orders"),
    ("bool in list", {"records": [True]}, 422, "records.0"),
    # One strict contract (no coercion): JSON's own types only.
    ("bool for an int", {"records": [{**GOOD, "orders": True}]}, 422, "records.0.orders"),
    ("numeric string for an int", {"records": [{**GOOD, "tenure_months": "3"}]}, 422,
     "records.0.tenure_months"),
    ("numeric string for a float", {"records": [{**GOOD, "monthly_spend": "10.5"}]}, 422,
     "records.0.monthly_spend"),
    ("fractional int", {"records": [{**GOOD, "orders": 2.5}]}, 422, "records.0.orders"),
    ("number for a category", {"records": [{**GOOD, "plan": 1}]}, 422, "records.0.plan"),
    ("unknown top-level key", {"records": [GOOD], "extra": "x" * 1000}, 422, "extra"),
    ("missing field", {"records": [{k: v for k, v in GOOD.items() if k != "region"}]}, 422,
     "records.0.region"),
    ("extra field", {"records": [{**GOOD, "churned": 1}]}, 422, "records.0.churned"),
    ("null required", {"records": [{**GOOD, "plan": None}]}, 422, "records.0.plan"),
    ("second record bad", {"records": [GOOD, {**GOOD, "region": "mars"}]}, 422, "records.1.region"),
    ("records not a list", {"records": {"a": 1}}, 422, "records"),
    ("no records key", {"rows": [GOOD]}, 422, "records"),
    ("empty object", {}, 422, "records"),
    ("list body", [GOOD], 422, "body"),
    ("number body", 3, 422, "body"),
    ("customer_id object", {"records": [{**GOOD, "customer_id": {"x": 1}}]}, 422,
     "records.0.customer_id"),
    ("NaN literal", b'{"records": [{"tenure_months": NaN}]}', 422, "records.0.tenure_months"),
    ("Infinity literal", json.dumps({"records": [{**GOOD, "total_spend": float("inf")}]}).encode(),
     422, "records.0.total_spend"),
    ("invalid json", b'{"records": [', 400, "body"),
    ("empty body", b"", 422, "records"),
    ("binary garbage", bytes(range(256)), 400, "body"),
]  # fmt: skip


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    ("body", "status", "field"), [b[1:] for b in BAD_INPUTS], ids=[b[0] for b in BAD_INPUTS]
)
def test_bad_input_is_a_4xx_naming_the_field(client, path, body, status, field) -> None:
    resp = post(client, path, body)
    assert resp.status_code == status, resp.text
    payload = resp.json()
    assert field in payload["error"], payload
    assert payload["detail"], payload


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    "content_type", ["text/plain", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded",
                     "application/vnd.bentoml+pickle"]
)  # fmt: skip
def test_non_json_content_types_are_415(client, path, content_type) -> None:
    resp = client.post(path, content=b"a=b", headers={"Content-Type": content_type})
    assert resp.status_code == 415, resp.text
    assert "content type" in resp.json()["error"]


def test_get_on_a_post_endpoint_is_405(client) -> None:
    assert client.get("/predict").status_code == 405


def test_too_many_records_is_413_naming_the_limit(churn_model) -> None:
    env = service_env(churn_model, MODELOPS_MAX_RECORDS="3")
    with asgi_client(env) as limited:
        for path in ENDPOINTS:
            assert post(limited, path, {"records": [GOOD] * 3}).status_code == 200
            resp = post(limited, path, {"records": [GOOD] * 4})
            assert resp.status_code == 413, resp.text
            assert "at most 3 records" in resp.json()["error"]
            assert "MODELOPS_MAX_RECORDS" in resp.json()["error"]


def test_oversized_body_is_refused_before_parsing(churn_model) -> None:
    env = service_env(churn_model, MODELOPS_MAX_RECORDS="1")
    with asgi_client(env) as limited:
        resp = post(limited, "/predict", b"[" + b" " * 200_000 + b"]")
        assert resp.status_code == 413
        assert "exceeds the limit" in resp.json()["error"]


def test_features_endpoint_reports_what_predict_uses(client) -> None:
    body = post(client, "/features", {"records": [GOOD, {**GOOD, "orders": 0}]}).json()
    from modelops_features import churn as churn_features

    assert body["feature_names"] == churn_features.FEATURE_NAMES
    assert body["model_columns"] == churn_features.MODEL_COLUMNS
    assert body["features"][1]["avg_order_value"] == 0.0  # orders == 0 -> 0
    assert len(body["rows"]) == 2 and len(body["rows"][0]) == len(churn_features.MODEL_COLUMNS)


def metric_samples(client) -> dict:
    text = client.get("/metrics").text
    out: dict = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append(sample)
    return out


def test_metrics_have_profile_edges_and_request_counts(client, churn_model) -> None:
    from modelops_registry import Registry

    profile = Registry.from_uri(churn_model.uri).metadata("churn", churn_model.version)["profile"]
    post(client, "/predict", {"records": [GOOD]})
    post(client, "/predict", {"records": [{**GOOD, "plan": "gold"}]})
    samples = metric_samples(client)

    # (BentoML's own bentoml_* metrics are checked on the real server: in process
    # they are not in the multiprocess directory its /metrics reads.)
    labels = {"model": "churn", "version": churn_model.version}
    statuses = {
        s.labels["status"]
        for s in samples["modelops_requests_total"]
        if s.labels["endpoint"] == "predict" and all(s.labels[k] == v for k, v in labels.items())
    }
    assert {"200", "422"} <= statuses
    assert samples["modelops_request_duration_seconds_count"]
    assert samples["modelops_model_ready"][0].value == 1.0

    numeric = {n: f for n, f in profile["features"].items() if f["kind"] == "numeric"}
    assert numeric, "the model's profile has no numeric features"
    for name, feature in numeric.items():
        les = [
            s.labels["le"]
            for s in samples["modelops_feature_value_bucket"]
            if s.labels["feature"] == name
        ]
        assert [float(le) for le in les[:-1]] == [float(e) for e in feature["edges"]], name
        assert les[-1] == "+Inf"
    categorical = {n for n, f in profile["features"].items() if f["kind"] == "categorical"}
    seen = {s.labels["feature"] for s in samples["modelops_feature_category_total"]}
    assert categorical <= seen
    prediction_les = [float(s.labels["le"]) for s in samples["modelops_prediction_bucket"]]
    assert prediction_les[:-1] == [float(e) for e in profile["prediction"]["edges"]]
    assert (
        sum(s.value for s in samples["modelops_prediction_count"]) >= 1
    )  # the good request was counted


def test_a_malformed_coalesce_setting_refuses_to_start(churn_model) -> None:
    env = service_env(churn_model, MODELOPS_COALESCE="sometimes")
    with (
        pytest.raises(Exception, match="MODELOPS_COALESCE='sometimes'"),
        asgi_client(env, wait_ready=False),
    ):
        pass
