"""one_process.py: when a bento is served as one process, and the worker it becomes.

The plan comes from BentoML's `serve_http` (circus Watcher and CircusSocket
objects, built here as BentoML builds them); what one_process adds is the
choice and the command, both checked on those real objects. The whole path --
`bentoml serve`'s options, the exec, a replica that is one process -- runs in
tests/serving/test_serving_memory.py and every test that starts a bento.
"""

from __future__ import annotations

import os
import socket
import sys

import pytest
from bentoml.serving import create_watcher
from circus.sockets import CircusSocket

from modelops_bentos import one_process


def watcher(numprocesses: int = 1, env: dict[str, str] | None = None):
    # The worker's arguments as _bentoml_impl/server/serving.py writes them.
    return create_watcher(
        name="service",
        cmd=sys.executable,
        args=["-m", "_bentoml_impl.worker.service", "svc:Svc", "--fd",
              "$(circus.sockets._bento_api_server)", "--worker-id", "$(CIRCUS.WID)"],
        working_dir="/tmp",
        numprocesses=numprocesses,
        env=env or {"PROMETHEUS_MULTIPROC_DIR": "/tmp/prom"},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("watchers", "kwargs", "reason"),
    [
        ([watcher()], {}, None),
        ([watcher()], {"threaded": False, "sockets": []}, None),
        ([watcher(), watcher()], {}, "2 watchers (dependent services)"),
        ([watcher(numprocesses=2)], {}, "2 workers"),
        ([watcher()], {"plugins": [object()]}, "--reload"),
        ([watcher()], {"debug": True}, "--development"),
    ],
)
def test_only_a_plan_of_one_worker_and_nothing_else_is_served_in_one_process(
    watchers: list, kwargs: dict, reason: str | None
) -> None:
    assert one_process.why_not_one_process(watchers, kwargs) == reason


def test_the_worker_command_holds_the_bound_socket_and_the_watchers_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MODELOPS_SOME_SETTING", "kept")
    sock = CircusSocket(name="_bento_api_server", host="127.0.0.1", port=0)
    try:
        argv, env, working_dir = one_process.worker_command(watcher(), [sock])
        fd = sock.fileno()
        # BentoML's worker, run by one_process.run_worker with the same arguments.
        assert argv == [sys.executable, "-m", "modelops_bentos.one_process", "--as-bentoml-worker",
                        "svc:Svc", "--fd", str(fd), "--worker-id", "1"]  # fmt: skip
        # Bound, listening and inherited by the exec'd worker, as circus leaves it.
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1
        assert os.get_inheritable(fd)
        # copy_env: the launcher's environment, then the watcher's.
        assert env["MODELOPS_SOME_SETTING"] == "kept"
        assert env["PROMETHEUS_MULTIPROC_DIR"] == "/tmp/prom"
        assert working_dir == "/tmp"
    finally:
        sock.close()


def test_an_argument_circus_would_fill_in_and_one_process_cannot_is_an_error() -> None:
    planned = watcher()
    planned.args = [*planned.args, "--something", "$(circus.env.unknown)"]
    sock = CircusSocket(name="_bento_api_server", host="127.0.0.1", port=0)
    try:
        with pytest.raises(RuntimeError, match=r"unresolved \['\$\(circus.env.unknown\)'\]"):
            one_process.worker_command(planned, [sock])
    finally:
        sock.close()


def test_a_plan_that_needs_the_arbiter_gets_bentomls_arbiter() -> None:
    calls: list = []

    def original(watchers: list, **kwargs: object) -> str:
        calls.append((watchers, kwargs))
        return "bentoml's arbiter"

    create = one_process.one_process_arbiter(original)
    assert isinstance(create([watcher()], sockets=[], threaded=False), one_process.OneProcess)
    assert calls == []
    two = [watcher(), watcher()]
    assert create(two, sockets=[], threaded=False) == "bentoml's arbiter"
    assert calls == [(two, {"sockets": [], "threaded": False})]


def test_a_command_that_is_not_bentomls_worker_is_run_as_planned() -> None:
    planned = [sys.executable, "-m", "some_other.worker", "--fd", "3"]
    assert one_process.as_worker(planned) == planned
