"""What a served bento holds in memory: only the libraries serving uses.

Issue 20 measured 538 MB of idle RSS for the churn bento against 139 MB for
a FastAPI peer. Most of it was libraries no request needs: BentoML's arbiter
imported the service module and with it XGBoost, scikit-learn, pandas and
pyarrow, only to read the service definition; the worker loaded scikit-learn
(through XGBoost's sklearn wrapper), pandas and pyarrow, although every
request path works on numpy arrays. Whether a library is in a process is read
from /proc/PID/maps (its compiled extensions are mapped once imported), after
every route that computes features has been called, so a lazy import on a
request path is caught too.

The bento serves in one process (modelops_bentos.one_process: BentoML's worker
without the circus arbiter that read the service definition and then stayed
resident, ~90 MiB), so that process is the whole replica.
"""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import psutil

from tests.plugins.bentos import CHURN, LEARNING_PATH, bentoml_server
from tests.plugins.models import TrainedModel

HEAVY = ("sklearn", "pandas", "pyarrow", "xgboost")


def libraries(pid: int) -> set[str]:
    """Which of HEAVY have a shared object mapped into process `pid`."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return {name for name in HEAVY if re.search(rf"/site-packages/{name}(\.libs)?/", maps)}


def post(url: str, body: dict) -> None:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200, response.read()[:300]


def serving_process(pid: int) -> psutil.Process:
    """The one process that serves: BentoML's worker, exec'd in place of the launcher."""
    process = psutil.Process(pid)
    assert "modelops_bentos.one_process --as-bentoml-worker" in " ".join(process.cmdline()), (
        process.cmdline()
    )
    assert process.children(recursive=True) == [], "no arbiter, no second process"
    return process


CUSTOMER = {
    "customer_id": "c-1", "tenure_months": 4, "monthly_spend": 42.5, "total_spend": 180.0,
    "orders": 6, "support_tickets": 3, "plan": "basic", "region": "north",
}  # fmt: skip


def test_the_churn_bento_serves_in_one_process_that_holds_only_xgboost(
    churn_model: TrainedModel, tmp_path: Path
) -> None:
    with bentoml_server(churn_model, tmp_path, target=CHURN) as server:
        post(f"{server.url}/predict", {"records": [CUSTOMER]})
        post(f"{server.url}/predict_batch", {"records": [CUSTOMER, {**CUSTOMER, "orders": 0}]})
        # More than 256 records: the batch encoder's large-batch branch once
        # imported pandas on the first such request (features/encoding.py).
        post(f"{server.url}/predict", {"records": [CUSTOMER] * 300})
        urllib.request.urlopen(f"{server.url}/metrics", timeout=10).read()
        worker = serving_process(server.process.pid)
        log = server.log.read_text()
        assert "serving in one process" in log and "Starting production HTTP BentoServer" in log
        assert libraries(worker.pid) == {"xgboost"}, (
            "a churn worker needs XGBoost and numpy; scikit-learn, pandas and pyarrow "
            "are imported by something on the serving path"
        )


def test_the_learning_path_bento_holds_none_of_them(lp_model: TrainedModel, tmp_path: Path) -> None:
    from modelops_bentos.learning_path.examples import SAMPLE_REQUEST as student

    with bentoml_server(lp_model, tmp_path, target=LEARNING_PATH) as server:
        post(f"{server.url}/recommend", student)
        post(f"{server.url}/recommend_batch", {"students": [student, student]})
        post(f"{server.url}/recommend_batch", {"students": [student] * 300})  # > 256 rows
        assert libraries(serving_process(server.process.pid).pid) == set()


def test_the_check_sees_a_library_that_is_loaded() -> None:
    import pandas  # noqa: F401  (this test process has it; the check must see it)

    assert "pandas" in libraries(psutil.Process().pid)
