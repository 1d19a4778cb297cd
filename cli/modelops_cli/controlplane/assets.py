"""Finding the control-plane binaries (envtest convention).

KUBEBUILDER_ASSETS names a directory with etcd and kube-apiserver (and, for
the controllers, kube-controller-manager and kube-scheduler). When it is not
set, the directory recorded by `make controlplane` in
~/.cache/modelops/controlplane/assets.env is used. etcd may also come from
PATH (Debian's etcd-server package) when the directory lacks it.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

CORE = ("etcd", "kube-apiserver")
CONTROLLERS = ("kube-controller-manager", "kube-scheduler")
KWOK = ("kwok",)


class MissingBinariesError(RuntimeError):
    """The binaries a control plane needs cannot be found."""


def cache_root() -> Path:
    base = os.environ.get("MODELOPS_CACHE") or str(Path.home() / ".cache" / "modelops")
    return Path(base) / "controlplane"


def assets_env_file() -> Path:
    return cache_root() / "assets.env"


def parse_assets_env(text: str) -> str | None:
    """Return the KUBEBUILDER_ASSETS value from an assets.env file's text."""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("export "):
            line = line[len("export ") :].strip()
        key, sep, value = line.partition("=")
        if sep and key.strip() == "KUBEBUILDER_ASSETS":
            return value.strip().strip("'\"") or None
    return None


def how_to_provide(missing: list[str]) -> str:
    return (
        f"missing control-plane binaries: {', '.join(missing)}. "
        "Run `make controlplane` (builds kube-apiserver, kube-controller-manager and "
        "kube-scheduler (and kwok) from Go modules into ~/.cache/modelops/controlplane/, about "
        "10 minutes cold, seconds when cached) or set KUBEBUILDER_ASSETS to a directory "
        "holding etcd, kube-apiserver, kube-controller-manager and kube-scheduler "
        "(and kwok with stages.yaml beside it, for --with-kwok)."
    )


@dataclass(frozen=True)
class Assets:
    """Absolute paths of the binaries, by name."""

    paths: dict[str, Path]
    source: str

    def __getitem__(self, name: str) -> Path:
        return self.paths[name]

    def has(self, name: str) -> bool:
        return name in self.paths


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _assets_dir() -> tuple[Path | None, str]:
    env = os.environ.get("KUBEBUILDER_ASSETS")
    if env:
        return Path(env), "KUBEBUILDER_ASSETS"
    recorded = assets_env_file()
    if recorded.is_file():
        value = parse_assets_env(recorded.read_text())
        if value:
            return Path(value), str(recorded)
    return None, "nowhere"


def _cached_kwok() -> Path | None:
    """kwok built by provision.sh into the cache (used with KUBEBUILDER_ASSETS
    directories from envtest, which carry no kwok)."""
    builds = sorted(cache_root().glob("kwok-v*/kwok"))
    executable = [b for b in builds if _executable(b)]
    return executable[-1].resolve() if executable else None


def discover(*, controllers: bool, kwok: bool = False) -> Assets:
    """Locate the binaries or raise MissingBinariesError saying how to get them."""
    directory, source = _assets_dir()
    wanted = CORE + (CONTROLLERS if controllers else ()) + (KWOK if kwok else ())
    found: dict[str, Path] = {}
    for name in wanted:
        candidate = directory / name if directory else None
        if candidate is not None and _executable(candidate):
            found[name] = candidate.resolve()
        elif name == "etcd" and shutil.which("etcd"):
            found[name] = Path(shutil.which("etcd")).resolve()
    if kwok and "kwok" not in found:
        cached = _cached_kwok()
        if cached is not None:
            found["kwok"] = cached
    missing = [n for n in wanted if n not in found]
    if missing:
        where = f" (looked in {directory}, from {source})" if directory else ""
        raise MissingBinariesError(how_to_provide(missing) + where)
    return Assets(found, source)
