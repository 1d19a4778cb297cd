"""Bench-only virtual environments for the peers the benchmarks compare with
(serving.py's servers, drift.py's drift libraries, py-spy); never the product's venv.

One helper for every benchmark: `ensure(name)` returns the environment's python,
creating it on first use, so each benchmark runs with one command on a fresh
machine. Each peer gets its own venv under ~/.cache/modelops/bench-envs/<name>-<hash>/,
where <hash> is taken from the pinned requirement list: changing a pin creates a
fresh environment, an unchanged one is reused. MLServer needs its own venv
anyway (it pins fastapi<0.116, and fails to start with uvloop 0.23:
SeldonIO/MLServer#2286). The workspace's feature package is installed from
this checkout, editable, so every peer computes the very same features for raw
records as this checkout's code does today: a copy installed once would keep
the features of the day the environment was made (it did: the FastAPI peer's
idle RSS read 130 MiB with a copy that still imported pandas, 100 MiB with this
checkout's feature package). Such an environment belongs to one
checkout, so the checkout's path is part of its <hash>.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BASE = Path(os.environ.get("MODELOPS_CACHE") or Path.home() / ".cache" / "modelops")
CACHE = Path(os.environ.get("MODELOPS_BENCH_ENVS") or BASE / "bench-envs")
# tools/bootstrap.sh installs this uv when the machine has none on PATH.
UV = Path(shutil.which("uv") or BASE / "tools" / "uv-0.13.9" / "bin" / "uv")
PYTHON = "python3.11"

COMMON = ["numpy==2.4.6", "pandas==3.1.1", "xgboost==3.2.0", "pydantic==2.14.3", "orjson>=3.10"]
FEATURES = str(REPO / "features")
HTTP = ["uvloop>=0.21", "httptools>=0.6"]

# name -> pinned requirements (the workspace feature package is added to some).
PEERS: dict[str, list[str]] = {
    "fastapi": [*COMMON, *HTTP, "fastapi==0.165.0", "uvicorn==0.54.0"],
    # MLServer pins fastapi<0.116 and fails to start with uvloop 0.23.
    "mlserver": ["mlserver==1.7.1", "mlserver-xgboost==1.7.1", "xgboost==3.2.0", "uvloop<0.22"],
    "litserve": [*COMMON, *HTTP, "litserve==0.2.19"],
    "ray": [*COMMON, *HTTP, "ray[serve]==2.60.0"],
    # The churn bento as it was before issue 9 (stock BentoML: no uvloop /
    # httptools), so "before" and "after" are measured in the same run.
    "bento-stock": [*COMMON, "bentoml==1.4.39", "prometheus-client==0.26.0"],
    "tools": ["py-spy"],
    # drift.py's offline peers. Evidently's legacy Report still reads pandas 2
    # frames only; NannyML pins its own pandas and scipy range.
    "drift-evidently": ["evidently==0.7.23", "pandas<3", "psutil"],
    "drift-nannyml": ["nannyml==0.13.1", "statsmodels"],
}
# Peers that compute the features from raw records need the workspace packages.
WORKSPACE_PACKAGES = {
    "fastapi": [FEATURES],
    "litserve": [FEATURES],
    "ray": [FEATURES],
    "bento-stock": [FEATURES, str(REPO / "registry")],
}


def workspace_requirements(name: str) -> list[str]:
    """The workspace packages of a peer, as editable requirements of this checkout."""
    return [arg for path in WORKSPACE_PACKAGES.get(name, []) for arg in ("-e", path)]


def env_dir(name: str) -> Path:
    key = [PYTHON, *PEERS[name], *workspace_requirements(name)]
    digest = hashlib.sha256("\n".join(key).encode()).hexdigest()[:10]
    return CACHE / f"{name}-{digest}"


def ensure(name: str) -> Path:
    """The peer's venv (created and installed on first use); returns its python."""
    target = env_dir(name)
    python = target / "bin" / "python"
    if (target / ".complete").exists():
        return python
    if not UV.exists():
        raise SystemExit(f"benchmark: {UV} is missing (tools/bootstrap.sh installs uv)")
    CACHE.mkdir(parents=True, exist_ok=True)
    # Said on stderr: a cold environment is a pip install (seconds to minutes).
    print(f"benchmark: creating the {name} environment in {target}", file=sys.stderr, flush=True)
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    subprocess.run(
        [str(UV), "venv", "-q", "--clear", "--python", PYTHON, str(target)], check=True, env=env
    )
    requirements = list(PEERS[name])
    # Bytecode compiled at install: otherwise the first run of every peer after a
    # cold install spends tens of seconds compiling its imports.
    requirements += workspace_requirements(name)
    subprocess.run(
        [
            str(UV),
            "pip",
            "install",
            "-q",
            "--compile-bytecode",
            "--python",
            str(python),
            *requirements,
        ],
        check=True,
        env=env,
    )
    (target / ".complete").write_text("\n".join(requirements) + "\n")
    return python


if __name__ == "__main__":
    for peer in sys.argv[1:] or list(PEERS):
        print(peer, ensure(peer))
