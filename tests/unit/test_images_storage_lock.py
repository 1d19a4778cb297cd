"""The image store's lock: one holder per machine, re-entrant within a thread."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from modelops_cli.images.builder import storage_lock

PROBE = """
import fcntl, sys
with open(sys.argv[1], "w") as handle:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print("held")
    else:
        print("free")
"""


def probe(root: Path) -> str:
    """What another process finds: the lock held or free."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(root / ".lock")], capture_output=True, text=True
    )
    return done.stdout.strip()


def test_another_process_finds_it_held_until_the_outermost_holder_leaves(tmp_path: Path) -> None:
    with storage_lock(tmp_path):
        assert probe(tmp_path) == "held"
        # A builder called by code that already holds it does not wait for itself.
        with storage_lock(tmp_path):
            assert probe(tmp_path) == "held"
        assert probe(tmp_path) == "held"
    assert probe(tmp_path) == "free"


def test_another_thread_waits_for_it(tmp_path: Path) -> None:
    entered = threading.Event()

    def other() -> None:
        with storage_lock(tmp_path):
            entered.set()

    with storage_lock(tmp_path):
        thread = threading.Thread(target=other)
        thread.start()
        assert not entered.wait(0.5)
    assert entered.wait(10)
    thread.join(10)


def test_a_waiting_holder_says_so(tmp_path: Path) -> None:
    said: list[str] = []
    entered = threading.Event()

    def other() -> None:
        with storage_lock(tmp_path, said.append):
            entered.set()

    with storage_lock(tmp_path):
        thread = threading.Thread(target=other)
        thread.start()
        assert not entered.wait(0.5)
    thread.join(10)
    assert said == ["waiting for another image build on this machine to finish"]
