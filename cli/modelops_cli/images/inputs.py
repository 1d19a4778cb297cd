"""The inputs of an image build, and the hash that names the image.

An image is named `modelops.local/<name>:<hash12>`, where the hash covers
every input: the Dockerfile, every file the build context lets through, the
bases, the tools' versions. The same inputs give the same name, so a build
whose archive exists is skipped; any change to an input gives a new name.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from modelops_cli.images import ignore

# Bumped when the way images are built changes in a way their inputs do not show.
RECIPE = "1"


def context_files(root: Path, patterns: list[ignore.Pattern]) -> list[str]:
    """Files (and symlinks) below `root` that the ignore patterns let through, sorted.

    Directories that are ignored and that no `!` pattern could reach into
    are not walked: the repository root holds .venv and caches.
    """
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        rel_dir = "" if rel_dir == "." else rel_dir.replace(os.sep, "/")
        kept = []
        for name in sorted(dirnames):
            rel = f"{rel_dir}/{name}" if rel_dir else name
            full = os.path.join(dirpath, name)
            if os.path.islink(full):
                # A symlink to a directory is one entry, like a file.
                filenames.append(name)
            elif not (ignore.is_ignored(rel, patterns) and not _reachable(rel, patterns)):
                kept.append(name)
        dirnames[:] = kept
        for name in filenames:
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if not ignore.is_ignored(rel, patterns):
                found.append(rel)
    return sorted(found)


def _reachable(directory: str, patterns: list[ignore.Pattern]) -> bool:
    """Whether some `!` pattern could re-include a path below `directory`."""
    parts = directory.split("/")
    for pattern in patterns:
        if not pattern.exclusion:
            continue
        literal = []
        for segment in ignore.clean(pattern.text).split("/"):
            if any(ch in segment for ch in "*?[\\"):
                break
            literal.append(segment)
        else:
            # A fully literal pattern only reaches below `directory` if it names it or
            # something inside it.
            if literal[: len(parts)] == parts:
                return True
            continue
        n = min(len(literal), len(parts))
        if literal[:n] == parts[:n]:
            return True
    return False


def file_entry(root: Path, rel: str) -> str:
    """One line of a context manifest: path, kind/mode, content digest."""
    path = root / rel
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode):
        return f"{rel}\tlink\t{os.readlink(path)}"
    mode = "x" if info.st_mode & 0o111 else "-"
    return f"{rel}\t{mode}\t{sha256_file(path)}"


def manifest_digest(root: Path, files: Iterable[str]) -> str:
    lines = "\n".join(file_entry(root, rel) for rel in files)
    return hashlib.sha256(lines.encode()).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def input_hash(parts: dict[str, Any]) -> str:
    """The hash of a build's inputs; every value must be JSON (strings, lists, dicts)."""
    canonical = json.dumps({"recipe": RECIPE, **parts}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
