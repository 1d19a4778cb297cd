"""Loading a churn model version from the registry.

The environment contract and the retrying background holder are common to
every service (`modelops_bentos.common.loader`); this module is churn's
loader. A load is accepted only when the artefact's sha256 matches the
metadata (the registry's `read_artefact` verifies it) and the model was
trained against the same feature columns this code computes: a mismatch would
silently feed features into the wrong tree inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelops_bentos.common.loader import LoadedVersion, LoadRequest, ModelLoadError
from modelops_features import churn as churn_features
from modelops_registry import Registry

from .xgboost_import import import_xgboost

if TYPE_CHECKING:
    # Imported when a model loads, not with the service module: BentoML's
    # arbiter process imports the service to read its definition and never
    # predicts, so it would hold XGBoost's ~80 MB for nothing.
    import xgboost as xgb

    from .predict import DensePredictor

ARTEFACT = "model.ubj"
DEFAULT_MODEL = "churn"


def load_request(env: dict[str, str] | None = None) -> LoadRequest:
    """The common LoadRequest, with this service's default model name."""
    return LoadRequest.from_env(DEFAULT_MODEL, env)


@dataclass(frozen=True)
class LoadedModel(LoadedVersion):
    """A verified churn model version, ready to predict."""

    booster: xgb.Booster
    model_columns: list[str]
    # booster.inplace_predict without the wrapper's per-call overhead (same C call).
    predict: DensePredictor


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
    xgb = import_xgboost()
    from .predict import DensePredictor  # after import_xgboost: it imports xgboost.core

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
