"""Both services in process: request ids, the inference log they write, privacy, /feedback.

Each app writes into its own copy of the test registry (MODELOPS_LOG_URI), and
the files are read back with modelops_features (and pyarrow for one check),
so what is asserted is what reaches storage.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from modelops_features import groundtruth
from modelops_features import inference_log as il
from modelops_registry.datalog import DataLog
from tests.serving.conftest import LEARNING_PATH, TrainedModel, asgi_client, service_env

RECORD = {"tenure_months": 3, "monthly_spend": 50.0, "total_spend": 150.0, "orders": 4,
          "support_tickets": None, "plan": "basic", "region": "north", "customer_id": "cust-secret-1"}  # fmt: skip
ACTIVITY = {"quiz_avg_math": 82.5, "quiz_avg_science": 61.0, "quiz_avg_programming": None,
            "quiz_avg_language": 70.0, "video_minutes": 340.0, "active_days": 12,
            "items_started": 40, "items_skipped": 6, "prerequisites_completed": 4,
            "confidence": 4, "days_since_last_activity": 2.0, "last_subject": "math"}  # fmt: skip
STUDENT = "stu-secret-0001"


def log_env(model: TrainedModel, store: Path, **extra: str) -> dict[str, str]:
    settings = {
        "MODELOPS_LOG_URI": f"file://{store}",
        "MODELOPS_LOG_SAMPLE": "1",
        "MODELOPS_LOG_FLUSH_SECONDS": "0.05",
        "MODELOPS_LOG_HASH_KEY": "serving-test-key",
    }
    return service_env(model, **{**settings, **extra})


def wait_rows(store: Path, model: str, stream: str, rows: int) -> groundtruth.Frame:
    deadline = time.monotonic() + 30
    while True:
        frame = groundtruth.read_stream(DataLog(f"file://{store}"), model, stream, None, None)
        if frame.rows >= rows:
            return frame
        assert time.monotonic() < deadline, f"{frame.rows} of {rows} {stream} rows written"
        time.sleep(0.05)


def all_bytes(store: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(store.rglob("*.parquet")))


def test_request_ids_are_echoed_or_made_up(churn_model: TrainedModel, tmp_path: Path) -> None:
    with asgi_client(log_env(churn_model, tmp_path)) as client:
        given = client.post(
            "/predict", json={"records": [RECORD]}, headers={"X-Request-Id": "order-77:a"}
        )
        assert given.status_code == 200 and given.headers["x-request-id"] == "order-77:a"
        made = client.post("/predict", json={"records": [RECORD]})
        assert len(made.headers["x-request-id"]) == 32
        # A header that is not a plain token is replaced, not echoed.
        bad = client.post(
            "/predict", json={"records": [RECORD]}, headers={"X-Request-Id": "a b\tc"}
        )
        assert bad.headers["x-request-id"] != "a b\tc"
        # Errors carry one too (refused before any route runs, and by validation).
        refused = client.post("/predict", content=b"x", headers={"Content-Type": "text/plain"})
        assert refused.status_code == 415 and refused.headers["x-request-id"]
        invalid = client.post("/predict", json={"records": [{}]}, headers={"X-Request-Id": "r-422"})
        assert invalid.status_code == 422 and invalid.headers["x-request-id"] == "r-422"
        batch = client.post(
            "/predict_batch", json={"records": [RECORD]}, headers={"X-Request-Id": "b-1"}
        )
        assert batch.headers["x-request-id"] == "b-1"


def test_churn_logs_what_it_saw_and_answered(churn_model: TrainedModel, tmp_path: Path) -> None:
    with asgi_client(log_env(churn_model, tmp_path)) as client:
        one = client.post("/predict", json={"records": [RECORD]}, headers={"X-Request-Id": "one"})
        two = client.post(
            "/predict",
            json={"records": [RECORD, {**RECORD, "customer_id": None, "plan": "premium"}]},
            headers={"X-Request-Id": "two"},
        )
        client.post("/predict_batch", json={"records": [RECORD]}, headers={"X-Request-Id": "three"})
        client.post("/features", json={"records": [RECORD]})  # a debugging tool: not logged
        log = wait_rows(tmp_path, "churn", il.LOG_STREAM, 4)
    assert log.kind == "churn"
    data = log.data
    assert data["request_id"].tolist() == ["one", "two", "two", None]  # batches merge callers
    assert data["record"].tolist() == [0, 0, 1, 0]
    assert data["endpoint"].tolist() == ["predict", "predict", "predict", "predict_batch"]
    assert set(data["version"].tolist()) == {churn_model.version}
    assert data["prediction"][0] == pytest.approx(one.json()["predictions"][0]["churn_probability"])
    assert data["prediction"][2] == pytest.approx(two.json()["predictions"][1]["churn_probability"])
    assert data["raw_plan"].tolist() == ["basic", "basic", "premium", "basic"]
    assert data["feature_tenure_bucket"].tolist()[0] == "0-6"
    expected = il.IdentifierPolicy("hash", b"serving-test-key").apply("cust-secret-1")
    assert data["entity_id"].tolist() == [expected, expected, None, expected]
    assert b"cust-secret-1" not in all_bytes(tmp_path)
    # The files are standard Parquet.
    import pyarrow.parquet as pq

    table = pq.read_table(next(tmp_path.rglob("*.parquet")))
    assert "raw_tenure_months" in table.column_names


def test_omitted_identifiers_and_sampling_off(churn_model: TrainedModel, tmp_path: Path) -> None:
    omit = tmp_path / "omit"
    with asgi_client(log_env(churn_model, omit, MODELOPS_LOG_IDENTIFIERS="omit")) as client:
        client.post("/predict", json={"records": [RECORD]})
        log = wait_rows(omit, "churn", il.LOG_STREAM, 1)
        assert log.data["entity_id"].tolist() == [None]
        refused = client.post("/feedback", json={"outcomes": [{"entity_id": "c-1", "outcome": 1}]})
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["loc"] == ["outcomes", 0, "entity_id"]
    off = tmp_path / "off"
    with asgi_client(log_env(churn_model, off, MODELOPS_LOG_SAMPLE="0")) as client:
        for _ in range(20):
            assert client.post("/predict", json={"records": [RECORD]}).status_code == 200
    assert not list(off.rglob("*.parquet"))


def test_a_full_queue_drops_counts_and_still_answers(
    churn_model: TrainedModel, tmp_path: Path
) -> None:
    env = log_env(churn_model, tmp_path, MODELOPS_LOG_QUEUE_RECORDS="1")
    with asgi_client(env) as client:
        many = {"records": [RECORD] * 5}  # 5 records never fit a 1-record queue
        for _ in range(3):
            assert client.post("/predict", json=many).status_code == 200
        metrics = client.get("/metrics").text
    line = 'modelops_logged_records_total{model="churn",outcome="dropped_queue_full",stream="inference-log"} 15.0'
    assert line in metrics


def test_feedback_is_validated_and_stored(churn_model: TrainedModel, tmp_path: Path) -> None:
    with asgi_client(log_env(churn_model, tmp_path)) as client:
        client.post("/predict", json={"records": [RECORD]}, headers={"X-Request-Id": "p-1"})
        ok = client.post(
            "/feedback",
            json={"outcomes": [
                {"request_id": "p-1", "outcome": 1, "observed_at": "2026-12-01T10:00:00Z"},
                {"entity_id": "cust-secret-1", "outcome": 0},
            ]},
        )  # fmt: skip
        assert ok.status_code == 200, ok.text
        assert ok.json() == {"model": "churn", "accepted": 2}
        assert ok.headers["x-request-id"]
        feedback = wait_rows(tmp_path, "churn", il.FEEDBACK_STREAM, 2)
        log = wait_rows(tmp_path, "churn", il.LOG_STREAM, 1)
        metrics = client.get("/metrics").text
    assert feedback.data["outcome"].tolist() == [1, 0]
    assert feedback.data["source"].tolist() == ["api", "api"]
    assert feedback.data["observed_at"][0] == groundtruth.to_us(
        groundtruth.from_us(0).replace(year=2026, month=12, day=1, hour=10)
    )
    assert b"cust-secret-1" not in all_bytes(tmp_path)
    assert groundtruth.join(log, feedback).outcomes.tolist() == [1]  # request id wins
    # Feedback is not prediction traffic: the canary analysis never counts it.
    assert 'endpoint="feedback"' not in metrics
    assert 'modelops_feedback_requests_total{model="churn"' in metrics


@pytest.mark.parametrize(
    ("body", "status", "where"),
    [
        ({"outcomes": [{"outcome": 1}]}, 422, ["outcomes", 0]),
        ({"outcomes": [{"request_id": "r", "entity_id": "e", "outcome": 1}]}, 422, ["outcomes", 0]),
        ({"outcomes": [{"request_id": "r", "outcome": 2}]}, 422, ["outcomes", 0, "outcome"]),
        ({"outcomes": [{"request_id": "r", "outcome": True}]}, 422, ["outcomes", 0, "outcome"]),
        ({"outcomes": [{"request_id": "r", "outcome": "1"}]}, 422, ["outcomes", 0, "outcome"]),
        ({"outcomes": [{"request_id": "r x", "outcome": 1}]}, 422, ["outcomes", 0, "request_id"]),
        ({"outcomes": [{"request_id": "r", "outcome": 1, "observed_at": "2026-12-01"}]}, 422,
         ["outcomes", 0, "observed_at"]),
        ({"outcomes": [{"request_id": "r", "outcome": 1, "observed_at": "2999-01-01T00:00:00Z"}]},
         422, ["outcomes", 0]),
        ({"outcomes": [{"entity_id": "e", "record": 1, "outcome": 1}]}, 422, ["outcomes", 0]),
        ({"outcomes": [{"request_id": "r", "outcome": 1, "colour": "red"}]}, 422,
         ["outcomes", 0, "colour"]),
        ({"outcomes": []}, 422, ["outcomes"]),
        ({"labels": []}, 422, ["outcomes"]),
        ({"outcomes": [{"request_id": "r", "outcome": 1}] * 1001}, 413, ["outcomes"]),
    ],
)  # fmt: skip
def test_bad_feedback_names_the_field(churn_client_with_log: Any, body, status, where) -> None:
    resp = churn_client_with_log.post("/feedback", json=body)
    assert resp.status_code == status, resp.text
    locs = [d.get("loc") for d in resp.json()["detail"]]
    assert any(loc[: len(where)] == where for loc in locs), locs


@pytest.fixture(scope="module")
def churn_client_with_log(churn_model: TrainedModel, tmp_path_factory: pytest.TempPathFactory):
    with asgi_client(log_env(churn_model, tmp_path_factory.mktemp("fb"))) as client:
        yield client


def test_learning_path_never_logs_the_student_id(lp_model: TrainedModel, tmp_path: Path) -> None:
    env = log_env(lp_model, tmp_path)
    with asgi_client(env, target=LEARNING_PATH) as client:
        one = client.post("/recommend", json={"student_id": STUDENT, "activity": ACTIVITY},
                          headers={"X-Request-Id": "lp-1"})  # fmt: skip
        assert one.status_code == 200 and one.headers["x-request-id"] == "lp-1"
        batch = client.post(
            "/recommend_batch",
            json={"students": [{"student_id": STUDENT, "activity": ACTIVITY, "candidates": ["science-advanced", "language-advanced"]}]},
            headers={"X-Request-Id": "lp-2"},
        )  # fmt: skip
        assert batch.status_code == 200
        log = wait_rows(tmp_path, "learning-path", il.LOG_STREAM, 2)
        ok = client.post(
            "/feedback", json={"outcomes": [{"request_id": "lp-1", "outcome": "math-advanced"}]}
        )
        assert ok.status_code == 200, ok.text
        refused = client.post(
            "/feedback", json={"outcomes": [{"entity_id": STUDENT, "outcome": "math-advanced"}]}
        )
        unknown = client.post(
            "/feedback", json={"outcomes": [{"request_id": "lp-1", "outcome": "cooking"}]}
        )
        feedback = wait_rows(tmp_path, "learning-path", il.FEEDBACK_STREAM, 1)
        metrics = client.get("/metrics").text
    assert log.kind == "learning-path"
    assert log.data["entity_id"].tolist() == [None, None]
    assert log.data["predicted"].tolist() == [
        one.json()["recommendations"][0]["module"],
        batch.json()["results"][0]["recommendations"][0]["module"],
    ]
    assert sum(
        log.data[f"score_{m}"][0] for m in il.layout("learning-path").classes
    ) == pytest.approx(1.0)
    assert refused.status_code == 422 and "never logs entity ids" in refused.json()["error"]
    assert unknown.status_code == 422
    assert feedback.data["outcome"].tolist() == ["math-advanced"]
    assert STUDENT.encode() not in all_bytes(tmp_path)
    assert STUDENT not in metrics


def test_a_malformed_log_setting_refuses_to_start(
    churn_model: TrainedModel, tmp_path: Path
) -> None:
    env = log_env(churn_model, tmp_path, MODELOPS_LOG_SAMPLE="often")
    with (
        pytest.raises(Exception, match="MODELOPS_LOG_SAMPLE='often'"),
        asgi_client(env, wait_ready=False),
    ):
        pass
