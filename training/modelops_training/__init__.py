"""modelops_training: train, evaluate, gate and publish models. See docs/training.md."""

from modelops_training.errors import TrainingInputError
from modelops_training.learning_path_trainer import LearningPathParams
from modelops_training.models import ARTEFACT_NAME, XGBParams
from modelops_training.pipeline import train

__all__ = ["ARTEFACT_NAME", "LearningPathParams", "TrainingInputError", "XGBParams", "train"]
