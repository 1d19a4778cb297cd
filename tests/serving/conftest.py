"""Fixtures of the serving layer, for both services: a small trained model in a
tmp file:// registry (`churn_model`, `lp_model`), a service as an in-process
ASGI app (`asgi_client`), and a real `bentoml serve` process on a free
loopback port (`bentoml_server`). The churn service is the default target
(tests/e2e import these helpers too); `target=LEARNING_PATH` selects the other.

BentoML's in-process /metrics builds a MultiProcessCollector, which refuses to
run without PROMETHEUS_MULTIPROC_DIR, so a tmp directory is set here. The
variable also switches prometheus_client into multiprocess mode if it is first
imported after it is set, which would change the metrics of every other test
in the session (the operator's): prometheus_client is therefore imported first,
in normal mode. In-process, BentoML's own bentoml_* metrics are thus not
exposed (they live in memory, not in the directory); the real `bentoml serve`
test checks that they stay.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import prometheus_client  # noqa: F401  (before PROMETHEUS_MULTIPROC_DIR: see above)
import pytest

os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="modelops-prom-"))

CHURN = "modelops_bentos.churn.service:Churn"
LEARNING_PATH = "modelops_bentos.learning_path.service:LearningPath"
# Small sets: the tests check serving, not model quality, and CI has 2 cores.
TRAIN_DATA = {"churn": "synthetic:3000:1", "learning-path": "synthetic:4000:1"}


@dataclass(frozen=True)
class TrainedModel:
    uri: str
    root: Path
    model: str
    version: str


def train_model(root: Path, model: str) -> TrainedModel:
    """`model` trained on its small synthetic set and published to a file:// registry at `root`."""
    try:
        from modelops_training import train
    except ImportError as exc:  # a missing part fails loudly, never skips
        pytest.fail(
            f"modelops_training.train is needed to build the test model ({exc}); "
            "it is part of this workspace: run tools/bootstrap.sh"
        )
    from modelops_training import XGBParams

    uri = f"file://{root}"
    # Few trees for churn's XGBoost (the learning-path model takes no XGBParams).
    # Small fast models sit at their logistic baseline's level (this one 0.008
    # AUC below it, others up to 0.03), too close to the default baseline gate
    # (0.01) to rely on, so that gate is widened: the model must be approved
    # (the e2e tests resolve @latest-approved and `modelops serve --version
    # latest` serves only approved versions), but its quality is not tested here.
    options = (
        {
            "base_version": None,
            "params": XGBParams(n_estimators=30),
            "gates": {"maxBaselineRegression": 0.05},
        }
        if model == "churn"
        else {}
    )
    result = train(model=model, data=TRAIN_DATA[model], registry_uri=uri, seed=0, **options)
    if result["status"] != "approved":
        pytest.fail(f"the {model} test model was rejected by its gates: {result['gates']}")
    return TrainedModel(uri=uri, root=root, model=model, version=str(result["version"]))


@pytest.fixture(scope="session")
def churn_model(tmp_path_factory: pytest.TempPathFactory) -> TrainedModel:
    """One churn model trained on a small synthetic set, published to a tmp registry."""
    return train_model(tmp_path_factory.mktemp("registry"), "churn")


@pytest.fixture(scope="session")
def lp_model(tmp_path_factory: pytest.TempPathFactory) -> TrainedModel:
    """One learning-path model trained on a small synthetic set, in its own tmp registry."""
    return train_model(tmp_path_factory.mktemp("lp-registry"), "learning-path")


def copy_registry(model: TrainedModel, dest: Path) -> TrainedModel:
    shutil.copytree(model.root, dest, dirs_exist_ok=True)
    return TrainedModel(uri=f"file://{dest}", root=dest, model=model.model, version=model.version)


def artefact_path(model: TrainedModel) -> Path:
    return model.root / model.model / model.version / "model.ubj"


# -- in-process ASGI app --------------------------------------------------------------


def service_env(model: TrainedModel, version: str | None = None, **extra: str) -> dict[str, str]:
    return {
        "MODELOPS_REGISTRY": model.uri,
        "MODELOPS_MODEL": model.model,
        "MODELOPS_MODEL_VERSION": version or model.version,
        "MODELOPS_LOAD_RETRY_SECONDS": "0.1",
        **extra,
    }


