"""Pinned requirement lists for the bento images, cut from uv.lock.

A bentofile names its direct dependencies; installed from ranges, an image
built next month would get other versions than the tests ran, and the xgboost
wheel would drag in nvidia-nccl-cu12 (about 470 MB, used only for multi-GPU
collectives). So each bento installs a pinned, hash-checked list: the
dependency closure of its direct dependencies as uv.lock resolved it, for the
image's platform (Linux x86_64, CPython 3.11), minus the packages it must not
carry. The bentofile installs that list with `--no-deps`, so nothing outside
it comes in.

Pure: uv.lock text in, requirements text out.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass

# The platform the images run on (Debian bookworm's CPython 3.11 on x86_64).
IMAGE_MARKER_ENV = {
    "implementation_name": "cpython",
    "implementation_version": "3.11.2",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "platform_python_implementation": "CPython",
    "platform_release": "",
    "platform_system": "Linux",
    "platform_version": "",
    "python_full_version": "3.11.2",
    "python_version": "3.11",
    "sys_platform": "linux",
}


class LockError(ValueError):
    """uv.lock cannot give the requested closure (a missing package, say)."""


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    hashes: tuple[str, ...]


def _normalize(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _applies(marker: str | None, extra: str = "") -> bool:
    if not marker:
        return True
    # Imported here: `modelops --help` loads this command group in the
    # operator and training images, which do not carry packaging.
    try:
        from packaging.markers import Marker
    except ImportError:
        raise LockError(
            "the 'packaging' library is needed to read uv.lock's markers: run this "
            "from the development workspace (tools/bootstrap.sh)"
        ) from None
    return Marker(marker).evaluate({**IMAGE_MARKER_ENV, "extra": extra})


def closure(lock_text: str, roots: Iterable[str], exclude: Iterable[str] = ()) -> list[Pin]:
    """Every registry package `roots` need on the image's platform, sorted by name.

    Workspace members (editable / virtual sources) are walked through but not
    pinned: the bento installs them as wheels built from this checkout.
    `exclude` names packages left out together with whatever only they need.
    """
    packages = {_normalize(p["name"]): p for p in tomllib.loads(lock_text)["package"]}
    excluded = {_normalize(name) for name in exclude}
    seen: set[str] = set()
    # (name, extras requested for it)
    todo: list[tuple[str, tuple[str, ...]]] = [(_normalize(r), ()) for r in roots]
    visited_extras: set[tuple[str, str]] = set()
    while todo:
        name, extras = todo.pop()
        if name in excluded:
            continue
        package = packages.get(name)
        if package is None:
            raise LockError(f"{name} is not in uv.lock (run `uv lock` after changing a pyproject)")
        deps = []
        if name not in seen:
            seen.add(name)
            deps.extend(package.get("dependencies", []))
        for extra in extras:
            if (name, extra) not in visited_extras:
                visited_extras.add((name, extra))
                deps.extend(package.get("optional-dependencies", {}).get(extra, []))
        for dep in deps:
            if _applies(dep.get("marker")):
                todo.append((_normalize(dep["name"]), tuple(dep.get("extra", ()))))
    pins = []
    for name in sorted(seen):
        package = packages[name]
        if "registry" not in package.get("source", {}):
            continue
        artefacts = [package["sdist"]] if "sdist" in package else []
        artefacts += package.get("wheels", [])
        pins.append(Pin(name, package["version"], tuple(a["hash"] for a in artefacts)))
    return pins


def render(pins: list[Pin], header: str) -> str:
    """A pip / uv requirements file, one hash-checked pin per package."""
    lines = [f"# {line}".rstrip() for line in header.strip().splitlines()]
    for pin in pins:
        lines.append(f"{pin.name}=={pin.version} \\")
        for i, digest in enumerate(pin.hashes):
            lines.append(f"    --hash={digest}" + (" \\" if i < len(pin.hashes) - 1 else ""))
    return "\n".join(lines) + "\n"
