"""The node tests' probe image (tests/node/probe, a static Go binary) as a docker-archive."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from modelops_testkit import SetupError

REPO_ROOT = Path(__file__).resolve().parents[2]
PROBE_SOURCE = REPO_ROOT / "tests" / "node" / "probe"


def cache_root() -> Path:
    return Path(os.environ.get("MODELOPS_CACHE") or Path.home() / ".cache" / "modelops")


def build_probe(cache: Path | None = None) -> tuple[str, Path]:
    """Build tests/node/probe into a docker-archive; return (ref, archive).

    Cached by the hash of its sources and the Go version, like the project's
    other builds: a second session reuses the archive.
    """
    from modelops_cli.cluster import File, ImageConfig, write_docker_archive

    go = shutil.which("go") or "/usr/local/go/bin/go"
    if not Path(go).exists():
        raise SetupError(
            "the node tests build their probe image with Go 1.26 (https://go.dev/dl/); "
            "`make node` needs it too"
        )
    version = subprocess.run(
        [go, "version"], capture_output=True, text=True, check=True, env=_go_env()
    ).stdout
    digest = hashlib.sha256(version.encode())
    for path in sorted(PROBE_SOURCE.iterdir()):
        digest.update(path.name.encode() + path.read_bytes())
    tag = digest.hexdigest()[:12]
    directory = (cache or cache_root() / "node") / f"probe-{tag}"
    ref = f"modelops.local/node-probe:{tag}"
    archive = directory / "probe.tar"
    if archive.is_file():
        return ref, archive
    directory.mkdir(parents=True, exist_ok=True)
    binary = directory / "probe"
    result = subprocess.run(
        [go, "build", "-trimpath", "-ldflags=-s -w", "-o", str(binary), "."],
        cwd=PROBE_SOURCE,
        capture_output=True,
        text=True,
        env=_go_env(),
        check=False,
    )
    if result.returncode != 0:
        raise SetupError(f"go build of {PROBE_SOURCE} failed:\n{result.stderr}")
    config = ImageConfig(entrypoint=("/probe",), cmd=("serve",), env=(), user="65532:65532")
    write_docker_archive({"probe": File(binary)}, ref, archive, config=config)
    return ref, archive


def _go_env() -> dict[str, str]:
    return {**os.environ, "GOTOOLCHAIN": "local", "CGO_ENABLED": "0", "GOFLAGS": "-mod=readonly"}
