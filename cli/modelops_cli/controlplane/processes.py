"""Starting and stopping component processes, and knowing which are ours.

A PID alone is not an identity: after a reboot or a long pause the number may
belong to someone else's program. Each record therefore also keeps the
process start time from /proc/<pid>/stat, and only a process whose PID *and*
start time match is ever signalled.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

# prctl(PR_SET_PDEATHSIG) makes the kernel kill a child when its parent dies,
# so a test session that is SIGKILLed does not leave an apiserver behind.
_PR_SET_PDEATHSIG = 1
STOP_GRACE_SECONDS = 10.0


@dataclass
class Proc:
    """A started component: enough to find it again from another process."""

    name: str
    pid: int
    start_ticks: int
    log: str
    argv: list[str]
    popen: subprocess.Popen | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict:
        # Not dataclasses.asdict: it would deep-copy the Popen handle.
        return {
            "name": self.name,
            "pid": self.pid,
            "start_ticks": self.start_ticks,
            "log": self.log,
            "argv": list(self.argv),
        }

    @classmethod
    def from_json(cls, data: dict) -> Proc:
        return cls(
            name=data["name"],
            pid=int(data["pid"]),
            start_ticks=int(data["start_ticks"]),
            log=data["log"],
            argv=list(data["argv"]),
        )


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may itself contain spaces or
    # parentheses; everything after the last ')' is space separated.
    return raw[raw.rindex(")") + 2 :].split()


def start_ticks(pid: int) -> int | None:
    """Process start time in clock ticks since boot, or None if it is gone."""
    fields = _stat_fields(pid)
    return int(fields[19]) if fields else None


def is_alive(proc: Proc) -> bool:
    """True if the recorded process still runs (zombies count as dead)."""
    if proc.popen is not None and proc.popen.poll() is not None:
        return False
    fields = _stat_fields(proc.pid)
    if fields is None or fields[0] in ("Z", "X"):
        return False
    return int(fields[19]) == proc.start_ticks


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def spawn(
    name: str,
    argv: list[str],
    log: Path,
    *,
    tie_to_parent: bool,
    env: dict[str, str] | None = None,
) -> Proc:
    """Start `argv` with output appended to `log`, in its own session.

    Its own session keeps a Ctrl-C in the terminal that ran `up` from killing
    the control plane; `tie_to_parent` is for test sessions, whose control
    plane must not outlive them. The kernel ties the child to the *thread*
    that started it, so start tied control planes from a long-lived thread
    (pytest fixtures run in the main thread).
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        popen = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent if tie_to_parent else None,
            env=env,
        )
    ticks = start_ticks(popen.pid) or 0
    return Proc(name=name, pid=popen.pid, start_ticks=ticks, log=str(log), argv=argv, popen=popen)


def _wait_gone(proc: Proc, timeout: float) -> bool:
    if proc.popen is not None:
        try:
            proc.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_alive(proc):
            return True
        time.sleep(0.1)
    return not is_alive(proc)


def stop(proc: Proc, grace: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds; never touches a stranger."""
    if not is_alive(proc):
        if proc.popen is not None:
            proc.popen.poll()
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGTERM)
    if _wait_gone(proc, grace):
        return
    if is_alive(proc):
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
    _wait_gone(proc, grace)


def tail(path: str | Path, lines: int = 40) -> str:
    """The last `lines` lines of a log file, for start-up failure reports."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError as exc:
        return f"(cannot read {path}: {exc})"
    return "\n".join(text.splitlines()[-lines:])
