"""One node per machine.

A node uses fixed ports, the kubelet's hard-coded directories and machine-wide
iptables chains, so a second node on the same machine would fight the first.
The lock is a small JSON file naming who holds it: the state directory of
the running node and the process that started it. It outlives that process
(`cluster up` returns while the node runs), so whether it is still held is
decided by looking at the node's processes: a holder whose processes are all
gone left a stale lock, which the next `up` clears after cleaning the host
up after it.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from modelops_cli.controlplane import processes


def lock_path() -> Path:
    # /run is per boot, like the host state a node changes; the variable lets
    # tests and unusual machines move it.
    return Path(os.environ.get("MODELOPS_NODE_LOCK", "/run/lock/modelops-node.json"))


class NodeBusyError(RuntimeError):
    """Another node runs on this machine; the message names it."""


@dataclass(frozen=True)
class Holder:
    pid: int
    start_ticks: int
    state_dir: str
    since: str
    command: str

    def describe(self) -> str:
        return f"state dir {self.state_dir}, started by pid {self.pid} ({self.command}) at {self.since}"


def read(path: Path | None = None) -> Holder | None:
    path = path or lock_path()
    try:
        return Holder(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    # A second lock file serialises check-and-write between two `up`s
    # started at the same moment.
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".flock"), "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        yield


def _command_line(pid: int) -> str:
    raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()[:200]


def holder_alive(holder: Holder, node_alive: Callable[[Path], bool]) -> bool:
    """True while the starting process or any process of its node runs."""
    starter = processes.Proc("starter", holder.pid, holder.start_ticks, "", [])
    return processes.is_alive(starter) or node_alive(Path(holder.state_dir))


def busy(node_alive: Callable[[Path], bool], path: Path | None = None) -> NodeBusyError | None:
    """The error `acquire` would raise because a live node holds the lock, if any
    (checked before anything else, so a second `up` names the first at once)."""
    current = read(path or lock_path())
    if current is not None and holder_alive(current, node_alive):
        return _busy(current)
    return None


def _busy(holder: Holder) -> NodeBusyError:
    return NodeBusyError(
        f"a node already runs on this machine ({holder.describe()}); "
        f"stop it with `modelops cluster down --state-dir {holder.state_dir}`"
    )


def acquire(
    state_dir: Path,
    node_alive: Callable[[Path], bool],
    clean_stale: Callable[[Path], None],
    path: Path | None = None,
) -> Holder:
    """Take the machine's node lock for `state_dir` or raise NodeBusyError.

    A stale holder (nothing of it runs) is cleaned up with `clean_stale(its
    state dir)` first, since its node may have left host state behind.
    """
    path = path or lock_path()
    with _exclusive(path):
        current = read(path)
        if current is not None:
            if holder_alive(current, node_alive):
                raise _busy(current)
            clean_stale(Path(current.state_dir))
        me = Holder(
            pid=os.getpid(),
            start_ticks=processes.start_ticks(os.getpid()) or 0,
            state_dir=str(state_dir),
            since=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            command=_command_line(os.getpid()),
        )
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(me)))
        tmp.replace(path)
        return me


def release(state_dir: Path, path: Path | None = None) -> None:
    """Drop the lock if `state_dir` holds it (never someone else's)."""
    path = path or lock_path()
    with _exclusive(path):
        current = read(path)
        if current is not None and Path(current.state_dir) == Path(state_dir):
            path.unlink(missing_ok=True)
