"""`modelops serve <service>`: resolves the version, serves it, prints the endpoint and a working curl.

One test per service (churn, learning-path): the command, what it prints and
what the printed curl answers are the same contract for both.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import copy_registry, free_port

MODELOPS = str(Path(sys.executable).parent / "modelops")


@dataclass(frozen=True)
class Served:
    name: str  # `modelops serve <name>`
    model_fixture: str
    path: str  # the endpoint the printed curl calls
    answer_key: str  # in the body the curl gets back


SERVICES = [
    Served("churn", "churn_model", "/predict", "churn_probability"),
    Served("learning-path", "lp_model", "/recommend", '"recommendations"'),
]


def serve(name: str, uri: str, *args: str) -> list[str]:
    return [MODELOPS, "serve", name, "--registry", uri, *args]


@pytest.mark.parametrize("served", SERVICES, ids=[s.name for s in SERVICES])
def test_serve_prints_a_working_curl_and_stops_on_ctrl_c(served, request, tmp_path) -> None:
    model = request.getfixturevalue(served.model_fixture)
    port = free_port()
    stderr = (tmp_path / "serve.err").open("wb")
    proc = subprocess.Popen(
        serve(served.name, model.uri, "--version", "latest", "--port", str(port)),
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
        assert f"http://127.0.0.1:{port}{served.path}" in curl
        assert f"{served.name} v{model.version} ready at http://127.0.0.1:{port}" in log

        out = subprocess.run(["bash", "-c", curl], capture_output=True, text=True, timeout=30)
        assert f'"version":"{model.version}"' in out.stdout, out
        assert served.answer_key in out.stdout

        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        assert proc.wait(timeout=30) == 0
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        stderr.close()


@pytest.mark.parametrize("served", SERVICES, ids=[s.name for s in SERVICES])
def test_serve_refuses_an_unknown_version_before_starting(served, request) -> None:
    model = request.getfixturevalue(served.model_fixture)
    out = subprocess.run(
        serve(served.name, model.uri, "--version", "999"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode != 0
    assert f"cannot resolve {served.name} version '999'" in out.stderr


def publish_rejected_copy(model) -> str:
    """Version N+1: the same model bytes, published as rejected by a gate."""
    from modelops_registry import Registry

    reg = Registry.from_uri(model.uri)
    meta = reg.metadata(model.model, model.version)
    raw = {name: reg.read_artefact(model.model, model.version, name) for name in meta["artefacts"]}
    meta = {k: v for k, v in meta.items() if k not in ("version", "created_at", "artefacts")}
    meta["status"] = "rejected"
    meta["gates"] = {"minMetric.auc": {"passed": False, "value": 0.5, "threshold": 0.6}}
    return reg.publish(model.model, raw, meta)


def serve_until_ready(cmd: list[str], log_path: Path) -> tuple[subprocess.Popen, str]:
    """Start `modelops serve`, wait for its curl line; returns the process and its stderr so far."""
    with log_path.open("wb") as stderr:
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=stderr, text=True, start_new_session=True,
            env={**os.environ, "BENTOML_DO_NOT_TRACK": "true", "OMP_NUM_THREADS": "1"},
        )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if proc.stdout.readline().startswith("curl "):
            break
    return proc, log_path.read_text()


def stop(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def test_latest_serves_the_newest_approved_and_rejected_only_when_forced(
    churn_model, tmp_path
) -> None:
    model = copy_registry(churn_model, tmp_path / "registry")
    rejected = publish_rejected_copy(model)
    port = free_port()

    proc, log = serve_until_ready(
        serve("churn", model.uri, "--version", "latest", "--port", str(port)), tmp_path / "a.err"
    )
    try:
        assert f"churn v{model.version} ready" in log, log[-3000:]
        assert f"newer version(s) up to {rejected} were rejected" in log
    finally:
        stop(proc)

    refused = subprocess.run(
        serve("churn", model.uri, "--version", rejected), capture_output=True, text=True, timeout=60
    )
    assert refused.returncode != 0
    assert f"version {rejected} was REJECTED by its gates" in refused.stderr

    proc, log = serve_until_ready(
        serve("churn", model.uri, "--allow-rejected", "--port", str(port)), tmp_path / "b.err"
    )
    try:
        assert f"churn v{rejected} ready" in log, log[-3000:]
        assert f"WARNING: serving churn version {rejected}, which was REJECTED" in log
    finally:
        stop(proc)


def test_sigterm_to_serve_stops_bentoml_too(churn_model, tmp_path) -> None:
    """`kill PID` (a shell's `kill %1`, a supervisor) reaches only `modelops serve`, not its
    process group: bentoml must still stop and free the port, not be left serving."""
    port = free_port()
    stderr = (tmp_path / "serve.err").open("wb")
    proc = subprocess.Popen(
        serve("churn", churn_model.uri, "--port", str(port)),
        stdout=subprocess.PIPE, stderr=stderr, text=True, start_new_session=True,
        env={**os.environ, "BENTOML_DO_NOT_TRACK": "true", "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if proc.stdout.readline().startswith("curl "):
                break
        log = (tmp_path / "serve.err").read_text()
        assert "ready at" in log, f"not ready; exit={proc.poll()}\n{log[-3000:]}"
        proc.send_signal(signal.SIGTERM)  # the wrapper alone, as `kill` sends it
        assert proc.wait(timeout=30) == 0
        # bentoml was the wrapper's child in the same (new) session: nothing of it is left.
        with pytest.raises(ProcessLookupError):
            os.killpg(proc.pid, 0)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        stderr.close()
