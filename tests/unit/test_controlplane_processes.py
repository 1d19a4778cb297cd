"""Process records: only the process we started is ever signalled."""

from __future__ import annotations

import subprocess
import sys
import time

from modelops_cli.controlplane import ports, processes
from modelops_cli.controlplane.processes import Proc


def test_spawn_logs_and_stop_terminates(tmp_path):
    log = tmp_path / "logs" / "sleeper.log"
    argv = [sys.executable, "-c", "import time; print('started', flush=True); time.sleep(60)"]
    proc = processes.spawn("sleeper", argv, log, tie_to_parent=True)
    # A record read back from state.json has no Popen handle, as in `down`.
    record = Proc.from_json(proc.to_json())
    try:
        assert processes.is_alive(proc)
        assert processes.is_alive(record)
        deadline = time.monotonic() + 30
        while "started" not in processes.tail(log) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        processes.stop(record, grace=5)
    assert not processes.is_alive(proc)
    proc.popen.wait(timeout=5)
    assert "started" in processes.tail(log)


def test_recycled_pid_is_not_signalled():
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        # Same PID, different start time: what a recycled PID looks like.
        impostor = Proc(
            name="x",
            pid=stranger.pid,
            start_ticks=processes.start_ticks(stranger.pid) + 1,
            log="",
            argv=[],
        )
        assert not processes.is_alive(impostor)
        processes.stop(impostor, grace=0.5)
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()


def test_free_ports_are_distinct_loopback_ports():
    chosen = ports.free_ports(5)
    assert len(set(chosen)) == 5
    assert all(1024 <= p <= 65535 for p in chosen)
