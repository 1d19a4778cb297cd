"""Small trained models in tmp file:// registries, for the serving and e2e layers.

`churn_model` and `lp_model` (session) train each model once on a small
synthetic set and publish it; `copy_registry` gives a test its own registry
to publish into. A missing part of the workspace fails the test with how to
get it; nothing skips.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

# Small sets: the tests check serving, not model quality, and CI has 2 cores.
TRAIN_DATA = {"churn": "synthetic:3000:1", "learning-path": "synthetic:4000:1"}


@dataclass(frozen=True)
class TrainedModel:
    uri: str
    root: Path
    model: str
    version: str


def train_model(root: Path, model: str) -> TrainedModel:
    """`model` trained on its small synthetic set and published to a file:// registry at `root`."""
    try:
        from modelops_training import train
    except ImportError as exc:  # a missing part fails loudly, never skips
        pytest.fail(
            f"modelops_training.train is needed to build the test model ({exc}); "
            "it is part of this workspace: run tools/bootstrap.sh"
        )
    from modelops_training import XGBParams

    uri = f"file://{root}"
    # Few trees for churn's XGBoost (the learning-path model takes no XGBParams).
    # Small fast models sit at their logistic baseline's level (this one 0.008
    # AUC below it, others up to 0.03), too close to the default baseline gate
    # (0.01) to rely on, so that gate is widened: the model must be approved
    # (the e2e tests resolve @latest-approved and `modelops serve --version
    # latest` serves only approved versions), but its quality is not tested here.
    options = (
        {
            "base_version": None,
            "params": XGBParams(n_estimators=30),
            "gates": {"maxBaselineRegression": 0.05},
        }
        if model == "churn"
        else {}
    )
    result = train(model=model, data=TRAIN_DATA[model], registry_uri=uri, seed=0, **options)
    if result["status"] != "approved":
        pytest.fail(f"the {model} test model was rejected by its gates: {result['gates']}")
    return TrainedModel(uri=uri, root=root, model=model, version=str(result["version"]))


@pytest.fixture(scope="session")
def churn_model(tmp_path_factory: pytest.TempPathFactory) -> TrainedModel:
    """One churn model trained on a small synthetic set, published to a tmp registry."""
    return train_model(tmp_path_factory.mktemp("registry"), "churn")


@pytest.fixture(scope="session")
def lp_model(tmp_path_factory: pytest.TempPathFactory) -> TrainedModel:
    """One learning-path model trained on a small synthetic set, in its own tmp registry."""
    return train_model(tmp_path_factory.mktemp("lp-registry"), "learning-path")


def copy_registry(model: TrainedModel, dest: Path) -> TrainedModel:
    shutil.copytree(model.root, dest, dirs_exist_ok=True)
    return TrainedModel(uri=f"file://{dest}", root=dest, model=model.model, version=model.version)


def artefact_path(model: TrainedModel) -> Path:
    return model.root / model.model / model.version / "model.ubj"
