"""The fenced command blocks of README.md and docs/*.md, and the markers that say where each runs.

A block is a fence opened with ```bash, ```sh or ```console. In a console
block only the lines after a `$ ` prompt (and their `\\` continuations) are
commands; the rest is sample output. Every block runs as written in the
`docs` test layer unless the line right before its fence (blank lines
between are allowed) is one of these markers:

  <!-- illustrative -->                a shape to copy (placeholders, a registry or
                                        cloud the reader has, flags to pick from)
  <!-- not-run: REASON -->              runs elsewhere or cannot run in CI (e.g. it
                                        is a test layer or a benchmark itself)
  <!-- needs: controlplane -->          runs against `modelops controlplane` (a
                                        kube-apiserver with kwok nodes)
  <!-- needs: node -->                  runs on a real node (`modelops cluster`):
                                        tests/node/test_docs_node_blocks.py says where

Any other HTML comment right before a fence is an error, so a misspelt
marker cannot silently turn a block off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LANGUAGES = ("bash", "sh", "console")
LAYERS = ("controlplane", "node")  # what `needs:` may name
FENCE = re.compile(r"^```(\w+)?\s*$")
COMMENT = re.compile(r"^<!--\s*(.*?)\s*-->$")
PROMPT = "$ "


class MarkerError(ValueError):
    """A comment before a fence that is not a known marker; names file:line."""


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    language: str
    text: str  # the commands, as a shell would read them
    marker: str | None = None  # illustrative | not-run | needs
    detail: str = ""  # the not-run reason, or the layer a `needs` names

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"

    @property
    def runs_without_cluster(self) -> bool:
        return self.marker is None

    def needs(self, layer: str) -> bool:
        return self.marker == "needs" and self.detail == layer


def doc_files(root: Path = REPO) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def parse_marker(comment: str, where: str) -> tuple[str, str]:
    """(marker, detail) of the text inside <!-- -->; MarkerError naming `where` otherwise."""
    if comment == "illustrative":
        return "illustrative", ""
    key, sep, value = comment.partition(":")
    key, value = key.strip(), value.strip()
    if sep and key == "not-run" and value:
        return "not-run", value
    if sep and key == "needs" and value in LAYERS:
        return "needs", value
    raise MarkerError(
        f"{where}: the comment before this fence is not a docs-test marker: <!-- {comment} -->; "
        f"use <!-- illustrative -->, <!-- not-run: REASON --> or <!-- needs: "
        f"{'|'.join(LAYERS)} --> (tests/docs/blocks.py)"
    )


def console_commands(lines: list[str]) -> list[str]:
    """The command lines of a console transcript: after `$ `, with `\\` continuations."""
    commands: list[str] = []
    continued = False
    for line in lines:
        if line.startswith(PROMPT) or continued:
            command = line[len(PROMPT) :] if line.startswith(PROMPT) and not continued else line
            commands.append(command)
            continued = command.rstrip().endswith("\\")
    return commands


def extract(path: Path) -> list[Block]:
    """Every command block of one Markdown file, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        opened = FENCE.match(lines[i])
        if not opened:
            i += 1
            continue
        language = opened.group(1) or ""
        end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("```")), None)
        if end is None:
            raise MarkerError(f"{path.relative_to(REPO)}:{i + 1}: a fence that is never closed")
        if language in LANGUAGES:
            body = lines[i + 1 : end]
            if language == "console":
                body = console_commands(body)
            marker, detail = _marker_before(lines, i, f"{path.relative_to(REPO)}:{i + 1}")
            blocks.append(Block(path, i + 1, language, "\n".join(body) + "\n", marker, detail))
        i = end + 1
    return blocks


def _marker_before(lines: list[str], fence: int, where: str) -> tuple[str | None, str]:
    j = fence - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    comment = COMMENT.match(lines[j].strip()) if j >= 0 else None
    if comment is None:
        return None, ""
    return parse_marker(comment.group(1), where)


def all_blocks(root: Path = REPO) -> list[Block]:
    return [block for path in doc_files(root) for block in extract(path)]
