"""Loading a learning-path model version from the registry.

The artefact is `model.json`: the exported parameters of a multinomial logistic
regression (`modelops_features.softmax.SoftmaxLinear`). Loading parses numbers
and checks shapes, so a tampered or foreign file cannot run code here. A load
is accepted only when the sha256 matches the metadata (`read_artefact`
verifies it), the feature schema hash matches this code, and the parameters'
columns and modules are the ones this code computes and ranks.

The retrying background holder and the environment contract are churn's
(`modelops_bentos.churn.model`); only the loader differs.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace
from typing import Any

from modelops_bentos.churn.model import ENV_MODEL, LoadRequest, ModelHolder, ModelLoadError
from modelops_features import learning_path as lp
from modelops_features.softmax import ModelFormatError, SoftmaxLinear
from modelops_registry import Registry

logger = logging.getLogger("bentoml.modelops.learning_path")

ARTEFACT = "model.json"
DEFAULT_MODEL = "learning-path"


def load_request(env: dict[str, str] | None = None) -> LoadRequest:
    """churn's LoadRequest, with this service's default model name."""
    source = os.environ if env is None else env
    request = LoadRequest.from_env(dict(source))
    return request if source.get(ENV_MODEL) else replace(request, model=DEFAULT_MODEL)


@dataclass(frozen=True)
class LoadedRecommender:
    model: str
    version: str
    scorer: SoftmaxLinear
    metadata: dict[str, Any]

    @property
    def profile(self) -> dict[str, Any]:
        return self.metadata.get("profile") or {}


def load_recommender(request: LoadRequest) -> LoadedRecommender:
    """Resolve, fetch, verify and parse one model version (raises on any problem)."""
    registry = Registry.from_uri(request.registry_uri)
    version = registry.resolve(request.model, request.ref)
    metadata = registry.metadata(request.model, version)
    raw = registry.read_artefact(request.model, version, ARTEFACT)
    try:
        scorer = SoftmaxLinear.from_json(raw)
    except ModelFormatError as exc:
        raise ModelLoadError(f"{request.model} version {version}: bad {ARTEFACT}: {exc}") from exc
    recorded = (metadata.get("features") or {}).get("schema_hash")
    current = lp.FEATURE_SCHEMA.content_hash()
    if recorded != current:
        raise ModelLoadError(
            f"{request.model} version {version} was trained with feature schema "
            f"{str(recorded)[:12]}, this service computes {current[:12]}: "
            "serve it with an image whose features match"
        )
    if scorer.columns != tuple(lp.MODEL_COLUMNS) or scorer.classes != lp.MODULES:
        raise ModelLoadError(
            f"{request.model} version {version} scores columns {list(scorer.columns)} into "
            f"modules {list(scorer.classes)}; this service computes {lp.MODEL_COLUMNS} and "
            f"ranks {list(lp.MODULES)}"
        )
    return LoadedRecommender(request.model, version, scorer, metadata)


@dataclass
class RecommenderHolder(ModelHolder):
    """churn's ModelHolder (background load, retry with back-off), with this loader."""

    def try_load(self) -> bool:
        self.attempts += 1
        try:
            loaded = load_recommender(self.request)
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
        for callback in self._on_loaded:
            callback(loaded)
        self.loaded = loaded  # type: ignore[assignment]
        self.error = None
        logger.info("modelops: serving %s version %s", loaded.model, loaded.version)
        return True
