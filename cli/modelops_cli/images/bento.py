"""Bento images: the bentofile's inputs, `bentoml build`, and the generated Dockerfile.

The build context of `bentoml build` is bentos/; which of its files go into
the bento is decided by the bentofile's include / exclude globs and the
`.bentoignore` files, with pathspec's gitwildmatch rules, as BentoML decides
(`BentoPathSpec` in bentoml/_internal/bento/build_config.py). The shared
workspace packages go in as wheels built from this checkout, and the
dependencies as the pinned list the bentofile names. `bentoml build` then
writes `env/docker/Dockerfile` into the bento; the bento folder is that
Dockerfile's build context.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from modelops_cli.images import catalog, ignore, inputs
from modelops_cli.images.errors import ImagesError

# bentoml always leaves these out (BentoPathSpec.extra).
BENTOML_EXTRA_IGNORES = [".git/", ".venv/", "venv/", "__pycache__/", ".DS_Store"]
# Workspace packages a bentofile installs as wheels: distribution -> folder.
WHEEL_SOURCES = {"modelops_features": "features", "modelops_registry": "registry"}
# Build output and caches inside a package folder are not sources.
SOURCE_IGNORES = ignore.parse("**/__pycache__\n**/*.pyc\ndist\nbuild\n*.egg-info\n.pytest_cache")


def load_bentofile(repo: Path, image: catalog.BentoImage) -> dict[str, Any]:
    path = repo / image.bentofile
    try:
        config = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ImagesError(f"{image.bentofile}: cannot read it ({exc})") from None
    if not isinstance(config, dict) or "service" not in config:
        raise ImagesError(f"{image.bentofile}: not a bentofile (no `service`)")
    return config


def context_dir(repo: Path, image: catalog.BentoImage) -> Path:
    """bentos/: the folder whose `modelops_bentos/...` the bentofile's globs name."""
    path = (repo / image.bentofile).resolve()
    for parent in path.parents:
        if (parent / "modelops_bentos").is_dir():
            return parent
    raise ImagesError(f"{image.bentofile}: no modelops_bentos/ above it")


def selected_files(context: Path, config: dict[str, Any]) -> list[str]:
    """The context files `bentoml build` copies into the bento's src/, sorted."""
    try:
        from pathspec import PathSpec
    except ImportError:
        raise ImagesError(
            "pathspec (a dependency of bentoml) is missing: bento images are built from the "
            "development workspace (tools/bootstrap.sh)"
        ) from None
    include = PathSpec.from_lines("gitwildmatch", config.get("include") or ["*"])
    exclude = PathSpec.from_lines("gitwildmatch", config.get("exclude") or [])
    extra = PathSpec.from_lines("gitwildmatch", BENTOML_EXTRA_IGNORES)
    recursive = [
        (ign.parent.relative_to(context).as_posix(), PathSpec.from_lines("gitwildmatch", ign.read_text().splitlines()))
        for ign in sorted(context.rglob(".bentoignore"))
    ]  # fmt: skip
    chosen = []
    for dirpath, dirnames, filenames in os.walk(context):
        dirnames[:] = [d for d in dirnames if d not in (".git", ".venv", "venv", "__pycache__")]
        for name in filenames:
            rel = Path(dirpath, name).relative_to(context).as_posix()
            if not include.match_file(rel) or exclude.match_file(rel) or extra.match_file(rel):
                continue
            if any(
                spec.match_file(os.path.relpath(rel, parent))
                for parent, spec in recursive
                if parent == "." or rel.startswith(parent + "/")
            ):
                continue
            chosen.append(rel)
    return sorted(chosen)


def wheel_sources(config: dict[str, Any]) -> dict[str, str]:
    """Wheel path in the bentofile -> the workspace folder it is built from."""
    sources = {}
    for wheel in config.get("python", {}).get("wheels") or []:
        dist = Path(wheel).name.split("-", 1)[0]
        if dist not in WHEEL_SOURCES:
            raise ImagesError(
                f"bentofile wheel {wheel}: not a workspace package this builder can build "
                f"({', '.join(WHEEL_SOURCES)})"
            )
        sources[wheel] = WHEEL_SOURCES[dist]
    return sources


