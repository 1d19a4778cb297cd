"""Runs a Markdown file's command blocks the way a reader pastes them: one shell, in order.

The blocks of one file share one bash process, as they share a terminal
when a reader follows a page: a variable exported, a server started with
`&` or a `cd` in one block is there in the next, and `kill %1` finds its
job. Each block is sourced with `set -e` (a failing command fails the
block, as it would stop a reader) and stdin from /dev/null (nothing waits
for a keyboard), under a timeout. The shell starts in a scratch directory
holding a link to every top-level entry of the repository, so the
documented relative paths (.venv/bin/modelops, crds/, examples/) work while
anything a block writes beside them stays out of the checkout; the repo's
.venv/bin is first on PATH (for the bare `modelops` of the runbooks). At the
end the whole process group is killed, servers left in the background too.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.docs.blocks import REPO, Block

BLOCK_TIMEOUT = 300.0  # seconds; the slowest no-cluster block trains and scores in ~60 s
END = "@@docs-block-end@@"
FAILED = "@@docs-block: exit"  # the ERR trap's line: the status and the failing command
POLL = 0.5  # seconds between checks that the shell is still alive
TAIL_LINES = 60


class BlockFailed(AssertionError):
    """A block failed or timed out; the message names file:line and shows its output."""


@dataclass
class BlockRun:
    block: Block
    seconds: float
    output: str


def scratch_dir(root: Path) -> Path:
    """`root` with a link to each top-level entry of the repository (not .git)."""
    root.mkdir(parents=True, exist_ok=True)
    for entry in REPO.iterdir():
        if entry.name != ".git" and not (root / entry.name).exists():
            (root / entry.name).symlink_to(entry)
    return root


class Session:
    """One bash process for the blocks of one file."""

    def __init__(self, cwd: Path, env: Mapping[str, str] | None = None) -> None:
        environment = dict(os.environ)
        environment.update(env or {})
        environment["PATH"] = f"{REPO / '.venv' / 'bin'}{os.pathsep}{environment.get('PATH', '')}"
        self.cwd = cwd
        self.proc = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            cwd=cwd,
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,  # its own process group: killed as one at the end
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self._send("set -e")
        # Under `set -e` the shell exits at the failing command; say which one
        # (a pipeline's status is its last command's, e.g. a grep finding nothing).
        self._send(f"trap 'echo \"{FAILED} $? at: $BASH_COMMAND\" >&2' ERR")
        self.count = 0

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def run(self, block: Block, timeout: float = BLOCK_TIMEOUT) -> BlockRun:
        self.count += 1
        script = self.cwd / f".docs-block-{self.count}.sh"
        script.write_text(block.text, encoding="utf-8")
        started = time.monotonic()
        self._send(f"source {script} </dev/null; echo; echo '{END}'")
        output: list[str] = []
        deadline = started + timeout
        while True:
            try:
                line = self.lines.get(timeout=POLL)
            except queue.Empty:
                # A server the block left in the background keeps the pipe open
                # after the shell died, so the shell's own exit is checked too.
                if self.proc.poll() is not None:
                    line = None
                elif time.monotonic() > deadline:
                    self.close()
                    raise BlockFailed(
                        f"{block.where}: still running after {timeout:.0f} s\n{_tail(output)}"
                    ) from None
                else:
                    continue
            if line is None:
                code = self.proc.wait()
                raise BlockFailed(
                    f"{block.where}: a command failed (the shell exited {code}); "
                    f"its output:\n{_tail(output)}"
                )
            if line.rstrip("\n") == END:
                return BlockRun(block, time.monotonic() - started, "".join(output))
            output.append(line)

    def close(self) -> None:
        """End the shell and everything it started (servers in the background too)."""
        for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 0.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=grace or None)


def run_blocks(
    blocks: Iterable[Block], cwd: Path, env: Mapping[str, str] | None = None
) -> list[BlockRun]:
    """Run `blocks` in order in one session; BlockFailed at the first that fails."""
    session = Session(scratch_dir(cwd), env)
    try:
        return [session.run(block) for block in blocks]
    finally:
        session.close()


def _tail(output: list[str]) -> str:
    text = "".join(output[-TAIL_LINES:])
    skipped = max(len(output) - TAIL_LINES, 0)
    return (f"[... {skipped} lines]\n" if skipped else "") + text
