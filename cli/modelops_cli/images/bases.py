"""Stand-in base images, made on this machine and tagged as the Dockerfiles name them.

There is no registry to pull `python:3.11.13-slim-bookworm` or
`ghcr.io/astral-sh/uv:<version>` from, so:

* the Python and Debian bases are Debian bookworm root filesystems made with
  `debootstrap --variant=minbase` (plus python3 and pip for the Python base),
  slimmed the way Debian's own slim images are (no docs, man pages, locales or
  apt lists), with `/usr/local/bin/python3.11` and friends linked to Debian's
  Python 3.11.2. They are stand-ins: the upstream images carry CPython
  3.11.13 built from source. A user with Docker builds the same Dockerfiles
  against the upstream bases.
* the uv base holds `/uv` and `/uvx` of the release tools/bootstrap.sh pins,
  taken from the PyPI wheel that bootstrap.sh installs (the upstream image is
  the same two binaries on scratch).

Root filesystems are cached by (suite, package list, date) under
`images/rootfs/`; the newest one for a suite and package list is reused until
`--refresh-bases` makes today's. Committing the same archive with the same
config gives the same image id, so a wiped buildah storage is refilled
without changing any image's name.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from modelops_cli.images import catalog, inputs
from modelops_cli.images.buildah import Buildah
from modelops_cli.images.errors import ImagesError, missing_tool

MIRROR = "http://deb.debian.org/debian"
SECURITY_MIRROR = "http://deb.debian.org/debian-security"
INPUT_LABEL = "io.modelops.base-input"

# What Debian's slim images leave out (as their dpkg path-exclude rules do).
SLIM_EXCLUDES = """\
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
"""


def package_key(base: catalog.RootfsBase) -> str:
    text = json.dumps([base.suite, sorted(base.packages), MIRROR])
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def find_rootfs(root: Path, base: catalog.RootfsBase) -> Path | None:
    """The newest complete cached root filesystem for the base's suite and packages."""
    prefix = f"{base.key}-{base.suite}-{package_key(base)}-"
    if not root.is_dir():
        return None
    done = sorted(
        d for d in root.iterdir() if d.name.startswith(prefix) and (d / "rootfs.sha256").is_file()
    )
    return done[-1] if done else None


def make_rootfs(root: Path, base: catalog.RootfsBase, log: Path) -> Path:
    """debootstrap, slim, archive; about a minute. Returns the cache folder."""
    if shutil.which("debootstrap") is None:
        raise missing_tool("debootstrap")
    today = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d")
    final = root / f"{base.key}-{base.suite}-{package_key(base)}-{today}"
    work = root / f".{final.name}.partial"
    shutil.rmtree(work, ignore_errors=True)
    tree = work / "tree"
    tree.mkdir(parents=True)
    cmd = ["debootstrap", "--variant=minbase"]
    if base.packages:
        cmd.append("--include=" + ",".join(base.packages))
    cmd += [base.suite, str(tree), MIRROR]
    with log.open("a") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        if subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT).returncode != 0:
            tail = "\n".join(log.read_text().splitlines()[-20:])
            raise ImagesError(f"debootstrap of {base.suite} failed (log: {log}):\n{tail}")
    slim(tree, base)
    archive = work / "rootfs.tar"
    subprocess.run(
        ["tar", "--numeric-owner", "--xattrs", "--sort=name", "-C", str(tree), "-cf", str(archive), "."],
        check=True,
    )  # fmt: skip
    shutil.rmtree(tree)
    (work / "rootfs.sha256").write_text(inputs.sha256_file(archive) + "\n")
    (work / "packages").write_text("\n".join(["minbase", *base.packages]) + "\n")
    if final.exists():
        shutil.rmtree(final)
    work.rename(final)
    return final


def slim(tree: Path, base: catalog.RootfsBase) -> None:
    """What the upstream slim images do differently from a fresh debootstrap."""
    for pattern in ("usr/share/doc/*/*", "usr/share/man/*", "usr/share/info/*", "usr/share/locale/*",
                    "usr/share/groff/*", "usr/share/lintian/*", "var/lib/apt/lists/*",
                    "var/cache/apt/*.bin", "var/cache/apt/archives/*.deb", "var/log/*.log",
                    "var/cache/debconf/*-old", "var/lib/dpkg/*-old"):  # fmt: skip
        for path in tree.glob(pattern):
            if path.name in ("copyright", "locale.alias") or not path.exists():
                continue
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
    (tree / "etc/dpkg/dpkg.cfg.d/docker-slim").write_text(SLIM_EXCLUDES)
    # The runtime provides these; debootstrap copied the build machine's.
    for name in ("etc/resolv.conf", "etc/hostname"):
        (tree / name).unlink(missing_ok=True)
    (tree / "etc/machine-id").write_text("")
    # The upstream images list bookworm, its updates and security fixes.
    (tree / "etc/apt/sources.list").unlink(missing_ok=True)
    (tree / "etc/apt/sources.list.d/debian.sources").write_text(
        f"Types: deb\nURIs: {MIRROR}\nSuites: {base.suite} {base.suite}-updates\n"
        "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
        f"Types: deb\nURIs: {SECURITY_MIRROR}\nSuites: {base.suite}-security\n"
        "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
    )
    # The upstream Python is not Debian's: pip may install into it (BentoML's
    # Dockerfile runs `pip install uv`).
    for marker in tree.glob("usr/lib/python3*/EXTERNALLY-MANAGED"):
        marker.unlink()
    for link, target in base.links:
        path = tree / link
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        os.symlink(target, path)