def asgi_app(target: str = CHURN) -> Any:
    """A fresh ASGI app of the service `target` ("module:Class").

    BentoML's HTTP metrics middleware registers its collectors in the global
    prometheus registry when an app is built, so a second app in one process
    fails with DuplicateTimeseries; its adaptive-batching dispatcher also binds
    to the event loop of the first client. Tests need several apps (different
    environments), so the previous app's bentoml_ collectors are unregistered
    first. (In multiprocess mode /metrics reads the mmap files, not these
    collectors, so BentoML's metrics stay visible.)
    """
    import importlib

    from prometheus_client import REGISTRY

    module, name = target.split(":")
    service = getattr(importlib.import_module(module), name)
    for collector, names in list(REGISTRY._collector_to_names.items()):
        if any(name.startswith("bentoml_") for name in names):
            REGISTRY.unregister(collector)
    return service.to_asgi()


@contextlib.contextmanager
def asgi_client(env: dict[str, str], wait_ready: bool = True, target: str = CHURN) -> Iterator[Any]:
    """A starlette TestClient around the service's ASGI app, env applied for its life."""
    from starlette.testclient import TestClient

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with TestClient(asgi_app(target), raise_server_exceptions=False) as client:
            if wait_ready:
                # Generous: the machine is shared, and a load is a registry read.
                deadline = time.monotonic() + 90
                while client.get("/readyz").status_code != 200:
                    assert time.monotonic() < deadline, "service not ready within 90 s"
                    time.sleep(0.05)
            yield client
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if target == CHURN:
            # The record limit is per process (the churn service sets it at start);
            # give an app still open in this process its own environment's limit back.
            from modelops_bentos.churn.schemas import configure_max_records

            configure_max_records()


@pytest.fixture(scope="module")
def client(churn_model: TrainedModel) -> Iterator[Any]:
    """The churn service in process, loaded and ready."""
    with asgi_client(service_env(churn_model)) as c:
        yield c


# -- a real bentoml serve process -----------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RunningServer:
    url: str
    process: subprocess.Popen
    log: Path

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


@contextlib.contextmanager
def bentoml_server(
    model: TrainedModel,
    log_dir: Path,
    env_extra: dict[str, str] | None = None,
    target: str = CHURN,
) -> Iterator[RunningServer]:
    """`bentoml serve` of the service `target` on a free loopback port, ready."""
    from modelops_bentos import launch

    port = free_port()
    env = launch.serve_env(model.uri, model.model, model.version, extra=env_extra)
    cmd = launch.serve_command(target, "127.0.0.1", port)
    log = log_dir / f"bentoml-{model.model}-{port}.log"
    with log.open("wb") as out:
        # Own session: teardown signals exactly this server and its workers.
        proc = subprocess.Popen(
            cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = RunningServer(url=launch.base_url("127.0.0.1", port), process=proc, log=log)
    try:
        try:
            launch.wait_ready(server.url, proc, timeout=90)
        except launch.ServeError as exc:
            pytest.fail(f"bentoml serve did not become ready: {exc}\n{server.log_tail()}")
        yield server
    finally:
        _stop_group(proc)


def _stop_group(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=20)
    # Workers left behind (if any) belong to the same session: kill what remains.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    if proc.poll() is None:
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def live_server(churn_model: TrainedModel, tmp_path_factory: pytest.TempPathFactory):
    """`bentoml serve` of the churn service on a free loopback port, ready."""
    with bentoml_server(churn_model, tmp_path_factory.mktemp("bentoml-logs")) as server:
        yield server


# -- data helpers -----------------------------------------------------------------------


def api_records(frame: Any) -> list[dict[str, Any]]:
    """DataFrame rows as JSON-exact API records: NaN -> null, numpy scalars -> Python."""
    from modelops_features.churn import RAW_SCHEMA

    columns = [*RAW_SCHEMA.names, "customer_id"]
    import numpy as np
    import pandas as pd

    out = []
    for row in frame[columns].itertuples(index=False):
        record: dict[str, Any] = {}
        for name, value in zip(columns, row, strict=True):
            if isinstance(value, str):
                record[name] = value
            elif value is None or pd.isna(value):
                record[name] = None
            elif isinstance(value, int | np.integer):
                record[name] = int(value)
            else:
                record[name] = float(value)
        out.append(record)
    # The JSON encoder must round-trip every float exactly (repr does).
    assert json.loads(json.dumps(out)) == out
    return out
