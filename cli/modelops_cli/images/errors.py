"""The one error type of the image builder, and the message for a missing tool."""

from __future__ import annotations

import os


class ImagesError(RuntimeError):
    """An image cannot be built; the message says why and what to do."""


# tool -> Debian package that provides it
PACKAGES = {"buildah": "buildah", "debootstrap": "debootstrap", "tar": "tar"}


def missing_tool(tool: str) -> ImagesError:
    package = PACKAGES.get(tool, tool)
    return ImagesError(
        f"{tool} is not installed: run `make images` (tools/images/provision.sh installs "
        f"Debian's {package} and the other build tools), or `apt-get install {package}`"
    )


def require_root() -> None:
    if os.geteuid() != 0:
        raise ImagesError(
            "building images needs root here (debootstrap and buildah's chroot isolation "
            "mount file systems); run it as root, as CI does"
        )