def dockerfile_template(config: dict[str, Any]) -> str | None:
    """The bentofile's `docker.dockerfile_template`, relative to the context, if any."""
    template = (config.get("docker") or {}).get("dockerfile_template")
    return Path(template).as_posix().removeprefix("./") if template else None


def bentoml_version() -> str:
    try:
        return importlib.metadata.version("bentoml")
    except importlib.metadata.PackageNotFoundError:
        raise ImagesError(
            "bentoml is not installed here: bento images are built from the development "
            "workspace (tools/bootstrap.sh)"
        ) from None


def input_parts(repo: Path, image: catalog.BentoImage, uv: str) -> dict[str, Any]:
    """Everything the bento (and so its image) is made from, as digests."""
    config = load_bentofile(repo, image)
    context = context_dir(repo, image)
    files = selected_files(context, config)
    requirements = repo / image.requirements
    if not requirements.is_file():
        raise ImagesError(f"{image.requirements} is missing: run `modelops images requirements`")
    wheels = {}
    for wheel, folder in sorted(wheel_sources(config).items()):
        source = repo / folder
        wheels[wheel] = inputs.manifest_digest(source, inputs.context_files(source, SOURCE_IGNORES))
    template = dockerfile_template(config)
    return {
        "bentofile": inputs.sha256_file(repo / image.bentofile),
        "dockerfile_template": inputs.sha256_file(context / template) if template else None,
        "files": inputs.manifest_digest(context, files),
        "requirements": inputs.sha256_file(requirements),
        "wheels": wheels,
        "bentoml": bentoml_version(),
        "uv": uv,
    }


def build_bento(repo: Path, image: catalog.BentoImage, work: Path, uv: Path, log: Path) -> Path:
    """`bentoml build` in a staged copy of the context; returns the bento folder."""
    config = load_bentofile(repo, image)
    context = context_dir(repo, image)
    stage = work / "context"
    shutil.rmtree(work, ignore_errors=True)
    stage.mkdir(parents=True)
    bentofile = (repo / image.bentofile).relative_to(context).as_posix()
    requirements = (repo / image.requirements).relative_to(context).as_posix()
    staged = {*selected_files(context, config), bentofile, requirements}
    if template := dockerfile_template(config):
        staged.add(template)
    for rel in staged:
        (stage / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(context / rel, stage / rel)
    for wheel, folder in wheel_sources(config).items():
        package = "modelops-" + folder
        out = (stage / wheel).parent
        _run([str(uv), "build", "--wheel", "--package", package, "-o", str(out)], repo, log)
        if not (stage / wheel).is_file():
            raise ImagesError(
                f"{image.bentofile} names {wheel}, but `uv build` made "
                f"{sorted(p.name for p in out.glob('*.whl'))}: update the bentofile's wheel names"
            )
    home = work / "bentoml_home"  # outside the context, or the bento copies itself
    bentoml = Path(sys.executable).with_name("bentoml")
    if not bentoml.exists():
        raise ImagesError(f"{bentoml} not found: bento images need the development workspace")
    env = {"BENTOML_HOME": str(home), "BENTOML_DO_NOT_TRACK": "true"}
    _run([str(bentoml), "build", "-f", str(stage / bentofile), str(stage)], stage, log, env)
    built = [p for p in (home / "bentos").glob("*/*") if p.is_dir() and p.name != "latest"]
    if len(built) != 1:
        raise ImagesError(f"bentoml build made {len(built)} bentos in {home} (log: {log})")
    bento = built[0]
    dockerfile = bento / "env" / "docker" / "Dockerfile"
    generated = catalog.from_refs(dockerfile.read_text())
    if generated != [catalog.normalize_ref(image.base)]:
        raise ImagesError(
            f"BentoML generated FROM {generated} for {image.name}; the builder expects "
            f"{image.base} (catalog.py): keep the bentofile's docker.base_image and the catalogue in step"
        )
    return bento


def _run(cmd: list[str], cwd: Path, log: Path, env: dict[str, str] | None = None) -> None:
    with log.open("a") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        proc = subprocess.run(
            cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
    if proc.returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-30:])
        raise ImagesError(f"{Path(cmd[0]).name} {cmd[1]} failed (log: {log}):\n{tail}")
