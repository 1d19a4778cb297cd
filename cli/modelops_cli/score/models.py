"""The model a run scores with, behind one small protocol (churn, learning-path).

Loading is the bento's own code (`modelops_bentos.<service>.model`): the
registry's verified read (sha256 against metadata.json), the feature-schema
hash and model-column checks, and for churn the very `DensePredictor` that
answers /predict. Features come from `modelops_features` (the DataFrame
readers training uses). Nothing here re-implements a check or a feature.

Those bento modules import no BentoML (an import-linter contract keeps it so),
so a scoring image needs the bentos' code but not BentoML.

Two steps per chunk, so the engine can prepare the next chunk while this one
is predicted: `matrix(raw)` (features, numpy) and `predict(matrix)` (the
model; XGBoost releases the GIL).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa

from modelops_features.schema import Schema

KINDS = ("churn", "learning-path")
DEFAULT_TOP_K = 3


class ModelUnavailable(ValueError):
    """The model code or version cannot be used here (the message says why and what to do)."""


class BatchModel(Protocol):
    model: str
    version: str
    schema_hash: str  # the feature schema the model was trained with
    raw_schema: Schema
    id_column: str  # the id column of this kind's raw data (a default for --id-column)

    def output_fields(self) -> list[pa.Field]: ...

    def matrix(self, raw: pd.DataFrame) -> np.ndarray: ...

    def predict(self, matrix: np.ndarray) -> dict[str, pa.Array]: ...


@dataclass
class ChurnBatch:
    """P(churn) per row: the churn bento's loaded model and predictor."""

    loaded: Any  # modelops_bentos.churn.model.LoadedModel

    def __post_init__(self) -> None:
        from modelops_features import churn

        self._features = churn
        self.model = self.loaded.model
        self.version = self.loaded.version
        self.schema_hash = churn.FEATURE_SCHEMA.content_hash()
        self.raw_schema = churn.RAW_SCHEMA
        self.id_column = churn.ID_COLUMN

    def output_fields(self) -> list[pa.Field]:
        # float32: the model's own output, as /predict computes it before JSON.
        return [pa.field("churn_probability", pa.float32(), nullable=False)]

    def matrix(self, raw: pd.DataFrame) -> np.ndarray:
        arrays = self._features.feature_arrays_from_frame(raw)
        return self._features.model_matrix_from_arrays(arrays)

    def predict(self, matrix: np.ndarray) -> dict[str, pa.Array]:
        probabilities = self.loaded.predict(matrix).reshape(-1)
        return {"churn_probability": pa.array(probabilities, pa.float32())}


RECOMMENDATION = pa.struct(
    [
        pa.field("module", pa.string(), nullable=False),
        pa.field("score", pa.float64(), nullable=False),
        pa.field("rank", pa.int32(), nullable=False),
    ]
)


@dataclass
class LearningPathBatch:
    """The top-k next modules per student: /recommend's answer, one row per student."""

    loaded: Any  # modelops_bentos.learning_path.model.LoadedRecommender
    top_k: int = DEFAULT_TOP_K

    def __post_init__(self) -> None:
        from modelops_features import learning_path

        self._features = learning_path
        self.model = self.loaded.model
        self.version = self.loaded.version
        self.schema_hash = learning_path.FEATURE_SCHEMA.content_hash()
        self.raw_schema = learning_path.RAW_SCHEMA
        self.id_column = learning_path.ID_COLUMN
        modules = len(learning_path.MODULES)
        if not 1 <= self.top_k <= modules:
            raise ModelUnavailable(f"--top-k must be between 1 and {modules}, got {self.top_k}")
        self._modules = np.array(learning_path.MODULES, dtype=object)

    def output_fields(self) -> list[pa.Field]:
        return [pa.field("recommendations", pa.list_(RECOMMENDATION), nullable=False)]

    def matrix(self, raw: pd.DataFrame) -> np.ndarray:
        arrays = self._features.feature_arrays_from_frame(raw)
        return self._features.model_matrix_from_arrays(arrays)

    def predict(self, matrix: np.ndarray) -> dict[str, pa.Array]:
        probabilities = self.loaded.scorer.proba(matrix)
        return {"recommendations": top_k_array(probabilities, self._modules, self.top_k)}


def top_k_array(probabilities: np.ndarray, modules: np.ndarray, k: int) -> pa.Array:
    """Per row, the k best modules as [{module, score, rank}], as /recommend ranks them.

    Scores are renormalised over the catalogue and ties keep catalogue order
    (a stable sort), exactly the rules of the service's `top_k` without candidates.
    """
    n = len(probabilities)
    totals = probabilities.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = np.where(totals > 0, probabilities / totals, 1.0 / probabilities.shape[1])
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    chosen = np.take_along_axis(scores, order, axis=1)
    items = pa.StructArray.from_arrays(
        [
            pa.array(modules[order].reshape(-1), pa.string()),
            pa.array(chosen.reshape(-1), pa.float64()),
            pa.array(np.tile(np.arange(1, k + 1, dtype=np.int32), n), pa.int32()),
        ],
        fields=list(RECOMMENDATION),
    )
    offsets = pa.array(np.arange(0, (n + 1) * k, k, dtype=np.int32), pa.int32())
    return pa.ListArray.from_arrays(offsets, items, type=pa.list_(RECOMMENDATION))


def raw_contract(kind: str) -> tuple[Schema, str]:
    """(raw schema, default id column) of a model kind, without loading a model."""
    if kind == "churn":
        from modelops_features import churn

        return churn.RAW_SCHEMA, churn.ID_COLUMN
    if kind == "learning-path":
        from modelops_features import learning_path

        return learning_path.RAW_SCHEMA, learning_path.ID_COLUMN
    raise ModelUnavailable(f"--model {kind!r}: known models are {', '.join(KINDS)}")


def load(
    kind: str, registry_uri: str, model: str, version: str, *, threads: int, top_k: int | None
) -> BatchModel:
    """The verified model version `version` of `model`, as a BatchModel of `kind`."""
    if kind not in KINDS:
        raise ModelUnavailable(f"--model {kind!r}: known models are {', '.join(KINDS)}")
    if top_k is not None and kind != "learning-path":
        raise ModelUnavailable(f"--top-k applies to --model learning-path only, not {kind}")
    try:
        from modelops_bentos.common.loader import LoadRequest, ModelLoadError
    except ImportError as exc:
        raise ModelUnavailable(
            f"modelops score loads models with the bentos' loader code, which is missing ({exc}): "
            "install the modelops-bentos distribution (in this repository: tools/bootstrap.sh)"
        ) from exc
    request = LoadRequest(registry_uri=registry_uri, model=model, ref=version)
    if threads > 0:
        # XGBoost caps nthread at OpenMP's limit, which libgomp reads from
        # OMP_NUM_THREADS once, when XGBoost loads it (images set it to 1).
        os.environ["OMP_NUM_THREADS"] = str(threads)
    try:
        if kind == "churn":
            from modelops_bentos.churn.model import load_model

            loaded = load_model(request)
            # Batch throughput wants every core it may use (0: XGBoost's default,
            # within OMP_NUM_THREADS and the cgroup CPU quota); the bento pins 1.
            loaded.booster.set_param({"nthread": threads})
            return ChurnBatch(loaded)
        from modelops_bentos.learning_path.model import load_recommender

        return LearningPathBatch(load_recommender(request), top_k or DEFAULT_TOP_K)
    except ModelLoadError as exc:
        raise ModelUnavailable(str(exc)) from exc
