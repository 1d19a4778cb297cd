"""The Open Inference Protocol (V2) on both live services, spoken by a real V2 client.

Triton's HTTP client (`tritonclient[http]`, a dev dependency) is what Triton,
KServe and MLServer users already call; if it can check health, read the
metadata and infer, the routes conform. The answers must equal the services'
own routes bit for bit (the same validation and scoring), bad tensors must be
refused with V2's `{"error": ...}` naming the tensor and row, and V2 requests
must show up in the same metrics and inference log.
"""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import numpy as np
import pytest

from modelops_bentos.churn.examples import SAMPLE_RECORD
from modelops_bentos.learning_path.examples import SAMPLE_ACTIVITY
from modelops_features import groundtruth
from modelops_features import inference_log as il
from modelops_registry.datalog import DataLog
from tests.serving.conftest import CHURN, LEARNING_PATH, bentoml_server

pytestmark = pytest.mark.serving

try:
    import tritonclient.http as triton
    from tritonclient.utils import InferenceServerException
except ImportError as exc:  # a missing part fails loudly, never skips
    raise RuntimeError(
        f"tritonclient[http] is needed for the V2 test ({exc}): it is a dev dependency, "
        "run tools/bootstrap.sh"
    ) from exc

CHURN_ROWS = [
    {**SAMPLE_RECORD, "customer_id": f"c-{i}", "orders": i, "total_spend": 100.0 + i}
    for i in range(12)
]
LP_ROWS = [
    {**SAMPLE_ACTIVITY, "quiz_avg_programming": 40.0 + i, "active_days": i} for i in range(6)
]
NUMPY = {"INT64": np.int64, "FP64": np.float64, "BYTES": object}


@pytest.fixture(scope="module")
def servers(churn_model, lp_model, tmp_path_factory):
    """Both services, each logging every request (flushed every second)."""
    store = tmp_path_factory.mktemp("v2-log")
    env = {
        "MODELOPS_LOG_URI": f"file://{store}",
        "MODELOPS_LOG_SAMPLE": "1",
        "MODELOPS_LOG_FLUSH_SECONDS": "1",
    }
    logs = tmp_path_factory.mktemp("v2-servers")
    with (
        bentoml_server(churn_model, logs, env_extra=env, target=CHURN) as churn,
        bentoml_server(lp_model, logs, env_extra=env, target=LEARNING_PATH) as lp,
    ):
        yield {"churn": churn, "learning-path": lp, "store": store}


def client(server: Any) -> Any:
    return triton.InferenceServerClient(url=server.url.removeprefix("http://"))


def tensors(metadata: dict[str, Any], rows: list[dict[str, Any]]) -> list[Any]:
    """One InferInput per input the metadata declares, from the rows' columns."""
    inputs = []
    for spec in metadata["inputs"]:
        if spec["name"] not in rows[0]:
            continue
        values = np.array([r[spec["name"]] for r in rows], dtype=NUMPY[spec["datatype"]])
        tensor = triton.InferInput(spec["name"], [len(rows)], spec["datatype"])
        tensor.set_data_from_numpy(values, binary_data=False)
        inputs.append(tensor)
    return inputs


def test_health_and_metadata(servers, churn_model, lp_model) -> None:
    for name, model in (("churn", churn_model), ("learning-path", lp_model)):
        c = client(servers[name])
        assert c.is_server_live()
        assert c.is_server_ready()
        assert c.is_model_ready(model.model)
        assert c.is_model_ready(model.model, model.version)
        assert not c.is_model_ready("no-such-model")
        assert not c.is_model_ready(model.model, "999")
        metadata = c.get_model_metadata(model.model)
        assert metadata["name"] == model.model
        assert metadata["versions"] == [model.version]
        assert metadata["inputs"] and metadata["outputs"]
        assert c.get_server_metadata()["name"] == "modelops"


def test_churn_infer_equals_predict(servers, churn_model) -> None:
    c = client(servers["churn"])
    metadata = c.get_model_metadata("churn")
    result = c.infer(
        "churn",
        tensors(metadata, CHURN_ROWS),
        model_version=churn_model.version,
        outputs=[triton.InferRequestedOutput("churn_probability", binary_data=False)],
        request_id="v2-churn",
        headers={"X-Request-Id": "v2-churn-1"},
    )
    got = result.as_numpy("churn_probability").tolist()
    want = httpx.post(f"{servers['churn'].url}/predict", json={"records": CHURN_ROWS}).json()
    assert got == [p["churn_probability"] for p in want["predictions"]]
    answer = result.get_response()
    assert (answer["model_name"], answer["model_version"]) == ("churn", churn_model.version)
    assert answer["id"] == "v2-churn"


