"""The bentos' pinned requirement lists (bentos/requirements/*.txt), from uv.lock."""

from __future__ import annotations

from pathlib import Path

from modelops_cli.images import catalog, lockfile
from modelops_cli.images.errors import ImagesError


def expected(repo: Path, image: catalog.BentoImage) -> str:
    """The list `image`'s bentofile should install, as uv.lock says today."""
    pins = lockfile.closure(
        (repo / "uv.lock").read_text(), image.roots, exclude=catalog.NOT_IN_CPU_IMAGES
    )
    header = f"""\
Generated from uv.lock by `modelops images requirements`; do not edit.
The {image.name} image installs exactly this list (`--no-deps`): the closure of
  {", ".join(image.roots)}
for Linux x86_64 CPython 3.11, without {", ".join(catalog.NOT_IN_CPU_IMAGES)}.
modelops-features and modelops-registry come in as wheels built from this checkout."""
    return lockfile.render(pins, header)


def sync(repo: Path, *, write: bool) -> list[str]:
    """Paths whose content differs from uv.lock's (rewritten when `write`)."""
    stale = []
    for image in catalog.IMAGES.values():
        if not isinstance(image, catalog.BentoImage):
            continue
        try:
            text = expected(repo, image)
        except lockfile.LockError as exc:
            raise ImagesError(f"{image.requirements}: {exc}") from None
        path = repo / image.requirements
        if not path.is_file() or path.read_text() != text:
            stale.append(image.requirements)
            if write:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
    return stale
