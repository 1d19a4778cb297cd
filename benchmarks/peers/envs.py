"""Bench-only virtual environments for the serving peers (never the product's venv).

Each peer gets its own venv under ~/.cache/modelops/bench-envs/<name>-<hash>/,
where <hash> is taken from the pinned requirement list: changing a pin creates a
fresh environment, an unchanged one is reused. MLServer needs its own venv
anyway (it pins fastapi<0.116, and fails to start with uvloop 0.23:
SeldonIO/MLServer#2286). The workspace's feature package is installed from
this checkout so every peer computes the very same features for raw records.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("MODELOPS_BENCH_ENVS", Path.home() / ".cache/modelops/bench-envs"))
UV = Path.home() / ".cache/modelops/tools/uv-0.13.9/bin/uv"
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
}
# Peers that compute the features from raw records need the workspace packages.
WORKSPACE_PACKAGES = {
    "fastapi": [FEATURES],
    "litserve": [FEATURES],
    "ray": [FEATURES],
    "bento-stock": [FEATURES, str(REPO / "registry")],
}


def env_dir(name: str) -> Path:
    digest = hashlib.sha256("\n".join([PYTHON, *PEERS[name]]).encode()).hexdigest()[:10]
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
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    subprocess.run([str(UV), "venv", "-q", "--python", PYTHON, str(target)], check=True, env=env)
    requirements = list(PEERS[name])
    requirements += WORKSPACE_PACKAGES.get(name, [])
    subprocess.run(
        [str(UV), "pip", "install", "-q", "--python", str(python), *requirements],
        check=True,
        env=env,
    )
    (target / ".complete").write_text("\n".join(requirements) + "\n")
    return python


if __name__ == "__main__":
    import sys

    for peer in sys.argv[1:] or list(PEERS):
        print(peer, ensure(peer))
