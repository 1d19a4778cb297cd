"""One node per machine: the lock file, its holder and stale holders."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from modelops_cli.cluster import lock


def _never(_: Path) -> bool:
    return False


def _no_cleanup(state_dir: Path) -> None:
    raise AssertionError(f"nothing stale to clean, yet asked to clean {state_dir}")


def _dead_holder(path: Path, state_dir: str) -> None:
    # The pid of a process that has exited (and been reaped).
    finished = subprocess.Popen(["true"])
    finished.wait()
    pid = finished.pid
    path.write_text(
        json.dumps(
            {"pid": pid, "start_ticks": 1, "state_dir": state_dir, "since": "x", "command": "up"}
        )
    )


def test_acquire_records_the_holder_and_release_drops_it(tmp_path):
    path = tmp_path / "node.json"
    holder = lock.acquire(tmp_path / "state", _never, _no_cleanup, path=path)
    assert holder.pid == os.getpid()
    assert lock.read(path) == holder
    assert "python" in holder.command or "pytest" in holder.command
    lock.release(tmp_path / "state", path=path)
    assert lock.read(path) is None


def test_a_live_holder_refuses_a_second_node_naming_itself(tmp_path):
    path = tmp_path / "node.json"
    lock.acquire(tmp_path / "first", _never, _no_cleanup, path=path)
    with pytest.raises(lock.NodeBusyError) as raised:
        lock.acquire(tmp_path / "second", _never, _no_cleanup, path=path)
    message = str(raised.value)
    assert f"state dir {tmp_path / 'first'}" in message
    assert f"pid {os.getpid()}" in message
    assert f"modelops cluster down --state-dir {tmp_path / 'first'}" in message
    assert isinstance(lock.busy(_never, path=path), lock.NodeBusyError)


def test_a_holder_whose_node_still_runs_is_alive_after_its_starter_exits(tmp_path):
    path = tmp_path / "node.json"
    _dead_holder(path, str(tmp_path / "first"))
    running = {tmp_path / "first"}
    with pytest.raises(lock.NodeBusyError):
        lock.acquire(tmp_path / "second", lambda d: d in running, _no_cleanup, path=path)


def test_a_stale_holder_is_cleaned_up_and_replaced(tmp_path):
    path = tmp_path / "node.json"
    _dead_holder(path, str(tmp_path / "crashed"))
    assert lock.busy(_never, path=path) is None
    cleaned = []
    holder = lock.acquire(tmp_path / "new", _never, cleaned.append, path=path)
    assert cleaned == [tmp_path / "crashed"]
    assert holder.state_dir == str(tmp_path / "new")


def test_release_never_drops_someone_elses_lock(tmp_path):
    path = tmp_path / "node.json"
    lock.acquire(tmp_path / "first", _never, _no_cleanup, path=path)
    lock.release(tmp_path / "other", path=path)
    assert lock.read(path).state_dir == str(tmp_path / "first")


@pytest.mark.parametrize("content", ["", "{not json", '{"pid": 1}'])
def test_an_unreadable_lock_file_is_treated_as_free(tmp_path, content):
    path = tmp_path / "node.json"
    path.write_text(content)
    assert lock.read(path) is None
    lock.acquire(tmp_path / "state", _never, _no_cleanup, path=path)
    assert lock.read(path).state_dir == str(tmp_path / "state")
