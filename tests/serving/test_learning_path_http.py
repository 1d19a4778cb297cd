"""The learning-path service as a real `bentoml serve` process over HTTP.

Besides answering and refusing like the in-process app, it checks the privacy
rule end to end: a student id sent in good and bad requests appears neither
in /metrics nor anywhere in the server's log.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from modelops_bentos.learning_path.examples import SAMPLE_ACTIVITY, SAMPLE_REQUEST
from modelops_features import learning_path as lp

from .conftest import LEARNING_PATH, TrainedModel, bentoml_server

STUDENT_ID = "stu-9c1e77-private"


@pytest.fixture(scope="module")
def server(lp_model: TrainedModel, tmp_path_factory: pytest.TempPathFactory):
    with bentoml_server(
        lp_model, tmp_path_factory.mktemp("lp-logs"), target=LEARNING_PATH
    ) as running:
        yield running


def call(url: str, body: object) -> tuple[int, dict]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{url}/recommend", data=data, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_recommend_over_http(server, lp_model) -> None:
    status, body = call(server.url, SAMPLE_REQUEST)
    assert status == 200, body
    assert body["version"] == lp_model.version and body["model"] == "learning-path"
    assert len(body["recommendations"]) == 3
    assert {r["module"] for r in body["recommendations"]} <= set(lp.MODULES)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"activity": {**SAMPLE_ACTIVITY, "confidence": 7}}, 422, "activity.confidence"),
        ({**SAMPLE_REQUEST, "candidates": ["cooking"]}, 422, "candidates.0"),
        ({**SAMPLE_REQUEST, "extra": True}, 422, "extra"),
        (b"{not json", 400, "body"),
    ],
)
def test_bad_input_over_http_is_a_4xx_naming_the_field(server, body, status, field) -> None:
    got, payload = call(server.url, body)
    assert got == status, payload
    assert field in payload["error"]


def test_student_id_never_reaches_metrics_or_logs(server) -> None:
    requests = [
        {**SAMPLE_REQUEST, "student_id": STUDENT_ID},
        {**SAMPLE_REQUEST, "student_id": STUDENT_ID, "k": 0},
        {"student_id": STUDENT_ID, "activity": {**SAMPLE_ACTIVITY, "last_subject": "history"}},
        {"student_id": STUDENT_ID},
        {**SAMPLE_REQUEST, "student_id": STUDENT_ID * 20},  # too long: the id is the bad field
    ]
    statuses = [call(server.url, body)[0] for body in requests]
    assert statuses == [200, 422, 422, 422, 422]
    with urllib.request.urlopen(f"{server.url}/metrics", timeout=10) as resp:
        metrics = resp.read().decode()
    assert "modelops_recommendations_total" in metrics
    assert STUDENT_ID not in metrics
    log = server.log.read_text(errors="replace")
    assert "rejected invalid input" in log, log[-3000:]  # the failures were logged ...
    assert STUDENT_ID not in log  # ... by field, never with the id
