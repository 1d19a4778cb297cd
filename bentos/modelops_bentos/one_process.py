"""`bentoml serve` as one process: BentoML's own worker, without the circus arbiter above it.

    python -m modelops_bentos.one_process [the options and BENTO of `bentoml serve`]

`bentoml serve` starts a supervisor (BentoML's circus arbiter) that loads the
service to read its configuration, binds the listening socket and starts the
worker processes that serve it. In a container the arbiter supervises nothing:
BentoML does not respawn workers there (`respawn=not running_inside_container()`
in bentoml/serving.py), the kubelet restarts the container instead. Yet it stays
resident with everything it imported to read the service (BentoML's CLI, the
service module and its libraries): ~90 MiB of the churn bento's ~245 MiB per
replica (docs/serving-performance.md).

This module runs `bentoml serve` itself, with every option meaning what it
means there, and replaces only the arbiter's start: when BentoML has planned
exactly one worker process and nothing else (no dependent services, no
--reload, no --development), it binds the socket as circus would, puts the
worker's arguments and environment together as circus would, and `exec`s the
worker. The process that remains is BentoML's worker
(`_bentoml_impl.worker.service`, run by `--as-bentoml-worker` below), holding
the listening socket, with the pid of the command that started it; SIGTERM and
Ctrl-C reach its uvicorn directly, which shuts down as it does under the
arbiter. Anything else is handed to BentoML's arbiter unchanged, with a log
line saying why.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from typing import Any, NoReturn

# Under "bentoml": `bentoml serve` configures that logger's level and handlers
# (INFO to stderr), the root logger only shows warnings.
log = logging.getLogger("bentoml.modelops.one_process")

BENTO_PATH_ENV = "BENTO_PATH"  # set in BentoML's images: the bento's folder
WORKER_MODULE = "_bentoml_impl.worker.service"
MODULE = "modelops_bentos.one_process"  # not __name__: that is "__main__" under -m
# First argument of this module when it runs BentoML's worker (see run_worker).
WORKER_FLAG = "--as-bentoml-worker"


class OneProcess:
    """Stands in for the circus arbiter `serve_http` creates; `start` execs the worker."""

    def __init__(self, watchers: Sequence[Any], sockets: Sequence[Any]) -> None:
        self.watchers = list(watchers)
        self.sockets = list(sockets)
        # serve_http enters its usage tracking and the cleanup of a temporary
        # folder here; exec ends the process before they would run.
        self.exit_stack = ExitStack()

    def start(self, cb: Any = None) -> NoReturn:
        (watcher,) = self.watchers
        argv, env, working_dir = worker_command(watcher, self.sockets)
        if cb is not None:
            cb(self)  # BentoML's "Starting production HTTP BentoServer ... listening on ..."
        log.info("serving in one process: BentoML's worker, without the arbiter")
        os.chdir(working_dir)
        os.execve(argv[0], argv, env)


def why_not_one_process(watchers: Sequence[Any], kwargs: dict[str, Any]) -> str | None:
    """Why this plan needs BentoML's arbiter, or None when one process serves it."""
    if len(watchers) != 1:
        return f"{len(watchers)} watchers (dependent services)"
    if watchers[0].numprocesses != 1:
        return f"{watchers[0].numprocesses} workers"
    if kwargs.get("plugins"):
        return "--reload"
    if kwargs.get("debug"):
        return "--development"
    return None


def worker_command(watcher: Any, sockets: Sequence[Any]) -> tuple[list[str], dict[str, str], str]:
    """(argv, environment, working folder) of the watcher's worker 1, its sockets bound.

    What circus does for a process (circus/process.py: the command and each
    argument through `replace_gnu_args`, the environment copied and updated)
    with the one worker id circus would give it.
    """
    import shlex

    from circus.util import replace_gnu_args

    fds = {}
    for sock in sockets:
        sock.bind_and_listen()  # as the arbiter does; circus marks it inheritable
        fds[sock.name] = sock.fileno()
    options = {"sockets": fds, "wid": 1}
    command = shlex.split(replace_gnu_args(watcher.cmd, **options))
    args = [replace_gnu_args(str(arg), **options) for arg in watcher.args]
    unresolved = [arg for arg in [*command, *args] if "$(" in arg or "((" in arg]
    if unresolved:
        raise RuntimeError(f"cannot start the worker in one process: unresolved {unresolved}")
    env = {**os.environ, **(watcher.env or {})} if watcher.copy_env else dict(watcher.env or {})
    return (
        as_worker([*command, *args]),
        {k: str(v) for k, v in env.items()},
        watcher.working_dir or ".",
    )


def as_worker(argv: list[str]) -> list[str]:
    """`python -m <BentoML's worker> ...` as `python -m <this module> --as-bentoml-worker ...`."""
    for i in range(len(argv) - 1):
        if argv[i : i + 2] == ["-m", WORKER_MODULE]:
            return [*argv[:i], "-m", MODULE, WORKER_FLAG, *argv[i + 2 :]]
    return argv  # not the worker this module knows: exec'd as planned


def run_worker(args: Sequence[str]) -> None:
    """BentoML's worker, with its arguments; a stop it has shut down for ends it with 0.

    `bentoml serve` exits 0 when SIGTERM or Ctrl-C stops it. The worker alone
    would end the same clean shutdown differently: uvicorn re-raises the
    signal once it has stopped, so SIGTERM would kill it (143 in a container)
    and SIGINT would end in click's "Aborted!" and 1, which `modelops serve`
    and a supervisor read as failures. uvicorn puts back the handlers it found
    before re-raising, so these are the ones that run then.
    """
    import signal

    import click
    from _bentoml_impl.worker.service import main as worker_main

    signal.signal(signal.SIGTERM, _exit_zero)
    try:
        worker_main.main(list(args), prog_name=WORKER_MODULE, standalone_mode=False)
    except click.Abort:
        sys.exit(0)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)


def _exit_zero(signum: int, frame: Any) -> None:
    sys.exit(0)


def one_process_arbiter(original: Any) -> Any:
    """A `create_standalone_arbiter` that serves in one process whenever it can."""

    def create(watchers: list[Any], **kwargs: Any) -> Any:
        reason = why_not_one_process(watchers, kwargs)
        if reason is None:
            return OneProcess(watchers, kwargs.get("sockets") or [])
        log.warning("not serving in one process (%s): starting BentoML's arbiter", reason)
        return original(watchers, **kwargs)

    return create


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == [WORKER_FLAG]:
        run_worker(args[1:])
        return
    if not args and os.environ.get(BENTO_PATH_ENV):
        args = [os.environ[BENTO_PATH_ENV]]  # what BentoML's image entrypoint serves
    import bentoml._internal.utils.circus as circus_utils
    from bentoml_cli.cli import cli

    circus_utils.create_standalone_arbiter = one_process_arbiter(
        circus_utils.create_standalone_arbiter
    )
    cli.main(["serve", *args], prog_name=f"python -m {MODULE}")


if __name__ == "__main__":
    main()
