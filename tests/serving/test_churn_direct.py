"""The direct /predict route answers exactly what BentoML's route answers.

`/predict` is answered past BentoML's router by default (direct.py: a third of
a one-record request's CPU was BentoML's per-request machinery). These tests
run two apps side by side, one with MODELOPS_DIRECT_ROUTES=false, and post the
same good and bad bodies to both: status, body and the version header must be
the same, so switching the route changes cost, never behaviour.
"""

from __future__ import annotations

import json
import logging
import re

import pytest
from prometheus_client.parser import text_string_to_metric_families

from modelops_bentos.churn.examples import SAMPLE_RECORD

from .conftest import asgi_client, service_env
from .test_churn_asgi import BAD_INPUTS, post

GOOD = SAMPLE_RECORD
GOOD_BODIES = [
    ("one record", {"records": [GOOD]}),
    ("no customer_id", {"records": [{k: v for k, v in GOOD.items() if k != "customer_id"}]}),
    ("null spend", {"records": [{**GOOD, "total_spend": None}]}),
    ("many records", {"records": [{**GOOD, "customer_id": f"c{i}", "orders": i} for i in range(40)]}),
    ("empty list", {"records": []}),
    ("unicode id", {"records": [{**GOOD, "customer_id": "kunde-\u00e4\u00f6\u00fc-\u4e2d"}]}),
]  # fmt: skip


def direct_env(churn_model, **extra):
    # Explicit, because an app opened while another test's routed app is still
    # open would otherwise inherit its MODELOPS_DIRECT_ROUTES=false.
    return service_env(churn_model, MODELOPS_DIRECT_ROUTES="true", **extra)


@pytest.fixture(scope="module")
def pair(churn_model):
    """(direct, through BentoML's route): two apps on the same model."""
    routed_env = service_env(churn_model, MODELOPS_DIRECT_ROUTES="false")
    with asgi_client(direct_env(churn_model)) as direct, asgi_client(routed_env) as routed:
        yield direct, routed


def same_answer(direct_resp, routed_resp) -> None:
    assert direct_resp.status_code == routed_resp.status_code, (direct_resp.text, routed_resp.text)
    assert direct_resp.json() == routed_resp.json()
    for header in ("content-type", "x-modelops-model-version", "retry-after"):
        assert direct_resp.headers.get(header) == routed_resp.headers.get(header), header


@pytest.mark.parametrize("body", [b[1] for b in GOOD_BODIES], ids=[b[0] for b in GOOD_BODIES])
def test_good_bodies_get_the_same_answer(pair, body) -> None:
    direct, routed = pair
    d, r = post(direct, "/predict", body), post(routed, "/predict", body)
    assert d.status_code == 200, d.text
    same_answer(d, r)
    assert d.content == r.content  # byte for byte: the same model_dump_json


@pytest.mark.parametrize(
    ("body", "status"), [b[1:3] for b in BAD_INPUTS], ids=[b[0] for b in BAD_INPUTS]
)
def test_bad_bodies_get_the_same_error(pair, body, status) -> None:
    direct, routed = pair
    d, r = post(direct, "/predict", body), post(routed, "/predict", body)
    assert d.status_code == status, d.text
    same_answer(d, r)


def test_the_switch_really_selects_the_route(pair, caplog) -> None:
    """The direct route logs a rejected body itself; BentoML's route logs through BentoML."""
    direct, routed = pair
    bad = {"records": [{**GOOD, "plan": "gold"}]}
    with caplog.at_level(logging.INFO):
        post(direct, "/predict", bad)
        post(routed, "/predict", bad)
    by_logger = {
        r.name: r.getMessage() for r in caplog.records if "rejected invalid" in r.getMessage()
    }
    assert "records.0.plan" in by_logger["modelops_bentos.churn.direct"]
    assert "records.0.plan" in by_logger["bentoml._internal.server.http_app"]
    assert "gold" not in json.dumps(by_logger)  # field names, never values


def predict_count(app, status: str) -> float:
    text = app.get("/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if (
                sample.name == "modelops_requests_total"
                and labels.get("endpoint") == "predict"
                and labels.get("status") == status
            ):
                return sample.value
    return 0.0


def test_both_routes_count_requests_in_the_metrics(pair) -> None:
    for app in pair:
        ok, bad = predict_count(app, "200"), predict_count(app, "422")
        post(app, "/predict", {"records": [GOOD]})
        post(app, "/predict", {"records": [GOOD, GOOD]})
        post(app, "/predict", {"records": [{**GOOD, "plan": "gold"}]})
        assert predict_count(app, "200") == ok + 2
        assert predict_count(app, "422") == bad + 1


def test_not_ready_is_the_same_503(churn_model) -> None:
    env = direct_env(churn_model, version="999")
    routed_env = {**env, "MODELOPS_DIRECT_ROUTES": "false"}
    with (
        asgi_client(env, wait_ready=False) as direct,
        asgi_client(routed_env, wait_ready=False) as routed,
    ):
        d = post(direct, "/predict", {"records": [GOOD]})
        r = post(routed, "/predict", {"records": [GOOD]})
        assert d.status_code == r.status_code == 503, d.text
        assert d.headers["retry-after"] == r.headers["retry-after"] == "5"
        # The loaders retry on their own clocks: only the attempt count may differ.
        attempts = re.compile(r"after \d+ attempt")
        assert attempts.sub("", d.json()["error"]) == attempts.sub("", r.json()["error"])
        assert "has no version 999" in d.json()["error"]


def test_injected_faults_are_the_same_500(churn_model) -> None:
    env = direct_env(churn_model, MODELOPS_FAULT_ERROR_RATE="1")
    routed_env = {**env, "MODELOPS_DIRECT_ROUTES": "false"}
    with asgi_client(env) as direct, asgi_client(routed_env) as routed:
        d = post(direct, "/predict", {"records": [GOOD]})
        r = post(routed, "/predict", {"records": [GOOD]})
        assert d.status_code == 500
        same_answer(d, r)


def test_a_chunked_body_over_the_limit_is_413(churn_model) -> None:
    """No Content-Length to refuse early: the direct route counts while reading."""
    env = direct_env(churn_model, MODELOPS_MAX_RECORDS="1")
    with asgi_client(env) as direct:

        def chunks():
            yield b'{"records": ['
            for _ in range(100):
                yield b" " * 4096
            yield b"]}"

        resp = direct.post(
            "/predict", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert resp.status_code == 413, resp.text
        assert "exceeds the limit" in resp.json()["error"]
