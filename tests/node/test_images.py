"""The product images as built by `modelops images build`: users, entry points, contents.

What a node imports is the docker-archive; its config (user, entrypoint) is
read from the archive itself. The contents are checked by running commands
in the image as its user; the churn bento is started the way the operator's
pod starts it (uid BENTO_UID, read-only root, only /tmp and BENTOML_HOME
writable) and must answer a prediction.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from modelops_cli.images import ensure
from modelops_operator.builders import BENTO_UID, BENTOML_HOME, TMP_DIR
from modelops_testkit.net import free_port
from tests.node.images_support import (
    NO_PROXY,
    archive_config,
    built_images,  # noqa: F401 (session fixture)
    pod,
    run_in,
    wait_http,
)

# The bento's Python, with the bento's sources importable as `bentoml serve` makes them.
BENTO_PYTHON = ("env", "PYTHONPATH=/home/bentoml/bento/src", "/app/.venv/bin/python")

ONE_PROCESS = ["python", "-m", "modelops_bentos.one_process"]
# name -> (user in the config, entrypoint, cmd)
EXPECTED = {
    "modelops-operator": (
        "65532:65532",
        ["modelops"],
        ["operator", "run", "--all-namespaces", "--metrics-host=0.0.0.0"],
    ),
    "modelops-training": ("65532:65532", ["modelops"], ["train", "--help"]),
    # BentoML's entrypoint runs the command: `bentoml serve` in one process (bentos/dockerfile.j2).
    "churn-bento": ("bentoml", ["/home/bentoml/bento/env/docker/entrypoint.sh"], ONE_PROCESS),
    "learning-path-bento": (
        "bentoml",
        ["/home/bentoml/bento/env/docker/entrypoint.sh"],
        ONE_PROCESS,
    ),
    "prometheus": (
        "65534:65534",
        ["/usr/local/bin/prometheus"],
        [
            "--config.file=/etc/prometheus/prometheus.yml",
            "--storage.tsdb.path=/prometheus",
            "--web.listen-address=:9090",
            "--web.enable-lifecycle",
        ],
    ),
    "s3": ("65532:65532", ["/usr/local/bin/versitygw"], ["--port", ":7070", "posix", "/data"]),
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_archive_config(built_images, name: str) -> None:  # noqa: F811
    image = built_images[name]
    assert image.ref.startswith(f"modelops.local/{name}:")
    config = archive_config(image)["config"]
    user, entrypoint, cmd = EXPECTED[name]
    assert (config.get("User"), config.get("Entrypoint"), config.get("Cmd") or None) == (
        user,
        entrypoint,
        cmd,
    )
    if name == "modelops-operator":
        # Docker's format keeps the HEALTHCHECK (the OCI format would drop it).
        assert "Healthcheck" in config


def test_nothing_is_rebuilt_when_nothing_changed(built_images) -> None:  # noqa: F811
    again = ensure()
    assert all(image.cached for image in again), [i.name for i in again if not i.cached]
    assert {i.name: i.ref for i in again} == {n: i.ref for n, i in built_images.items()}


def test_the_bento_user_is_the_operators_bento_uid(built_images) -> None:  # noqa: F811
    for name in ("churn-bento", "learning-path-bento"):
        out = run_in(built_images[name], "bentoml", "id", "-u")
        assert out.strip() == str(BENTO_UID), name


def test_the_operator_image_runs_modelops(built_images) -> None:  # noqa: F811
    out = run_in(
        built_images["modelops-operator"], "65532:65532", "modelops", "operator", "run", "--help"
    )
    assert "--all-namespaces" in out
    # No model code in the operator image.
    probe = "import importlib.util as u; print([m for m in ('xgboost','bentoml','sklearn') if u.find_spec(m)])"
    assert (
        run_in(built_images["modelops-operator"], "65532:65532", "python", "-c", probe).strip()
        == "[]"
    )


def test_the_training_image_trains_without_nccl(built_images) -> None:  # noqa: F811
    image = built_images["modelops-training"]
    script = (
        "modelops train --model churn --data synthetic:5000 --registry file:///tmp/reg"
        ' && python -c "import importlib.metadata as m; '
        "print('nccl', [d.metadata['Name'] for d in m.distributions() if 'nccl' in d.metadata['Name']])\""
    )
    out = run_in(image, "65532:65532", "sh", "-c", script)
    assert '"status":"approved"' in out.replace(" ", "") or '"status": "approved"' in out, out[
        -2000:
    ]
    assert "nccl []" in out


def test_the_churn_bento_carries_its_service_and_no_operator_code(built_images) -> None:  # noqa: F811
    probe = (
        "import importlib.util as u, modelops_bentos.churn.service, xgboost; "
        "print(sorted(m for m in ('kopf','kubernetes','sklearn','modelops_operator','nvidia') if u.find_spec(m)))"
    )
    out = run_in(built_images["churn-bento"], "bentoml", *BENTO_PYTHON, "-c", probe)
    assert out.strip().splitlines()[-1] == "[]"


def test_the_learning_path_bento_carries_no_xgboost(built_images) -> None:  # noqa: F811
    probe = (
        "import importlib.util as u, modelops_bentos.learning_path.service; "
        "print(sorted(m for m in ('xgboost','scipy','kopf','kubernetes') if u.find_spec(m)))"
    )
    out = run_in(built_images["learning-path-bento"], "bentoml", *BENTO_PYTHON, "-c", probe)
    assert out.strip().splitlines()[-1] == "[]"


def test_the_dev_images_run_their_servers(built_images) -> None:  # noqa: F811
    assert "prometheus, version 3." in run_in(
        built_images["prometheus"], "65534:65534", "prometheus", "--version"
    )
    assert "v1.8.0" in run_in(built_images["s3"], "65532:65532", "versitygw", "--version")


def test_the_churn_bento_serves_as_its_pod_runs_it(built_images, tmp_path: Path) -> None:  # noqa: F811
    """uid BENTO_UID, read-only root, /tmp and BENTOML_HOME writable: /readyz, then a prediction."""
    registry = tmp_path / "registry"
    trained = subprocess.run(
        [sys.executable, "-m", "modelops_cli.main", "train", "--model", "churn",
         "--data", "synthetic:5000", "--registry", f"file://{registry}"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr[-2000:]
    registry.chmod(0o755)
    port = free_port()
    env = {
        # What operator/builders.py serving_env() gives the container.
        "MODELOPS_REGISTRY": "file:///models",
        "MODELOPS_MODEL": "churn",
        "MODELOPS_MODEL_VERSION": "1",
        "BENTOML_HOME": BENTOML_HOME,
        "PORT": str(port),
    }
    log = tmp_path / "serve.log"
    with pod(
        built_images["churn-bento"],
        BENTO_UID,
        env,
        tmpfs=[TMP_DIR, BENTOML_HOME],
        binds={str(registry): "/models"},
        log=log,
    ) as proc:
        wait_http(f"http://127.0.0.1:{port}/readyz", proc, log)
        body = {
            "records": [
                {"tenure_months": 3, "monthly_spend": 50.0, "total_spend": 150.0, "orders": 2,
                 "support_tickets": 1, "plan": "basic", "region": "north"}
            ]
        }  # fmt: skip
        request = NO_PROXY.open(
            _post(f"http://127.0.0.1:{port}/predict", body), timeout=10
        )  # fmt: skip
        answer = json.loads(request.read())
        assert answer["version"] == "1"
        assert 0.0 <= answer["predictions"][0]["churn_probability"] <= 1.0
        time.sleep(0.2)
    text = log.read_text()
    assert "Read-only file system" not in text, text[-3000:]
    assert "serving in one process" in text, text[-3000:]  # the image's command


def _post(url: str, body: dict):
    import urllib.request

    return urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
