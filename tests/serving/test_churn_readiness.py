"""/readyz follows the model: not ready before it is loaded and verified, ready after,
and never ready on a tampered artefact (with the reason logged and in 503 bodies)."""

from __future__ import annotations

import logging
import shutil
import time

from modelops_bentos.churn.examples import SAMPLE_RECORD

from .conftest import TrainedModel, artefact_path, asgi_client, copy_registry, service_env

BODY = {"records": [SAMPLE_RECORD]}


def wait_for(predicate, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_not_ready_until_the_version_exists_then_ready(churn_model, tmp_path) -> None:
    empty = tmp_path / "registry"
    empty.mkdir()
    pending = TrainedModel(uri=f"file://{empty}", root=empty, model="churn", version="1")
    with asgi_client(service_env(pending, version="1"), wait_ready=False) as client:
        assert client.get("/readyz").status_code == 503
        assert client.get("/livez").status_code == 200  # alive: no crash loop
        resp = client.post("/predict", json=BODY)
        assert resp.status_code == 503
        assert "model not loaded" in resp.json()["error"]
        assert resp.headers.get("retry-after")

        # Publish the version the service waits for: it becomes ready by itself.
        src = churn_model.root / "churn" / churn_model.version
        shutil.copytree(src, empty / "churn" / "1")
        wait_for(lambda: client.get("/readyz").status_code == 200, what="readiness")
        resp = client.post("/predict", json=BODY)
        assert resp.status_code == 200, resp.text
        assert resp.json()["version"] == "1"


def test_tampered_artefact_is_never_ready(churn_model, tmp_path, caplog) -> None:
    tampered = copy_registry(churn_model, tmp_path / "registry")
    path = artefact_path(tampered)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))

    caplog.set_level(logging.ERROR, logger="bentoml.modelops.loader")
    with asgi_client(service_env(tampered), wait_ready=False) as client:
        wait_for(
            lambda: "Checksum" in client.post("/predict", json=BODY).json().get("error", ""),
            what="the checksum failure to be reported",
        )
        assert client.get("/readyz").status_code == 503
        resp = client.post("/predict", json=BODY)
        assert resp.status_code == 503
        metrics = client.get("/metrics").text
        assert 'modelops_model_ready{model="churn",version="none"} 0.0' in metrics
        time.sleep(0.3)  # a few retries later it is still refused
        assert client.get("/readyz").status_code == 503
    said = [r.getMessage() for r in caplog.records if "Checksum" in r.getMessage()]
    assert said, caplog.text
    # The log line a user reads names the version and says what it means.
    assert f"version {tampered.version}" in said[0] and "tampered" in said[0], said[0]


def test_unknown_version_reference_is_not_ready(churn_model) -> None:
    with asgi_client(service_env(churn_model, version="999"), wait_ready=False) as client:
        wait_for(
            lambda: "999" in client.post("/predict", json=BODY).json().get("error", ""),
            what="the missing version to be reported",
        )
        assert client.get("/readyz").status_code == 503


def test_a_profile_the_metrics_cannot_use_keeps_it_not_ready(churn_model) -> None:
    from modelops_bentos.churn.model import load_model
    from modelops_bentos.churn.telemetry import Telemetry
    from modelops_bentos.common.loader import LoadRequest, ModelHolder

    request = LoadRequest(churn_model.uri, churn_model.model, churn_model.version)
    holder = ModelHolder(request, load_model)
    telemetry = Telemetry("churn")
    bad_profile = {"features": {"orders": {"kind": "numeric", "edges": [3.0, 1.0]}}}
    holder.on_loaded(lambda loaded: telemetry.model_loaded(loaded.version, bad_profile))
    assert holder.try_load() is False
    assert not holder.ready
    assert "ascending" in holder.status()
    # With the model's own profile the same load succeeds.
    good = ModelHolder(request, load_model)
    good.on_loaded(lambda loaded: telemetry.model_loaded(loaded.version, loaded.profile))
    assert good.try_load() is True
    assert good.status() == f"ready: churn version {churn_model.version}"
