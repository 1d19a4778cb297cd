"""Loading a churn model version from the registry, and keeping the service's view of it.

The bento image carries code only; the model version arrives at start from the
registry named by the environment. A load is accepted only when the artefact's
sha256 matches the metadata (the registry's `read_artefact` verifies it) and the
model was trained against the same feature columns this code computes: a
mismatch would silently feed features into the wrong tree inputs.

`ModelHolder` loads in a background thread and retries with back-off, so a pod
whose registry is briefly unreachable (or whose version is not published yet)
stays alive and not-ready, logs why on every attempt, and becomes ready by
itself once the load succeeds, instead of crash-looping.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import xgboost as xgb

from modelops_features import churn as churn_features
from modelops_registry import Registry, default_uri

from .predict import DensePredictor

logger = logging.getLogger("bentoml.modelops.churn")

ARTEFACT = "model.ubj"
ENV_REGISTRY = "MODELOPS_REGISTRY"
ENV_MODEL = "MODELOPS_MODEL"
ENV_VERSION = "MODELOPS_MODEL_VERSION"
ENV_RETRY = "MODELOPS_LOAD_RETRY_SECONDS"
DEFAULT_MODEL = "churn"
DEFAULT_VERSION = "latest"


class ModelLoadError(RuntimeError):
    """The model version cannot be served (the message says why)."""


@dataclass(frozen=True)
class LoadRequest:
    """Which model to load, as configured by the environment."""

    registry_uri: str
    model: str = DEFAULT_MODEL
    ref: str = DEFAULT_VERSION
    retry_seconds: float = 5.0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> LoadRequest:
        env = dict(os.environ if env is None else env)
        registry_uri = env.get(ENV_REGISTRY) or default_uri()
        retry_raw = env.get(ENV_RETRY, "5")
        try:
            retry = float(retry_raw)
        except ValueError:
            raise ModelLoadError(f"{ENV_RETRY}={retry_raw!r} is not a number") from None
        return cls(
            registry_uri=registry_uri,
            model=env.get(ENV_MODEL) or DEFAULT_MODEL,
            ref=env.get(ENV_VERSION) or DEFAULT_VERSION,
            retry_seconds=max(retry, 0.05),
        )


@dataclass(frozen=True)
class LoadedModel:
    """A verified model version, ready to predict."""

    model: str
    version: str
    booster: xgb.Booster
    metadata: dict[str, Any]
    model_columns: list[str]
    # booster.inplace_predict without the wrapper's per-call overhead (same C call).
    predict: DensePredictor

    @property
    def profile(self) -> dict[str, Any]:
        return self.metadata.get("profile") or {}


def _expected_columns(metadata: dict[str, Any]) -> list[str] | None:
    """The model-matrix columns the model was trained on, as recorded by training."""
    features = metadata.get("features")
    if not isinstance(features, dict):
        return None
    for key in ("model_columns", "MODEL_COLUMNS", "columns"):
        if isinstance(features.get(key), list):
            return [str(c) for c in features[key]]
    return None


def load_model(request: LoadRequest) -> LoadedModel:
    """Resolve, fetch, verify and deserialise one model version (raises on any problem)."""
    registry = Registry.from_uri(request.registry_uri)
    version = registry.resolve(request.model, request.ref)
    metadata = registry.metadata(request.model, version)
    # read_artefact verifies the sha256 recorded in metadata.json (ChecksumError).
    raw = registry.read_artefact(request.model, version, ARTEFACT)
    booster = xgb.Booster()
    booster.load_model(bytearray(raw))
    # One thread per prediction: requests are concurrent at the HTTP level and
    # OpenMP threads fight the event loop for the CPU (see shared FACTS).
    booster.set_param({"nthread": 1})

    recorded_hash = (metadata.get("features") or {}).get("schema_hash")
    current_hash = churn_features.FEATURE_SCHEMA.content_hash()
    if recorded_hash is not None and recorded_hash != current_hash:
        raise ModelLoadError(
            f"{request.model} version {version} was trained with feature schema "
            f"{recorded_hash[:12]}, this service computes {current_hash[:12]}: "
            "serve it with an image whose features match"
        )
    columns = list(churn_features.MODEL_COLUMNS)
    expected = _expected_columns(metadata)
    if expected is not None and expected != columns:
        raise ModelLoadError(
            f"{request.model} version {version} was trained on model columns {expected}, "
            f"but this service computes {columns}: serve it with a matching image"
        )
    if booster.num_features() != len(columns):
        raise ModelLoadError(
            f"{request.model} version {version} expects {booster.num_features()} inputs, "
            f"the features code produces {len(columns)}"
        )
    return LoadedModel(
        model=request.model,
        version=version,
        booster=booster,
        metadata=metadata,
        model_columns=columns,
        predict=DensePredictor(booster),
    )


@dataclass
class ModelHolder:
    """The service's current model: loading, ready, or failed (with the reason)."""

    request: LoadRequest
    loaded: LoadedModel | None = None
    error: str | None = None
    attempts: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _on_loaded: list[Any] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return self.loaded is not None

    def status(self) -> str:
        if self.loaded is not None:
            return f"ready: {self.loaded.model} version {self.loaded.version}"
        if self.error is not None:
            return f"not ready after {self.attempts} attempt(s): {self.error}"
        return "loading"

    def on_loaded(self, callback: Any) -> None:
        """Call `callback(loaded)` once the model is ready (used to build metrics)."""
        self._on_loaded.append(callback)

    def try_load(self) -> bool:
        """One load attempt; records the reason on failure instead of raising."""
        self.attempts += 1
        try:
            loaded = load_model(self.request)
            # Callbacks (metrics built from the profile) run before the model
            # counts as loaded: a profile they cannot use keeps it not ready.
            for callback in self._on_loaded:
                callback(loaded)
        except Exception as exc:  # any failure keeps the service alive and not ready
            self.error = f"{type(exc).__name__}: {exc}"
            logger.error(
                "modelops: cannot load model %r ref %r from %s (attempt %d): %s",
                self.request.model,
                self.request.ref,
                self.request.registry_uri,
                self.attempts,
                self.error,
            )
            return False
        self.loaded = loaded
        self.error = None
        logger.info(
            "modelops: serving %s version %s from %s",
            loaded.model,
            loaded.version,
            self.request.registry_uri,
        )
        return True

    def start(self) -> None:
        """Load in the background, retrying with back-off until it works or stop()."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="modelops-loader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        delay = self.request.retry_seconds
        while not self._stop.is_set():
            if self.try_load():
                return
            self._stop.wait(delay)
            delay = min(delay * 2, max(self.request.retry_seconds, 60.0))

    def wait(self, timeout: float) -> bool:
        """Block until loaded or `timeout` seconds passed (for tests and tools)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.ready:
            time.sleep(0.02)
        return self.ready

    def stop(self) -> None:
        self._stop.set()
