"""The learning-path service in process (ASGI): recommendations, parity with the
training path, field-level 4xx, metrics from the reference profile, readiness.

No input may produce a 5xx; every bad input gets a 4xx naming the field.
"""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from modelops_bentos.learning_path.examples import SAMPLE_ACTIVITY, SAMPLE_REQUEST
from modelops_features import learning_path as lp
from modelops_features.softmax import SoftmaxLinear
from modelops_features.synthetic_students import students
from modelops_registry import Registry

from . import conftest
from .conftest import LEARNING_PATH, TrainedModel, service_env

STUDENT_ID = "stu-7f3a9c-private"


def asgi_client(env: dict[str, str], wait_ready: bool = True):
    return conftest.asgi_client(env, wait_ready, target=LEARNING_PATH)


@pytest.fixture(scope="module")
def client(lp_model: TrainedModel):
    with asgi_client(service_env(lp_model)) as c:
        yield c


def post(client, body, **kwargs):
    if isinstance(body, bytes):
        headers = kwargs.pop("headers", {"Content-Type": "application/json"})
        return client.post("/recommend", content=body, headers=headers, **kwargs)
    return client.post("/recommend", json=body, **kwargs)


def test_recommend_returns_top_k_with_scores_and_version(client, lp_model) -> None:
    resp = post(client, SAMPLE_REQUEST)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["model"], body["version"]) == ("learning-path", lp_model.version)
    assert resp.headers["x-modelops-model-version"] == lp_model.version
    assert body["student_id"] == SAMPLE_REQUEST["student_id"]
    recs = body["recommendations"]
    assert [r["rank"] for r in recs] == [1, 2, 3]
    assert len({r["module"] for r in recs}) == 3 and {r["module"] for r in recs} <= set(lp.MODULES)
    scores = [r["score"] for r in recs]
    assert scores == sorted(scores, reverse=True) and 0 < sum(scores) < 1


def test_candidates_restrict_and_renormalise(client) -> None:
    candidates = ["science-foundations", "language-advanced"]
    body = post(client, {**SAMPLE_REQUEST, "k": 5, "candidates": candidates}).json()
    recs = body["recommendations"]
    assert sorted(r["module"] for r in recs) == sorted(candidates)
    assert math.isclose(sum(r["score"] for r in recs), 1.0, rel_tol=1e-12)
    everything = post(client, {**SAMPLE_REQUEST, "k": len(lp.MODULES)}).json()["recommendations"]
    assert math.isclose(sum(r["score"] for r in everything), 1.0, rel_tol=1e-12)
    # Renormalising keeps the relative order of the full ranking.
    full_order = [r["module"] for r in everything if r["module"] in candidates]
    assert [r["module"] for r in recs] == full_order


def test_student_id_is_optional_and_changes_nothing(client) -> None:
    with_id = post(client, {**SAMPLE_REQUEST, "student_id": STUDENT_ID}).json()
    without = post(client, {"activity": SAMPLE_ACTIVITY}).json()
    assert without["student_id"] is None
    assert with_id["recommendations"] == without["recommendations"]


def test_service_ranks_exactly_as_the_training_path(client, lp_model) -> None:
    """Parity: 200 students through /recommend vs the exported model on training's matrix."""
    raw = Registry.from_uri(lp_model.uri).read_artefact(
        lp_model.model, lp_model.version, "model.json"
    )
    scorer = SoftmaxLinear.from_json(raw)
    frame = students(200, seed=11)
    expected = scorer.proba(lp.model_matrix(lp.compute(frame)))
    activities = frame[lp.RAW_SCHEMA.names].astype(object).where(frame.notna(), None)
    for i, activity in enumerate(activities.to_dict(orient="records")):
        activity = {k: (int(v) if isinstance(v, np.integer) else v) for k, v in activity.items()}
        recs = post(client, {"activity": activity, "k": 8}).json()["recommendations"]
        got = {r["module"]: r["score"] for r in recs}
        want = dict(zip(lp.MODULES, expected[i].tolist(), strict=True))
        assert [r["module"] for r in recs] == sorted(lp.MODULES, key=lambda m: -want[m])
        for module, score in want.items():
            assert math.isclose(got[module], score, rel_tol=1e-9), (i, module)


