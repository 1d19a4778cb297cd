"""`train()`: data -> features -> split -> fit -> evaluate -> gates -> publish.

The model-specific steps (data contract, features, algorithm, metrics,
fairness, base comparison) live in one trainer module per model
(trainers.py); this module does what all models share.

The function returns (and `modelops train` prints) one JSON-able dict:
{"model", "version", "status", "metrics", "gates", "registry"}. A candidate
that fails a gate is still published, with status "rejected", so the
evidence is kept; `@latest-approved` never resolves to it.

The model's default gates (its trainer's `default_gates`) apply unless a
given gate of the same name overrides one, or the caller passes
`default_gates=False`: with neither gates nor defaults a candidate is
approved unchecked, which has to be asked for explicitly.
"""

from __future__ import annotations

import subprocess
import time
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import modelops_features
from modelops_registry import STATUS_APPROVED, STATUS_REJECTED, Registry
from modelops_training import gates as gate_rules
from modelops_training import metrics, trainers
from modelops_training.trainers import SUPPORTED_MODELS

__all__ = ["SUPPORTED_MODELS", "train"]


def train(
    model: str = "churn",
    data: str = "synthetic:20000",
    registry_uri: str | None = None,
    base_version: str | None = None,
    gates: dict[str, Any] | None = None,
    seed: int = 0,
    params: Any = None,
    retraining: dict[str, Any] | None = None,
    default_gates: bool = True,
) -> dict[str, Any]:
    """Train, evaluate and publish one candidate; see the module docstring.

    `retraining`, when this run is an operator's retraining Job, is recorded
    as metadata["retraining"] ({"job", "owner_uid", "base_version", "reason",
    "drift"}): the operator finds the candidate its Job produced by the Job's
    name and the ModelDeployment's uid (owner_uid; metadata without it, from
    Jobs started before the uid was recorded, is matched by name alone).

    `model` picks the trainer (trainers.py); `params` are that trainer's
    (XGBParams for churn, LearningPathParams for learning-path; None = defaults).
    Raises TrainingInputError (bad data, gates or options) or a RegistryError
    before anything is published.
    """
    started = time.monotonic()
    trainer = trainers.get(model)
    defaults = (
        gate_rules.parse(trainer.default_gates, trainer.gateable_metrics) if default_gates else {}
    )
    gate_spec, from_defaults = gate_rules.with_defaults(
        gate_rules.parse(gates, trainer.gateable_metrics), defaults
    )
    registry = Registry.from_uri(registry_uri)
    # Resolve the base first: a typo in --base-version should fail in a
    # second, not after training.
    base = registry.resolve(model, base_version) if base_version else None

    candidate = trainer.fit(data, seed, params, registry, model, base)
    gate_results = metrics.rounded(
        gate_rules.evaluate(
            gate_spec,
            candidate.metrics,
            candidate.comparison,
            baseline=(trainer.primary_metric, trainer.baseline_metric),
        )
    )
    for key in from_defaults:
        gate_results[key]["default"] = True
    status = STATUS_APPROVED if gate_rules.all_passed(gate_results) else STATUS_REJECTED
    meta = {
        "algorithm": candidate.algorithm,
        "dataset": candidate.dataset,
        "metrics": candidate.metrics,
        "features": {**candidate.features, "package_version": features_version()},
        "profile": candidate.profile,
        "gates": gate_results,
        "gate_spec": gate_spec,
        "comparison": candidate.comparison,
        "status": status,
        "git_commit": git_commit(),
        "training": {**candidate.training, "seconds": round(time.monotonic() - started, 3)},
    }
    if retraining:
        meta["retraining"] = {**retraining, "base_version": base}
    version = registry.publish(model, candidate.artefacts, meta)
    return {
        "model": model,
        "version": version,
        "status": status,
        "metrics": candidate.metrics,
        "gates": gate_results,
        "registry": registry.uri,
    }


def features_version() -> str:
    try:
        return importlib_metadata.version("modelops-features")
    except importlib_metadata.PackageNotFoundError:
        return modelops_features.__version__


def git_commit() -> str | None:
    """The commit of the training code, when it runs from a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit or None
