"""Loading a learning-path model version from the registry.

The artefact is `model.json`: the exported parameters of a multinomial logistic
regression (`modelops_features.softmax.SoftmaxLinear`). Loading parses numbers
and checks shapes, so a tampered or foreign file cannot run code here. A load
is accepted only when the sha256 matches the metadata (`read_artefact`
verifies it), the feature schema hash matches this code, and the parameters'
columns and modules are the ones this code computes and ranks.

The retrying background holder and the environment contract are common to
every service (`modelops_bentos.common.loader`); only the loader is this
service's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from modelops_bentos.common.loader import LoadedVersion, LoadRequest, ModelLoadError
from modelops_features import learning_path as lp
from modelops_features.softmax import ModelFormatError, SoftmaxLinear
from modelops_registry import Registry

ARTEFACT = "model.json"
DEFAULT_MODEL = "learning-path"


def load_request(env: dict[str, str] | None = None) -> LoadRequest:
    """The common LoadRequest, with this service's default model name."""
    return LoadRequest.from_env(DEFAULT_MODEL, env)


@dataclass(frozen=True)
class LoadedRecommender(LoadedVersion):
    """A verified learning-path model version, ready to rank."""

    scorer: SoftmaxLinear


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
    return LoadedRecommender(model=request.model, version=version, metadata=metadata, scorer=scorer)