A = SAMPLE_ACTIVITY
BAD_INPUTS = [
    ("quiz above 100", {"activity": {**A, "quiz_avg_math": 101}}, 422, "activity.quiz_avg_math"),
    ("negative video", {"activity": {**A, "video_minutes": -1}}, 422, "activity.video_minutes"),
    ("confidence 0", {"activity": {**A, "confidence": 0}}, 422, "activity.confidence"),
    ("fractional days", {"activity": {**A, "active_days": 2.5}}, 422, "activity.active_days"),
    # One strict contract (no coercion): JSON's own types only.
    ("bool for an int", {"activity": {**A, "active_days": True}}, 422, "activity.active_days"),
    ("numeric string", {"activity": {**A, "video_minutes": "12"}}, 422, "activity.video_minutes"),
    ("k as a string", {**SAMPLE_REQUEST, "k": "2"}, 422, "k"),
    ("k as a bool", {**SAMPLE_REQUEST, "k": True}, 422, "k"),
    ("unknown subject", {"activity": {**A, "last_subject": "history"}}, 422, "activity.last_subject"),
    ("null required", {"activity": {**A, "video_minutes": None}}, 422, "activity.video_minutes"),
    ("missing field", {"activity": {k: v for k, v in A.items() if k != "items_started"}}, 422,
     "activity.items_started"),
    ("misspelt field", {"activity": {**A, "confidense": 3}}, 422, "activity.confidense"),
    ("group is not an input", {"activity": {**A, "group": "group_a"}}, 422, "activity.group"),
    ("unknown top-level key", {**SAMPLE_REQUEST, "candidate": ["math-advanced"]}, 422, "candidate"),
    ("no activity", {"student_id": STUDENT_ID}, 422, "activity"),
    ("k zero", {**SAMPLE_REQUEST, "k": 0}, 422, "k"),
    ("k too large", {**SAMPLE_REQUEST, "k": 9}, 422, "k"),
    ("unknown candidate", {**SAMPLE_REQUEST, "candidates": ["cooking"]}, 422, "candidates.0"),
    ("empty candidates", {**SAMPLE_REQUEST, "candidates": []}, 422, "candidates"),
    ("duplicate candidates", {**SAMPLE_REQUEST, "candidates": ["math-advanced"] * 2}, 422,
     "candidates"),
    ("student_id object", {**SAMPLE_REQUEST, "student_id": {"x": 1}}, 422, "student_id"),
    ("student_id too long", {**SAMPLE_REQUEST, "student_id": "s" * 300}, 422, "student_id"),
    ("NaN literal", b'{"activity": {"video_minutes": NaN}}', 422, "activity.video_minutes"),
    ("Infinity", json.dumps({"activity": {**A, "video_minutes": float("inf")}}).encode(), 422,
     "activity.video_minutes"),
    ("list body", [SAMPLE_REQUEST], 422, "body"),
    ("invalid json", b'{"activity": {', 400, "body"),
    ("binary garbage", bytes(range(256)), 400, "body"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "status", "field"), [b[1:] for b in BAD_INPUTS], ids=[b[0] for b in BAD_INPUTS]
)
def test_bad_input_is_a_4xx_naming_the_field(client, body, status, field) -> None:
    resp = post(client, body)
    assert resp.status_code == status, resp.text
    payload = resp.json()
    assert field in payload["error"], payload
    assert payload["detail"], payload


def test_non_json_and_oversized_bodies_are_refused(client) -> None:
    resp = client.post("/recommend", content=b"a=b", headers={"Content-Type": "text/plain"})
    assert resp.status_code == 415
    from modelops_bentos.learning_path.service import MAX_BODY_BYTES

    resp = post(client, b"{" + b" " * MAX_BODY_BYTES + b"}")
    assert resp.status_code == 413 and "exceeds the limit" in resp.json()["error"]
    assert client.get("/recommend").status_code == 405


def metric_samples(client) -> tuple[str, dict]:
    text = client.get("/metrics").text
    out: dict = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append(sample)
    return text, out


