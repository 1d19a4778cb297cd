"""`modelops serve learning-path`: serves the version, prints a working /recommend curl."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import TrainedModel, free_port
from .learning_path_support import train_model

MODELOPS = str(Path(sys.executable).parent / "modelops")


@pytest.fixture(scope="module")
def lp_model(tmp_path_factory: pytest.TempPathFactory) -> TrainedModel:
    return train_model(tmp_path_factory.mktemp("lp-registry-cli"))


def test_serve_learning_path_prints_a_working_curl(lp_model, tmp_path) -> None:
    port = free_port()
    stderr = (tmp_path / "serve.err").open("wb")
    proc = subprocess.Popen(
        [MODELOPS, "serve", "learning-path", "--registry", lp_model.uri, "--version", "latest",
         "--port", str(port)],
        stdout=subprocess.PIPE, stderr=stderr, text=True, start_new_session=True,
        env={**os.environ, "BENTOML_DO_NOT_TRACK": "true", "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    try:
        curl = ""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            line = proc.stdout.readline()
            if line.startswith("curl "):
                curl = line.strip()
                break
        log = (tmp_path / "serve.err").read_text()
        assert curl, f"no curl printed; exit={proc.poll()}\n{log[-3000:]}"
        assert f"http://127.0.0.1:{port}/recommend" in curl
        assert f"learning-path v{lp_model.version} ready" in log
        out = subprocess.run(["bash", "-c", curl], capture_output=True, text=True, timeout=30)
        assert f'"version":"{lp_model.version}"' in out.stdout, out
        assert '"recommendations"' in out.stdout
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        assert proc.wait(timeout=30) == 0
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        stderr.close()
