"""Each bentofile ships every module its service imports, and only the packages it needs.

`bentoml build` copies the files the bentofile's `include` globs name; a module
the service imports but the globs miss would make the image fail at start, far
from the change that caused it. The service is imported in a fresh process
(as `bentoml serve` would) and every `modelops_bentos` module it loaded must be
matched by an include glob. The learning-path image carries no XGBoost: its
service must import with xgboost made unimportable, and not name it.
"""

from __future__ import annotations

import fnmatch
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

BENTOS = Path(__file__).resolve().parents[2] / "bentos"
SERVICES = {
    "churn": BENTOS / "modelops_bentos" / "churn" / "bentofile.yaml",
    "learning-path": BENTOS / "modelops_bentos" / "learning_path" / "bentofile.yaml",
}

# Imports the bentofile's service in a clean interpreter; prints the files of
# the modelops_bentos modules it loaded, relative to bentos/.
PROBE = """
import json, sys
from pathlib import Path
for name in sys.argv[2:]:
    sys.modules[name] = None  # unimportable: the image does not install it
module, _, cls = sys.argv[1].partition(":")
getattr(__import__(module, fromlist=[cls]), cls)
root = Path(sys.modules["modelops_bentos"].__file__).resolve().parents[1]
print(json.dumps(sorted(
    str(Path(m.__file__).resolve().relative_to(root))
    for name, m in list(sys.modules.items())
    if name.startswith("modelops_bentos") and m is not None and getattr(m, "__file__", None)
)))
"""


def bentofile(service: str) -> dict:
    return yaml.safe_load(SERVICES[service].read_text())


def loaded_files(target: str, blocked: tuple[str, ...] = ()) -> list[str]:
    env = {**os.environ, "BENTOML_DO_NOT_TRACK": "true", "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, target, *blocked],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert out.returncode == 0, f"importing {target} failed:\n{out.stderr[-3000:]}"
    return json.loads(out.stdout.strip().splitlines()[-1])


def installed(config: dict) -> str:
    """The pinned requirement list the bentofile installs (generated from uv.lock)."""
    return (BENTOS / config["python"]["requirements_txt"]).read_text()


def blocked_packages(config: dict) -> tuple[str, ...]:
    """Serving libraries the image does not install, made unimportable in the probe."""
    return () if "\nxgboost==" in installed(config) else ("xgboost",)


@pytest.mark.parametrize("service", list(SERVICES))
def test_every_imported_module_is_included(service) -> None:
    config = bentofile(service)
    files = loaded_files(config["service"], blocked_packages(config))
    assert any(f.endswith("service.py") for f in files), files
    missing = [f for f in files if not any(fnmatch.fnmatch(f, g) for g in config["include"])]
    assert not missing, f"{SERVICES[service].name} of {service} does not include {missing}"


def test_the_learning_path_image_carries_neither_churn_nor_xgboost() -> None:
    config = bentofile("learning-path")
    assert not any("churn" in glob for glob in config["include"]), config["include"]
    assert "xgboost" not in installed(config)
    files = loaded_files(config["service"], ("xgboost",))
    assert not [f for f in files if "/churn/" in f], files


@pytest.mark.parametrize("service", list(SERVICES))
def test_the_image_serves_in_one_process(service) -> None:
    """The image's command is one_process.py (shipped), not the arbiter of `bentoml serve`."""
    config = bentofile(service)
    assert "modelops_bentos/one_process.py" in config["include"]
    template = BENTOS / config["docker"]["dockerfile_template"]
    assert 'CMD ["python", "-m", "modelops_bentos.one_process"]' in template.read_text()