def test_metrics_use_profile_edges_and_never_carry_the_student_id(client, lp_model) -> None:
    profile = Registry.from_uri(lp_model.uri).metadata(lp_model.model, lp_model.version)["profile"]
    post(client, {**SAMPLE_REQUEST, "student_id": STUDENT_ID})
    post(client, {**SAMPLE_REQUEST, "student_id": STUDENT_ID, "k": 0})  # a 422
    text, samples = metric_samples(client)
    assert STUDENT_ID not in text and "student" not in text
    statuses = {
        s.labels["status"]
        for s in samples["modelops_requests_total"]
        if s.labels["endpoint"] == "recommend" and s.labels["model"] == "learning-path"
    }
    assert {"200", "422"} <= statuses
    for name, feature in profile["features"].items():
        if feature["kind"] != "numeric":
            continue
        les = [
            s.labels["le"]
            for s in samples["modelops_feature_value_bucket"]
            if s.labels["feature"] == name
        ]
        assert [float(le) for le in les[:-1]] == [float(e) for e in feature["edges"]], name
    subjects = {
        s.labels["value"]: s.value
        for s in samples["modelops_feature_category_total"]
        if s.labels["feature"] == "last_subject"
    }
    assert subjects["math"] >= 1
    recommended = {s.labels["module"]: s.value for s in samples["modelops_recommendations_total"]}
    assert set(recommended) == set(lp.MODULES) and sum(recommended.values()) >= 1
    prediction_les = [float(s.labels["le"]) for s in samples["modelops_prediction_bucket"]]
    assert prediction_les[:-1] == [float(e) for e in profile["prediction"]["edges"]]


def test_not_ready_without_the_model_then_ready_once_published(lp_model, tmp_path) -> None:
    import shutil

    empty = tmp_path / "registry"
    empty.mkdir()
    pending = TrainedModel(uri=f"file://{empty}", root=empty, model=lp_model.model, version="1")
    with asgi_client(service_env(pending), wait_ready=False) as client:
        assert client.get("/readyz").status_code == 503
        resp = post(client, SAMPLE_REQUEST)
        assert resp.status_code == 503 and "model not loaded" in resp.json()["error"]
        shutil.copytree(
            lp_model.root / lp_model.model / lp_model.version, empty / lp_model.model / "1"
        )
        deadline = time.monotonic() + 20
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "not ready after the version was published"
            time.sleep(0.05)
        assert post(client, SAMPLE_REQUEST).status_code == 200


def test_tampered_parameters_are_never_served(lp_model, tmp_path) -> None:
    import shutil

    root = tmp_path / "registry"
    shutil.copytree(lp_model.root, root)
    path = root / lp_model.model / lp_model.version / "model.json"
    params = json.loads(path.read_text())
    params["intercept"][0] += 10.0  # a valid file, but not the one that was published
    path.write_text(json.dumps(params))
    tampered = TrainedModel(
        uri=f"file://{root}", root=root, model=lp_model.model, version=lp_model.version
    )
    with asgi_client(service_env(tampered), wait_ready=False) as client:
        deadline = time.monotonic() + 20
        while "Checksum" not in post(client, SAMPLE_REQUEST).json().get("error", ""):
            assert time.monotonic() < deadline, "the checksum failure was not reported"
            time.sleep(0.05)
        assert client.get("/readyz").status_code == 503


def test_batch_endpoint_answers_like_the_single_one(client, lp_model) -> None:
    frame = students(60, seed=12)
    activities = frame[lp.RAW_SCHEMA.names].astype(object).where(frame.notna(), None)
    queries = [
        {"student_id": f"s{i}", "activity": a, "k": 1 + i % 8}
        for i, a in enumerate(activities.to_dict(orient="records"))
    ]
    queries[5]["candidates"] = ["math-advanced", "language-foundations", "science-advanced"]
    resp = client.post("/recommend_batch", json={"students": queries})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["version"] == lp_model.version
    assert [r["student_id"] for r in body["results"]] == [q["student_id"] for q in queries]
    for query, result in zip(queries, body["results"], strict=True):
        single = post(client, query).json()["recommendations"]
        batch = result["recommendations"]
        # Same modules in the same order; scores equal up to the matrix product's
        # summation order (one row vs many).
        assert [r["module"] for r in batch] == [r["module"] for r in single]
        for a, b in zip(batch, single, strict=True):
            assert math.isclose(a["score"], b["score"], rel_tol=1e-12)
    assert len(body["results"][5]["recommendations"]) == 3


def test_batch_limits_and_field_paths(client) -> None:
    assert client.post("/recommend_batch", json={"students": []}).json()["results"] == []
    resp = client.post("/recommend_batch", json={"students": [SAMPLE_REQUEST] * 1001})
    assert resp.status_code == 413 and "at most 1000 students" in resp.json()["error"]
    bad = {"students": [SAMPLE_REQUEST, {**SAMPLE_REQUEST, "activity": {**A, "confidence": 6}}]}
    resp = client.post("/recommend_batch", json=bad)
    assert resp.status_code == 422 and "students.1.activity.confidence" in resp.json()["error"]
    resp = client.post("/recommend_batch", json={"student": []})
    assert resp.status_code == 422 and "student" in resp.json()["error"]
