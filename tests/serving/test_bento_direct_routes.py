"""Every direct route answers exactly what BentoML's route answers, for both services.

churn's `/predict` and learning-path's `/recommend` are answered past BentoML's
router by default (common/direct.py: a third of a one-record request's CPU was
BentoML's per-request machinery). These tests run two apps of a service side
by side, one with MODELOPS_DIRECT_ROUTES=false, and post the same good and bad
bodies to both: status, body and the version header must be the same, so
switching the route changes cost, never behaviour. One `Route` per service
names its bodies; every test runs for each.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from modelops_bentos.churn.examples import SAMPLE_RECORD
from modelops_bentos.learning_path.examples import SAMPLE_ACTIVITY, SAMPLE_REQUEST
from modelops_bentos.learning_path.service import MAX_BODY_BYTES as LP_MAX_BODY_BYTES

from . import test_churn_asgi, test_learning_path_asgi
from .conftest import CHURN, LEARNING_PATH, asgi_client, service_env
from .test_churn_asgi import post

CHUNK = 4096


@dataclass(frozen=True)
class Route:
    """One service's direct route and the bodies that exercise it."""

    target: str
    model_fixture: str
    path: str
    good: list[tuple[str, Any]]  # (id, body): answered 200
    bad: list[tuple[str, Any, int]]  # (id, body, status)
    rejected: Any  # a bad body ...
    field: str  # ... whose failing field the logs name ...
    secrets: tuple[str, ...]  # ... and whose values they never carry
    over_limit: tuple[dict[str, str], int]  # (env, chunks of CHUNK bytes) past the body limit

    @property
    def endpoint(self) -> str:
        return self.path.strip("/")


