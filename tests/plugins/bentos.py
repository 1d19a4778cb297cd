"""A real `bentoml serve` process on a free loopback port, for the serving and e2e layers."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from modelops_testkit.net import free_port
from tests.plugins.models import TrainedModel

CHURN = "modelops_bentos.churn.service:Churn"
LEARNING_PATH = "modelops_bentos.learning_path.service:LearningPath"


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
