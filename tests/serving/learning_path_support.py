"""Shared helpers of the learning-path serving tests (fixtures live in the test modules).

A small learning-path model is trained into a tmp file:// registry through
`modelops_training.train`, exactly as `modelops train --model learning-path`
does; the service runs in process (ASGI) or as a real `bentoml serve`.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import RunningServer, TrainedModel, _stop_group, free_port

MODEL = "learning-path"
TRAIN_DATA = "synthetic:4000:1"


def train_model(root: Path) -> TrainedModel:
    try:
        from modelops_training import train
    except ImportError as exc:  # a missing part fails loudly, never skips
        pytest.fail(
            f"modelops_training is needed to build the test model ({exc}): run tools/bootstrap.sh"
        )
    uri = f"file://{root}"
    result = train(model=MODEL, data=TRAIN_DATA, registry_uri=uri, seed=0)
    return TrainedModel(uri=uri, root=root, model=MODEL, version=str(result["version"]))


def service_env(model: TrainedModel, **extra: str) -> dict[str, str]:
    return {
        "MODELOPS_REGISTRY": model.uri,
        "MODELOPS_MODEL": model.model,
        "MODELOPS_MODEL_VERSION": model.version,
        "MODELOPS_LOAD_RETRY_SECONDS": "0.1",
        **extra,
    }


def asgi_app() -> Any:
    """A fresh ASGI app of the service (see tests/serving/conftest.py on the collectors)."""
    from prometheus_client import REGISTRY

    from modelops_bentos.learning_path.service import LearningPath

    for collector, names in list(REGISTRY._collector_to_names.items()):
        if any(name.startswith("bentoml_") for name in names):
            REGISTRY.unregister(collector)
    return LearningPath.to_asgi()


@contextlib.contextmanager
def asgi_client(env: dict[str, str], wait_ready: bool = True) -> Iterator[Any]:
    from starlette.testclient import TestClient

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with TestClient(asgi_app(), raise_server_exceptions=False) as client:
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


@contextlib.contextmanager
def bentoml_server(model: TrainedModel, log_dir: Path) -> Iterator[RunningServer]:
    """`bentoml serve` of the learning-path service on a free loopback port, ready."""
    import subprocess

    from modelops_bentos import launch

    port = free_port()
    env = launch.serve_env(model.uri, model.model, model.version)
    target = "modelops_bentos.learning_path.service:LearningPath"
    cmd = launch.serve_command(target, "127.0.0.1", port)
    log = log_dir / f"bentoml-lp-{port}.log"
    with log.open("wb") as out:
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