R = SAMPLE_RECORD
A = SAMPLE_ACTIVITY
ROUTES = {
    "churn": Route(
        target=CHURN,
        model_fixture="churn_model",
        path="/predict",
        good=[
            ("one record", {"records": [R]}),
            ("no customer_id", {"records": [{k: v for k, v in R.items() if k != "customer_id"}]}),
            ("null spend", {"records": [{**R, "total_spend": None}]}),
            ("many records", {"records": [{**R, "customer_id": f"c{i}", "orders": i} for i in range(40)]}),
            ("empty list", {"records": []}),
            ("unicode id", {"records": [{**R, "customer_id": "kunde-\u00e4\u00f6\u00fc-\u4e2d"}]}),
        ],
        bad=[b[:3] for b in test_churn_asgi.BAD_INPUTS],
        rejected={"records": [{**R, "plan": "gold"}]},
        field="records.0.plan",
        secrets=("gold",),
        over_limit=({"MODELOPS_MAX_RECORDS": "1"}, 100),
    ),
    "learning-path": Route(
        target=LEARNING_PATH,
        model_fixture="lp_model",
        path="/recommend",
        good=[
            ("sample", SAMPLE_REQUEST),
            ("activity only", {"activity": A}),
            ("all modules", {**SAMPLE_REQUEST, "k": 8}),
            ("candidates", {**SAMPLE_REQUEST, "k": 5, "candidates": ["science-foundations", "language-advanced"]}),
            ("nulls", {"activity": {**A, "quiz_avg_math": None, "quiz_avg_science": None}}),
            ("unicode id", {**SAMPLE_REQUEST, "student_id": "sch\u00fcler-\u4e2d"}),
        ],
        bad=[b[:3] for b in test_learning_path_asgi.BAD_INPUTS],
        rejected={"student_id": "stu-secret-42", "activity": {**A, "last_subject": "history"}},
        field="activity.last_subject",
        secrets=("history", "stu-secret-42"),
        over_limit=({}, LP_MAX_BODY_BYTES // CHUNK + 2),
    ),
}  # fmt: skip


def cases(kind: str) -> list[Any]:
    """(service, *case) for every case of every route, with readable ids."""
    return [
        pytest.param(name, *case[1:], id=f"{name}-{case[0]}")
        for name, route in ROUTES.items()
        for case in getattr(route, kind)
    ]


EACH_ROUTE = pytest.mark.parametrize("route", list(ROUTES), indirect=True)


@pytest.fixture(scope="module")
def route(request) -> Route:
    return ROUTES[request.param]


def direct_env(route: Route, request, **extra: str) -> dict[str, str]:
    # Explicit, because an app opened while another test's routed app is still
    # open would otherwise inherit its MODELOPS_DIRECT_ROUTES=false.
    model = request.getfixturevalue(route.model_fixture)
    return service_env(model, MODELOPS_DIRECT_ROUTES="true", **extra)


def routed(env: dict[str, str]) -> dict[str, str]:
    return {**env, "MODELOPS_DIRECT_ROUTES": "false"}


@pytest.fixture(scope="module")
def pair(route, request):
    """(direct, through BentoML's route): two apps of the service on the same model."""
    env = direct_env(route, request)
    with (
        asgi_client(env, target=route.target) as direct,
        asgi_client(routed(env), target=route.target) as through_bentoml,
    ):
        yield direct, through_bentoml


def same_answer(direct_resp, routed_resp) -> None:
    assert direct_resp.status_code == routed_resp.status_code, (direct_resp.text, routed_resp.text)
    assert direct_resp.json() == routed_resp.json()
    for header in ("content-type", "x-modelops-model-version", "retry-after"):
        assert direct_resp.headers.get(header) == routed_resp.headers.get(header), header


@pytest.mark.parametrize(("route", "body"), cases("good"), indirect=["route"])
def test_good_bodies_get_the_same_answer(route, pair, body) -> None:
    direct, through_bentoml = pair
    d, r = post(direct, route.path, body), post(through_bentoml, route.path, body)
    assert d.status_code == 200, d.text
    same_answer(d, r)
    assert d.content == r.content  # byte for byte: the same model_dump_json


@pytest.mark.parametrize(("route", "body", "status"), cases("bad"), indirect=["route"])
def test_bad_bodies_get_the_same_error(route, pair, body, status) -> None:
    direct, through_bentoml = pair
    d, r = post(direct, route.path, body), post(through_bentoml, route.path, body)
    assert d.status_code == status, d.text
    same_answer(d, r)


@EACH_ROUTE
def test_the_switch_really_selects_the_route(route, pair, caplog) -> None:
    """The direct route logs a rejected body itself; BentoML's route logs through BentoML."""
    direct, through_bentoml = pair
    with caplog.at_level(logging.INFO):
        post(direct, route.path, route.rejected)
        post(through_bentoml, route.path, route.rejected)
    by_logger = {
        r.name: r.getMessage() for r in caplog.records if "rejected invalid" in r.getMessage()
    }
    assert route.field in by_logger["bentoml.modelops.direct"]
    assert route.field in by_logger["bentoml._internal.server.http_app"]
    for secret in route.secrets:  # field names, never values
        assert secret not in json.dumps(by_logger), secret


def request_count(app, endpoint: str, status: str) -> float:
    text = app.get("/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if (
                sample.name == "modelops_requests_total"
                and labels.get("endpoint") == endpoint
                and labels.get("status") == status
            ):
                return sample.value
    return 0.0


@EACH_ROUTE
def test_both_routes_count_requests_in_the_metrics(route, pair) -> None:
    good = route.good[0][1]
    for app in pair:
        ok, bad = (request_count(app, route.endpoint, s) for s in ("200", "422"))
        post(app, route.path, good)
        post(app, route.path, good)
        post(app, route.path, route.rejected)
        assert request_count(app, route.endpoint, "200") == ok + 2
        assert request_count(app, route.endpoint, "422") == bad + 1


@EACH_ROUTE
def test_not_ready_is_the_same_503(route, request) -> None:
    env = direct_env(route, request, MODELOPS_MODEL_VERSION="999")
    with (
        asgi_client(env, wait_ready=False, target=route.target) as direct,
        asgi_client(routed(env), wait_ready=False, target=route.target) as through_bentoml,
    ):
        good = route.good[0][1]
        d, r = post(direct, route.path, good), post(through_bentoml, route.path, good)
        assert d.status_code == r.status_code == 503, d.text
        assert d.headers["retry-after"] == r.headers["retry-after"] == "5"
        # The loaders retry on their own clocks: only the attempt count may differ.
        attempts = re.compile(r"after \d+ attempt")
        assert attempts.sub("", d.json()["error"]) == attempts.sub("", r.json()["error"])
        assert "has no version 999" in d.json()["error"]


@EACH_ROUTE
def test_a_chunked_body_over_the_limit_is_413(route, request) -> None:
    """No Content-Length to refuse early: the direct route counts while reading."""
    extra, count = route.over_limit
    with asgi_client(direct_env(route, request, **extra), target=route.target) as direct:

        def chunks():
            yield b'{"records": ['
            for _ in range(count):
                yield b" " * CHUNK
            yield b"]}"

        resp = direct.post(
            route.path, content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert resp.status_code == 413, resp.text
        assert "exceeds the limit" in resp.json()["error"]


def test_injected_faults_are_the_same_500(request) -> None:
    """Fault injection (canary demos) is churn's /predict only."""
    route = ROUTES["churn"]
    env = direct_env(route, request, MODELOPS_FAULT_ERROR_RATE="1")
    with (
        asgi_client(env, target=route.target) as direct,
        asgi_client(routed(env), target=route.target) as through_bentoml,
    ):
        d = post(direct, route.path, {"records": [SAMPLE_RECORD]})
        r = post(through_bentoml, route.path, {"records": [SAMPLE_RECORD]})
        assert d.status_code == 500
        same_answer(d, r)
