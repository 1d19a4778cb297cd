"""The one module that runs buildah.

buildah keeps its images in a storage folder of the modelops cache (not the
machine's /var/lib/containers), so `rm -rf ~/.cache/modelops/images` forgets
everything and nothing else on the machine is touched. Every command runs
with `--isolation chroot` (no runc and no network namespace needed; RUN
steps use the host's network) and never pulls: the stand-in bases are made
locally.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from modelops_cli.images.errors import ImagesError, missing_tool

# Mount points for build-time files (see `trust_mounts`).
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
UV_CONFIG_DIR = "/etc/uv"


@dataclass(frozen=True)
class Buildah:
    storage: Path  # graphroot
    runroot: Path
    config_dir: Path  # storage.conf and the build-time uv config live here

    @classmethod
    def at(cls, images_cache: Path) -> Buildah:
        if shutil.which("buildah") is None:
            raise missing_tool("buildah")
        return cls(
            storage=images_cache / "storage",
            runroot=Path(os.environ.get("XDG_RUNTIME_DIR") or "/run") / "modelops-images",
            config_dir=images_cache / "config",
        )

    # -- plumbing -------------------------------------------------------------

    def _env(self) -> dict[str, str]:
        self.config_dir.mkdir(parents=True, exist_ok=True)
        conf = self.config_dir / "storage.conf"
        text = (
            "[storage]\n"
            'driver = "overlay"\n'
            f'graphroot = "{self.storage}"\n'
            f'runroot = "{self.runroot}"\n'
        )
        if not conf.exists() or conf.read_text() != text:
            conf.write_text(text)
        return {**os.environ, "CONTAINERS_STORAGE_CONF": str(conf), "BUILDAH_ISOLATION": "chroot"}

    def run(self, *args: str, log: Path | None = None, check: bool = True) -> str:
        """Runs `buildah ARGS`; output goes to `log` when given, else it is returned."""
        cmd = ["buildah", *args]
        if log is None:
            proc = subprocess.run(cmd, env=self._env(), capture_output=True, text=True)
            if check and proc.returncode != 0:
                raise ImagesError(f"{' '.join(cmd[:3])} failed: {proc.stderr.strip()[-2000:]}")
            return proc.stdout
        with log.open("a") as out:
            out.write(f"$ {' '.join(cmd)}\n")
            out.flush()
            proc = subprocess.run(cmd, env=self._env(), stdout=out, stderr=subprocess.STDOUT)
        if check and proc.returncode != 0:
            tail = "\n".join(log.read_text().splitlines()[-30:])
            raise ImagesError(f"{' '.join(cmd[:2])} failed (log: {log}):\n{tail}")
        return ""

    # -- queries --------------------------------------------------------------

    def version(self) -> str:
        for line in self.run("version").splitlines():
            if line.startswith("Version:"):
                return line.split(":", 1)[1].strip()
        raise ImagesError("`buildah version` printed no Version line")

    def inspect(self, ref: str) -> dict | None:
        out = subprocess.run(
            ["buildah", "inspect", "--type", "image", ref],
            env=self._env(), capture_output=True, text=True,
        )  # fmt: skip
        return json.loads(out.stdout) if out.returncode == 0 else None

    def label(self, ref: str, key: str) -> str | None:
        info = self.inspect(ref)
        if info is None:
            return None
        return (info.get("OCIv1", {}).get("config", {}).get("Labels") or {}).get(key)

    def image_id(self, ref: str) -> str:
        info = self.inspect(ref)
        if info is None:
            raise ImagesError(f"{ref} is not in buildah's storage ({self.storage})")
        return "sha256:" + info["FromImageID"]

    # -- building -------------------------------------------------------------

    def commit_rootfs(
        self, archive: Path, refs: tuple[str, ...], *, config: list[str], log: Path
    ) -> None:
        """An image of one layer, the archive's files, under every name in `refs`.

        The creation time is fixed, so the same archive and config give the
        same image id every time.
        """
        ctr = self.run("from", "scratch").strip()
        try:
            self.run("add", ctr, str(archive), "/", log=log)
            self.run("config", *config, ctr, log=log)
            self.run("commit", "--format", "docker", "--timestamp", "0", ctr, refs[0], log=log)
        finally:
            self.run("rm", ctr, check=False)
        for ref in refs[1:]:
            self.run("tag", refs[0], ref, log=log)

    def commit_files(self, files: list[Path], ref: str, *, config: list[str], log: Path) -> None:
        """An image from scratch holding `files` at / (the uv image's shape)."""
        ctr = self.run("from", "scratch").strip()
        try:
            self.run("copy", ctr, *map(str, files), "/", log=log)
            self.run("config", *config, ctr, log=log)
            self.run("commit", "--format", "docker", "--timestamp", "0", ctr, ref, log=log)
        finally:
            self.run("rm", ctr, check=False)

    def trust_mounts(self) -> list[str]:
        """Build-time mounts that let RUN steps download through this machine's trust.

        Where a TLS-intercepting proxy re-signs PyPI (as on our CI machines),
        the image's own CA bundle fails; the host's bundle is mounted over it
        for the RUN steps only, and a uv config tells uv to use it. Nothing of
        either is kept in the image (the uv mount point leaves an empty /etc/uv).
        """
        mounts = []
        if Path(CA_BUNDLE).is_file():
            mounts += ["--volume", f"{CA_BUNDLE}:{CA_BUNDLE}:ro"]
            uv_dir = self.config_dir / "uv"
            uv_dir.mkdir(parents=True, exist_ok=True)
            (uv_dir / "uv.toml").write_text("system-certs = true\n")
            mounts += ["--volume", f"{uv_dir}:{UV_CONFIG_DIR}:ro"]
        return mounts

    def bud(
        self, dockerfile: Path, context: Path, ref: str, *, log: Path, target: str | None = None
    ) -> None:
        """`buildah bud`; with `target`, only up to that stage (see `bud_args`)."""
        try:
            self.run(*bud_args(dockerfile, context, ref, self.trust_mounts(), target), log=log)
        finally:
            # buildah 1.28 keeps a mounted working container for each stage used
            # only by COPY --from (the uv stage); the storage is ours and the
            # builder holds its lock, so every container in it can go.
            self.run("rm", "--all", check=False)

    def write_archive(self, ref: str, path: Path, *, log: Path) -> None:
        """A docker-archive (what `ctr images import` and `docker load` read)."""
        partial = path.with_name(path.name + ".partial")
        partial.unlink(missing_ok=True)
        self.run("push", "--quiet", ref, f"docker-archive:{partial}:{ref}", log=log)
        partial.rename(path)

    def remove(self, ref: str) -> None:
        self.run("rmi", ref, check=False)

    def prune(self, *, log: Path | None = None) -> str:
        """Deletes the dangling images of this storage (untagged, nothing built on them).

        buildah 1.28's `rmi --prune` also deletes the untagged layers under
        each one that no other image is built on, and keeps every layer a
        tagged image stands on: the `--layers` cache of the kept images stays
        (their build stages are tagged for that, see catalog.cached_stages).
        Left behind by failed or interrupted builds, by a tag moved to a new
        image (`--force`), and by build stages of older builders.
        """
        return self.run(*PRUNE_ARGS, log=log)

    def refs_of(self, repository: str) -> list[str]:
        out = self.run("images", "--format", "{{.Name}}:{{.Tag}}", check=False)
        return [line for line in out.splitlines() if line.startswith(repository + ":")]


PRUNE_ARGS = ("rmi", "--prune")


def bud_args(
    dockerfile: Path, context: Path, ref: str, mounts: list[str], target: str | None = None
) -> list[str]:
    """The `buildah bud` arguments; `target` builds up to that stage and tags its image.

    The builder runs a target build after the full one: every step is then a
    cache hit, so it only puts a name on the stage's image (see
    catalog.cached_stages).
    """
    return [
        "bud",
        "--format", "docker",  # keeps HEALTHCHECK, which the OCI format drops
        "--isolation", "chroot",
        "--pull=never",
        "--layers",  # unchanged steps (the dependency install) are reused
        *(["--target", target] if target else []),
        *mounts,
        "--file", str(dockerfile),
        "--tag", ref,
        str(context),
    ]  # fmt: skip
