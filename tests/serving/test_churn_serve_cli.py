"""`modelops serve`: resolves the version, serves it, prints the endpoint and a working curl."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .conftest import free_port

MODELOPS = str(Path(sys.executable).parent / "modelops")


def test_serve_prints_a_working_curl_and_stops_on_ctrl_c(churn_model, tmp_path) -> None:
    port = free_port()
    stderr = (tmp_path / "serve.err").open("wb")
    proc = subprocess.Popen(
        [MODELOPS, "serve", "churn", "--registry", churn_model.uri, "--version", "latest",
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
        assert f"http://127.0.0.1:{port}/predict" in curl
        assert f"churn v{churn_model.version} ready at http://127.0.0.1:{port}" in log

        out = subprocess.run(["bash", "-c", curl], capture_output=True, text=True, timeout=30)
        assert f'"version":"{churn_model.version}"' in out.stdout, out
        assert "churn_probability" in out.stdout

        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        assert proc.wait(timeout=30) == 0
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        stderr.close()


def test_serve_refuses_an_unknown_version_before_starting(churn_model) -> None:
    out = subprocess.run(
        [MODELOPS, "serve", "churn", "--registry", churn_model.uri, "--version", "999"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode != 0
    assert "cannot resolve churn version '999'" in out.stderr
