"""Fixtures of the serving layer, for both services: a service as an in-process
ASGI app (`asgi_client`, `client`) and a real `bentoml serve` process
(`live_server`). The churn service is the default target; `target=LEARNING_PATH`
selects the other. The trained test models (`churn_model`, `lp_model`) and
`bentoml_server` are shared with the e2e layer, so they live in
tests/plugins/models.py and tests/plugins/bentos.py; the names below are
re-exported for the serving tests that import them from here.

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
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import prometheus_client  # noqa: F401  (before PROMETHEUS_MULTIPROC_DIR: see above)
import pytest

from tests.plugins.bentos import CHURN, LEARNING_PATH, RunningServer, bentoml_server, free_port
from tests.plugins.models import TrainedModel, artefact_path, copy_registry

os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="modelops-prom-"))


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


__all__ = [
    "CHURN",
    "LEARNING_PATH",
    "RunningServer",
    "TrainedModel",
    "api_records",
    "artefact_path",
    "asgi_client",
    "bentoml_server",
    "copy_registry",
    "free_port",
    "service_env",
]


@pytest.fixture(scope="module")
def client(churn_model: TrainedModel) -> Iterator[Any]:
    """The churn service in process, loaded and ready."""
    with asgi_client(service_env(churn_model)) as c:
        yield c


# -- a real bentoml serve process -----------------------------------------------------


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
