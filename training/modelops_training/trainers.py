"""The model kinds `modelops train --model` knows, one trainer module each.

Trainers are imported on first use: training churn never imports the
learning-path code and vice versa (and XGBoost is only loaded for churn).
"""

from __future__ import annotations

import importlib

from modelops_training.candidate import Trainer
from modelops_training.errors import TrainingInputError

# model name -> module holding a module-level `TRAINER`
TRAINER_MODULES: dict[str, str] = {
    "churn": "modelops_training.churn_trainer",
    "learning-path": "modelops_training.learning_path_trainer",
}
SUPPORTED_MODELS = tuple(TRAINER_MODULES)


def get(model: str) -> Trainer:
    try:
        module = TRAINER_MODULES[model]
    except KeyError:
        raise TrainingInputError(
            f"unknown model {model!r}; supported: {list(SUPPORTED_MODELS)}"
        ) from None
    return importlib.import_module(module).TRAINER
