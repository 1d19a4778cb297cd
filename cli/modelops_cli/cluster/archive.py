"""Writing container images as docker-archive tarballs, without Docker.

A docker-archive (what `docker save` writes and `ctr images import` reads) is a
tar holding `manifest.json`, one image config JSON named by its sha256 and one
uncompressed layer tar per layer. The images of the local node (the pause
sandbox, CoreDNS, test images) are single static binaries, so one layer is
enough: it is built from a directory (a root filesystem) or from a mapping of
image paths to files.

Everything is written deterministically (sorted entries, zero timestamps,
root ownership for mapped files), so the same inputs give the same digests:
a rebuilt archive is recognised as the image containerd already holds.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

# `name[:tag]` where name is registry host + path, lower case (what containerd
# and the kubelet accept as a reference); a tag is required so the image is
# never implicitly `:latest`, which the kubelet would try to pull.
_REF = re.compile(
    r"^(?P<name>[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r":(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$"
)
_CHUNK = 1 << 20


class ArchiveError(ValueError):
    """Bad input for an image archive; the message names the field."""


@dataclass(frozen=True)
class File:
    """One file of a layer given by content or by a path on this machine."""

    source: Path | bytes
    mode: int = 0o755


@dataclass(frozen=True)
class ImageConfig:
    """The runtime part of an image config (what `docker inspect` calls Config)."""

    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: tuple[str, ...] = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",)
    user: str = ""
    workdir: str = ""
    exposed_ports: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict:
        config: dict = {"Env": list(self.env)}
        if self.entrypoint:
            config["Entrypoint"] = list(self.entrypoint)
        if self.cmd:
            config["Cmd"] = list(self.cmd)
        if self.user:
            config["User"] = self.user
        if self.workdir:
            config["WorkingDir"] = self.workdir
        if self.exposed_ports:
            config["ExposedPorts"] = {port: {} for port in self.exposed_ports}
        if self.labels:
            config["Labels"] = dict(sorted(self.labels.items()))
        return config


@dataclass(frozen=True)
class Archive:
    """What was written: the reference and the digests containerd will report."""

    ref: str
    path: Path
    config_digest: str
    layer_diff_id: str
    size: int


def check_ref(ref: str) -> str:
    """Return `ref` if it is a tagged, lower-case image reference, else raise."""
    if not isinstance(ref, str) or not _REF.match(ref):
        raise ArchiveError(
            f"ref: {ref!r} is not an image reference of the form "
            "registry.host/name:tag (lower-case name, a tag is required)"
        )
    return ref


def _layer_path(path: str) -> str:
    pure = PurePosixPath("/", path)
    if ".." in pure.parts or str(pure) == "/":
        raise ArchiveError(f"files: {path!r} is not a file path inside the image")
    return str(pure.relative_to("/"))


def _info(name: str, kind: bytes, mode: int, size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.size = size
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _parents(paths: list[str]) -> list[str]:
    parents = set()
    for path in paths:
        parts = PurePosixPath(path).parts[:-1]
        for i in range(1, len(parts) + 1):
            parents.add(str(PurePosixPath(*parts[:i])))
    return sorted(parents)


def _write_files_layer(files: Mapping[str, File | Path | bytes], out: tarfile.TarFile) -> None:
    entries = {}
    for path, spec in files.items():
        entry = spec if isinstance(spec, File) else File(spec)
        entries[_layer_path(path)] = entry
    for directory in _parents(list(entries)):
        if directory not in entries:
            out.addfile(_info(directory, tarfile.DIRTYPE, 0o755))
    for path in sorted(entries):
        entry = entries[path]
        if isinstance(entry.source, bytes):
            data = entry.source
        else:
            source = Path(entry.source)
            if not source.is_file():
                raise ArchiveError(f"files[{path!r}]: {source} is not a readable file")
            data = source.read_bytes()
        out.addfile(_info(path, tarfile.REGTYPE, entry.mode, len(data)), io.BytesIO(data))


def _write_dir_layer(root: Path, out: tarfile.TarFile) -> None:
    # Ownership and modes of a root filesystem matter (setuid binaries, files
    # owned by a service user), so they are kept; only timestamps are zeroed.
    # tarfile records hard links itself (it remembers inodes it has seen), and
    # os.walk lists a symlinked directory without descending into it, so the
    # link is stored as a link.
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames) + sorted(filenames):
            path = Path(dirpath) / name
            info = out.gettarinfo(str(path), str(path.relative_to(root)))
            info.mtime = 0
            info.uname = info.gname = ""
            if info.isreg():
                with open(path, "rb") as handle:
                    out.addfile(info, handle)
            else:
                out.addfile(info)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _add_bytes(out: tarfile.TarFile, name: str, data: bytes) -> None:
    out.addfile(_info(name, tarfile.REGTYPE, 0o644, len(data)), io.BytesIO(data))


def image_config(diff_id: str, config: ImageConfig, architecture: str = "amd64") -> bytes:
    """The image config JSON (OCI/Docker image spec) for a one-layer image."""
    document = {
        "architecture": architecture,
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": config.to_json(),
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{diff_id}"]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "modelops archive writer"}],
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def write_docker_archive(
    rootfs_dir_or_files: Path | str | Mapping[str, File | Path | bytes],
    ref: str,
    out: Path | str,
    config: ImageConfig | None = None,
) -> Archive:
    """Write a one-layer docker-archive of `rootfs_dir_or_files` tagged `ref` to `out`.

    `rootfs_dir_or_files` is either a directory (its contents become the
    image's root) or a mapping from paths inside the image to a `File`, a
    local path or bytes (mode 0755, owned by root). The archive is written
    beside `out` and renamed into place, so a reader never sees half a file.
    """
    check_ref(ref)
    out = Path(out)
    config = config or ImageConfig()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".archive-") as scratch:
        layer = Path(scratch) / "layer.tar"
        with tarfile.open(layer, "w", format=tarfile.PAX_FORMAT) as tar:
            if isinstance(rootfs_dir_or_files, Mapping):
                if not rootfs_dir_or_files:
                    raise ArchiveError("files: an image needs at least one file")
                _write_files_layer(rootfs_dir_or_files, tar)
            else:
                root = Path(rootfs_dir_or_files)
                if not root.is_dir():
                    raise ArchiveError(f"rootfs: {root} is not a directory")
                _write_dir_layer(root, tar)
        diff_id = _sha256_file(layer)
        config_bytes = image_config(diff_id, config)
        config_digest = hashlib.sha256(config_bytes).hexdigest()
        manifest = [
            {
                "Config": f"{config_digest}.json",
                "RepoTags": [ref],
                "Layers": [f"{diff_id}/layer.tar"],
            }
        ]
        partial = Path(scratch) / "image.tar"
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
            _add_bytes(tar, "manifest.json", json.dumps(manifest).encode())
            _add_bytes(tar, f"{config_digest}.json", config_bytes)
            tar.addfile(_info(diff_id, tarfile.DIRTYPE, 0o755))
            with open(layer, "rb") as handle:
                info = _info(f"{diff_id}/layer.tar", tarfile.REGTYPE, 0o644, layer.stat().st_size)
                tar.addfile(info, handle)
        partial.replace(out)
    return Archive(
        ref=ref,
        path=out,
        config_digest=f"sha256:{config_digest}",
        layer_diff_id=f"sha256:{diff_id}",
        size=out.stat().st_size,
    )


def archive_refs(path: Path | str) -> list[str]:
    """The image references a docker-archive or OCI archive carries.

    docker-archives name them in manifest.json (RepoTags); OCI archives in
    index.json annotations. Used to report what `cluster load` imported and
    to refuse a file that is no image archive before containerd sees it.
    """
    path = Path(path)
    try:
        with tarfile.open(path) as tar:
            names = set(tar.getnames())
            if "manifest.json" in names:
                manifest = json.load(tar.extractfile("manifest.json"))
                return [tag for entry in manifest for tag in entry.get("RepoTags") or []]
            if "index.json" in names:
                index = json.load(tar.extractfile("index.json"))
                refs = []
                for entry in index.get("manifests") or []:
                    annotations = entry.get("annotations") or {}
                    ref = annotations.get("io.containerd.image.name") or annotations.get(
                        "org.opencontainers.image.ref.name"
                    )
                    if ref:
                        refs.append(ref)
                return refs
    except tarfile.TarError as exc:
        raise ArchiveError(f"{path}: not a tar archive") from exc
    except (OSError, ValueError) as exc:
        raise ArchiveError(f"{path}: not a readable image archive ({exc})") from exc
    raise ArchiveError(f"{path}: neither a docker-archive (manifest.json) nor an OCI archive")