def test_learning_path_infer_equals_recommend_batch(servers) -> None:
    c = client(servers["learning-path"])
    metadata = c.get_model_metadata("learning-path")
    result = c.infer("learning-path", tensors(metadata, LP_ROWS), parameters={"k": 2})
    modules = result.as_numpy("modules")
    scores = result.as_numpy("scores")
    assert modules.shape == scores.shape == (len(LP_ROWS), 2)
    want = httpx.post(
        f"{servers['learning-path'].url}/recommend_batch",
        json={"students": [{"activity": r, "k": 2} for r in LP_ROWS]},
    ).json()["results"]
    for row, expected in enumerate(want):
        got = [m.decode() if isinstance(m, bytes) else m for m in modules[row]]
        assert got == [r["module"] for r in expected["recommendations"]]
        assert scores[row].tolist() == [r["score"] for r in expected["recommendations"]]


def test_bad_tensors_are_refused_naming_tensor_and_row(servers) -> None:
    c = client(servers["churn"])
    rows = [*CHURN_ROWS[:2], {**CHURN_ROWS[2], "tenure_months": -1}]
    with pytest.raises(InferenceServerException) as refused:
        c.infer("churn", tensors(c.get_model_metadata("churn"), rows))
    assert "inputs.tenure_months[2]" in str(refused.value)
    url = f"{servers['churn'].url}/v2/models/churn/infer"
    good = {
        "inputs": [
            {"name": k, "datatype": dt, "shape": [1], "data": [SAMPLE_RECORD[k]]}
            for k, dt in [("tenure_months", "INT64"), ("monthly_spend", "FP64"),
                          ("total_spend", "FP64"), ("orders", "INT64"),
                          ("support_tickets", "INT64"), ("plan", "BYTES"), ("region", "BYTES")]
        ]
    }  # fmt: skip

    def with_input(name: str, **changes: Any) -> dict[str, Any]:
        inputs = [{**t, **changes} if t["name"] == name else t for t in good["inputs"]]
        return {"inputs": inputs}

    cases = [
        (with_input("orders", data=[True]), 422, "inputs.orders[0]"),
        (with_input("orders", data=["3"]), 422, "inputs.orders[0]"),
        (with_input("plan", data=["gold"]), 422, "inputs.plan[0]"),
        (with_input("orders", datatype="FP32"), 422, "inputs.orders"),
        (with_input("orders", shape=[2]), 422, "inputs.orders"),
        ({"inputs": [*good["inputs"], {"name": "x", "datatype": "FP64", "shape": [1],
                                       "data": [1]}]}, 422, "unknown input 'x'"),
        ({"inputs": good["inputs"][1:]}, 422, "missing tenure_months"),
        ({"rows": []}, 422, "inputs"),
        ({**good, "outputs": [{"name": "nope"}]}, 422, "outputs"),
    ]  # fmt: skip
    for body, status, needle in cases:
        resp = httpx.post(url, json=body)
        assert resp.status_code == status, (body, resp.text)
        assert set(resp.json()) == {"error"} and needle in resp.json()["error"], resp.text
    assert (
        httpx.post(url, content=b"{", headers={"Content-Type": "application/json"}).status_code
        == 400
    )
    assert httpx.post(url, content=b"a", headers={"Content-Type": "text/plain"}).status_code == 415
    assert httpx.post(f"{servers['churn'].url}/v2/models/other/infer", json=good).status_code == 404
    assert (
        httpx.post(
            f"{servers['churn'].url}/v2/models/churn/versions/999/infer", json=good
        ).status_code
        == 404
    )
    assert httpx.get(url).status_code == 405
    assert servers["churn"].process.poll() is None, "the server died"


def test_v2_requests_are_in_the_metrics_and_the_inference_log(servers) -> None:
    c = client(servers["churn"])
    c.infer(
        "churn",
        tensors(c.get_model_metadata("churn"), CHURN_ROWS[:3]),
        headers={"X-Request-Id": "v2-logged"},
    )
    metrics = httpx.get(f"{servers['churn'].url}/metrics").text
    counted = re.search(
        r'^modelops_requests_total\{endpoint="v2_infer",model="churn",status="200",[^}]*\} (\d+)',
        metrics,
        re.M,
    )
    assert counted and float(counted[1]) >= 1, metrics[-3000:]
    data = DataLog(f"file://{servers['store']}")
    deadline = time.monotonic() + 30
    while True:
        log = groundtruth.read_stream(data, "churn", il.LOG_STREAM, None, None)
        mine = np.asarray(log.data["request_id"]) == "v2-logged" if log.rows else np.zeros(0, bool)
        if mine.sum() == 3 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert mine.sum() == 3, f"v2 rows not logged:\n{servers['churn'].log_tail()}"
    assert set(np.asarray(log.data["endpoint"])[mine].tolist()) == {"v2_infer"}
