"""The product images, built once per session, and ways to look inside them.

`built_images` (session fixture) runs `modelops_cli.images.ensure()`: a warm
machine only hashes the inputs; a cold one builds everything (about 10
minutes on 2 cores). Node tests that need the images can import it.

Images are inspected three ways: their config read from the docker-archive
itself (what a node imports), commands run in them with `buildah run`
(chroot isolation, as a given user), and a server started in them the way
the kubelet would start the pod: read-only root, a numeric user, only the
pod's volumes writable.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from modelops_cli.images import BuiltImage, ensure
from modelops_cli.images.buildah import Buildah
from modelops_cli.images.builder import cache_root, storage_lock


@pytest.fixture(scope="session")
def built_images() -> dict[str, BuiltImage]:
    if os.geteuid() != 0:
        pytest.fail("the image tests need root (buildah's chroot isolation, debootstrap)")
    missing = [tool for tool in ("buildah", "debootstrap", "unshare") if shutil.which(tool) is None]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} missing: run `make images-tools` (tools/images/provision.sh)"
        )
    return {image.name: image for image in ensure()}


def archive_config(image: BuiltImage) -> dict:
    """The image config inside the docker-archive (manifest.json -> config blob)."""
    with tarfile.open(image.archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        (entry,) = manifest
        assert entry["RepoTags"] == [image.ref], entry["RepoTags"]
        return json.load(tar.extractfile(entry["Config"]))  # type: ignore[arg-type]


def buildah() -> Buildah:
    return Buildah.at(cache_root() / "images")


@contextmanager
def container(image: BuiltImage) -> Iterator[str]:
    """A working container of the image (loaded from its archive if storage lost it)."""
    tool = buildah()
    # The store's lock while the container exists: an image build in another
    # process ends with `buildah rm --all` and would remove it.
    with storage_lock(cache_root() / "images"):
        if tool.inspect(image.ref) is None:
            tool.run("pull", f"docker-archive:{image.archive}")
        ctr = tool.run("from", "--pull=never", image.ref).strip()
        try:
            yield ctr
        finally:
            tool.run("rm", ctr, check=False)


def run_in(image: BuiltImage, user: str, *argv: str, timeout: float = 300) -> str:
    """`argv` in the image as `user`; its stdout + stderr (fails the test on a non-zero exit)."""
    with container(image) as ctr:
        env = buildah()._env()
        cmd = ["buildah", "run", "--isolation", "chroot", "--user", user, ctr, "--", *argv]
        proc = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=timeout
        )  # fmt: skip
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, (
        f"{' '.join(argv)} in {image.ref} exited {proc.returncode}:\n{output[-3000:]}"
    )
    return output


# Mounts what the kubelet would (read-only root, volumes, /proc, /dev), then
# becomes the pod's user. Runs inside `unshare --mount --pid --fork`.
POD_SCRIPT = r"""
set -e
root="$1"; uid="$2"; workdir="$3"; shift 3
mount --make-rprivate /
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
while [ "$1" != "--" ]; do
    case "$1" in
        tmpfs:*) mount -t tmpfs -o "size=256m,mode=0777" tmpfs "$root${1#tmpfs:}" ;;
        bind:*) spec="${1#bind:}"; mount --bind "${spec%%=*}" "$root${spec#*=}" ;;
    esac
    shift
done
shift
mount -o remount,bind,ro "$root"
exec chroot --userspec="$uid:$uid" "$root" /bin/sh -c 'cd "$0" && exec /usr/bin/env -i "$@"' "$workdir" "$@"
"""


@contextmanager
def pod(
    image: BuiltImage,
    uid: int,
    env: dict[str, str],
    tmpfs: list[str],
    binds: dict[str, str],
    log: Path,
) -> Iterator[subprocess.Popen]:
    """The image's entrypoint as `uid` on a read-only root; only `tmpfs` and `binds` writable."""
    config = archive_config(image)["config"]
    with container(image) as ctr:
        tool = buildah()
        root = Path(tool.run("mount", ctr).strip())
        # The runtime creates volume mount points before making the root read-only.
        for target in [*tmpfs, *binds.values()]:
            (root / target.lstrip("/")).mkdir(parents=True, exist_ok=True)
        image_env = dict(item.split("=", 1) for item in config.get("Env") or [])
        argv = [*(config.get("Entrypoint") or []), *(config.get("Cmd") or [])]
        mounts = [f"tmpfs:{t}" for t in tmpfs] + [f"bind:{src}={dst}" for src, dst in binds.items()]
        cmd = [
            "unshare", "--mount", "--pid", "--fork", "--kill-child",
            "bash", "-c", POD_SCRIPT, "pod", str(root), str(uid), config.get("WorkingDir") or "/",
            *mounts, "--",
            *[f"{k}={v}" for k, v in {**image_env, **env}.items()], *argv,
        ]  # fmt: skip
        with log.open("w") as out:
            proc = subprocess.Popen(
                cmd,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, 9)
                    proc.wait(timeout=10)
            tool.run("umount", ctr, check=False)


# Straight to the loopback address, whatever proxy the environment names.
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the server exited {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with NO_PROXY.open(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"{url} not 200 within {timeout} s:\n{log.read_text()[-3000:]}")