def rootfs_config(base: catalog.RootfsBase, identity: str) -> list[str]:
    args = []
    for key, value in base.env:
        args += ["--env", f"{key}={value}"]
    args += ["--cmd", json.dumps(list(base.cmd)), "--label", f"{INPUT_LABEL}={identity}"]
    return args


def rootfs_identity(folder: Path, base: catalog.RootfsBase) -> str:
    """What the base image is a function of: the archive and the config applied to it."""
    return inputs.input_hash(
        {
            "rootfs": folder.name,
            "sha256": (folder / "rootfs.sha256").read_text().strip(),
            "env": base.env,
            "cmd": base.cmd,
            "refs": base.refs,
        }
    )[:32]


def uv_binaries(cache: Path, version: str) -> list[Path]:
    """uv and uvx of the pinned release, as tools/bootstrap.sh installs them."""
    folder = cache / "tools" / f"uv-{version}" / "bin"
    binaries = [folder / "uv", folder / "uvx"]
    if not all(b.is_file() for b in binaries):
        raise ImagesError(
            f"uv {version} is not at {folder}: run `make images` "
            "(tools/images/provision.sh installs it from PyPI, as tools/bootstrap.sh does)"
        )
    return binaries


def uv_identity(cache: Path, version: str) -> str:
    digests = [inputs.sha256_file(b) for b in uv_binaries(cache, version)]
    return inputs.input_hash({"uv": version, "sha256": digests})[:32]


class Bases:
    """The stand-in bases: their identities (for image hashes) and their presence in storage."""

    def __init__(
        self,
        cache: Path,
        repo: Path,
        *,
        refresh: bool = False,
        echo: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.cache = cache
        self.echo = echo
        self.rootfs_root = cache / "images" / "rootfs"
        self.uv_version = catalog.uv_version(repo)
        self.refresh = refresh
        self._refreshed: set[str] = set()

    def known(self) -> dict[str, catalog.RootfsBase | catalog.UvBase]:
        table: dict[str, catalog.RootfsBase | catalog.UvBase] = {}
        for base in (catalog.PYTHON_BASE, catalog.DEBIAN_BASE):
            for ref in base.refs:
                table[ref] = base
        uv = catalog.UvBase(f"ghcr.io/astral-sh/uv:{self.uv_version}")
        table[uv.ref_repo] = uv
        return table

    def lookup(self, ref: str) -> catalog.RootfsBase | catalog.UvBase:
        base = self.known().get(catalog.normalize_ref(ref))
        if base is None:
            raise ImagesError(
                f"no stand-in for base image {ref}: the images here are built only on "
                f"{', '.join(sorted(self.known()))}"
            )
        return base

    def identity(self, ref: str, log: Path | None = None) -> str:
        """The base's identity, making its root filesystem first when none is cached."""
        base = self.lookup(ref)
        if isinstance(base, catalog.UvBase):
            return uv_identity(self.cache, self.uv_version)
        return rootfs_identity(self.rootfs(base, log), base)

    def rootfs(self, base: catalog.RootfsBase, log: Path | None) -> Path:
        folder = find_rootfs(self.rootfs_root, base)
        wants_new = self.refresh and base.key not in self._refreshed
        if folder is None or wants_new:
            if log is None:
                raise ImagesError(
                    f"the {base.key} base has not been made yet: run `modelops images build`"
                )
            self.rootfs_root.mkdir(parents=True, exist_ok=True)
            self.echo(
                f"making the {base.key} base: debootstrap {base.suite} (about a minute; log: {log})"
            )
            start = time.monotonic()
            folder = make_rootfs(self.rootfs_root, base, log)
            self.echo(f"made the {base.key} base in {time.monotonic() - start:.0f} s: {folder}")
            self._refreshed.add(base.key)
        return folder

    def ensure(self, buildah: Buildah, ref: str, log: Path) -> str:
        """Puts the base in buildah's storage (if its label differs) and returns its identity."""
        base = self.lookup(ref)
        identity = self.identity(ref, log)
        if isinstance(base, catalog.UvBase):
            if buildah.label(base.ref_repo, INPUT_LABEL) != identity:
                config = ["--entrypoint", '["/uv"]', "--label", f"{INPUT_LABEL}={identity}"]
                buildah.commit_files(
                    uv_binaries(self.cache, self.uv_version), base.ref_repo, config=config, log=log
                )
            return identity
        if any(buildah.label(r, INPUT_LABEL) != identity for r in base.refs):
            archive = self.rootfs(base, log) / "rootfs.tar"
            buildah.commit_rootfs(archive, base.refs, config=rootfs_config(base, identity), log=log)
        return identity
